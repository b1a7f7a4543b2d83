from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from helpdesk.health import healthz
from tickets.forms import LoginForm

urlpatterns = [
    path("", include("tickets.urls")),
    # django.contrib.auth.urls without the password reset pages: they need outgoing mail, which is not configured.
    path("accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("console/", include("tickets.console.urls")),
    path("oncall/", include("escalation.urls")),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
