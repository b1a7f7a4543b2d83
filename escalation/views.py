"""The on-call pages: who is on call now and for the next two weeks (technicians and staff users only), and each
technician's calendar feed, reached without logging in through its secret, revocable link."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from escalation.contacts import contact_profile_token_regenerate
from escalation.feeds import FEED_AHEAD, oncall_calendar
from escalation.selectors import contact_profile_by_token, contact_profile_get, oncall_board, user_sees_oncall
from tickets.views import AuthenticatedHttpRequest

BOARD_DAYS = 14


def oncall_viewer_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Anonymous users are sent to log in; users who are neither technicians nor staff get a 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not user_sees_oncall(request.user):
            raise PermissionDenied(_("Only technicians and duty managers can see the on-call rota."))
        return view(request, *args, **kwargs)

    return wrapped


@require_safe
@never_cache
@oncall_viewer_required
def oncall_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    profile = contact_profile_get(user=request.user)
    feed_url = ""
    if profile is not None:
        feed_url = settings.HELPDESK_PUBLIC_URL + reverse("oncall_feed", args=[profile.ics_token])
    context = {
        "board": oncall_board(at=now, days=BOARD_DAYS, viewer=request.user),
        "days": BOARD_DAYS,
        "feed_days": FEED_AHEAD.days,
        "feed_url": feed_url,
        "now": now,
    }
    return render(request, "escalation/oncall.html", context)


@require_POST
@oncall_viewer_required
def oncall_token_regenerate(request: AuthenticatedHttpRequest) -> HttpResponse:
    had_link = contact_profile_get(user=request.user) is not None
    contact_profile_token_regenerate(user=request.user)
    if had_link:
        messages.success(request, _("Your calendar link is replaced: the old link no longer works."))
    else:
        messages.success(request, _("Your calendar link is ready. Add it to your calendar app."))
    return redirect("oncall")


@require_safe
def oncall_feed(request: HttpRequest, token: str) -> HttpResponse:
    profile = contact_profile_by_token(token=token)
    if profile is None:
        raise Http404(_("No calendar has this link. It may have been replaced by a new one."))
    calendar = oncall_calendar(profile=profile, now=timezone.now())
    response = HttpResponse(calendar, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="oncall.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
