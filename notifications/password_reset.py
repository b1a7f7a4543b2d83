"""Password reset by e-mail with Django's own views, behind a rate limit. Every request that passes the form shows the
same "check your mail" page whether or not an account has that address; the limit counts requests per client
address and per e-mail address (in Redis when configured, so every process shares it), and a request over it sends
nothing and shows that same page."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from security.ratelimit import rate_count
from security.requests import client_address


def _over_limit(kind: str, key: str, *, limit: int) -> bool:
    """Count one request against `key`; True once more than `limit` were counted in the window."""
    return rate_count(kind=kind, key=key, window=settings.HELPDESK_PASSWORD_RESET_WINDOW_SECONDS) > limit


class LimitedPasswordResetForm(PasswordResetForm):
    def __init__(self, *args: Any, client: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.fields["email"].label = _("E-mail address")

    def save(self, **kwargs: Any) -> None:  # type: ignore[override]
        email = self.cleaned_data["email"].strip().lower()
        # The address's own count first, so that a flood from many clients cannot mail one person more than this.
        if _over_limit("password-reset-email", email, limit=settings.HELPDESK_PASSWORD_RESET_PER_EMAIL):
            return
        if _over_limit("password-reset-client", self.client, limit=settings.HELPDESK_PASSWORD_RESET_PER_CLIENT):
            return
        super().save(**kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LimitedPasswordResetForm
    email_template_name = "registration/password_reset_email.txt"
    html_email_template_name = "registration/password_reset_email.html"

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "client": client_address(self.request) or ""}

    def form_valid(self, form: Any) -> HttpResponse:
        # The link in the mail names the site's public address, never the request's Host header.
        self.extra_email_context = {"public_url": settings.HELPDESK_PUBLIC_URL}
        return super().form_valid(form)


urlpatterns = [
    path("accounts/password_reset/", PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password_reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
