"""The "My settings" page and the watcher actions of the agency ticket page."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from notifications.forms import PreferenceForm, WatcherForm
from notifications.rules import DEFAULT_CHANNEL, REQUESTER_KINDS, TECHNICIAN_KINDS
from notifications.selectors import preference_get, user_language, user_mobile, watcher_candidates
from notifications.services import preference_update, watcher_add, watcher_remove
from tickets.exceptions import TicketError
from tickets.models import Ticket
from tickets.selectors import ticket_list_for, user_is_technician

# The page's language follows the one chosen for notifications, as the language switch would set it.
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600


def _kinds_for(user: User) -> tuple:
    return TECHNICIAN_KINDS if user_is_technician(user) else REQUESTER_KINDS


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_settings(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    kinds = _kinds_for(user)
    preference = preference_get(user=user)
    initial = {
        "language": user_language(user=user),
        "mobile": user_mobile(user=user),
        "sms_for_urgent": preference.sms_for_urgent,
        **{f"kind_{kind.value}": preference.channels.get(kind.value, DEFAULT_CHANNEL) for kind in kinds},
    }
    form = PreferenceForm(request.POST or None, initial=initial, kinds=kinds)
    if request.method == "POST" and form.is_valid():
        try:
            preference_update(
                user=user,
                channels=form.channels(),
                sms_for_urgent=form.cleaned_data["sms_for_urgent"],
                language=form.cleaned_data["language"],
                mobile=form.cleaned_data["mobile"],
            )
        except TicketError as error:
            form.add_error("mobile", error.message)
        else:
            language = form.cleaned_data["language"]
            with translation.override(language):
                messages.success(request, _("Your settings are saved."))
            response = redirect("my_settings")
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                samesite="Lax",
                secure=request.is_secure(),
                max_age=LANGUAGE_COOKIE_AGE,
            )
            return response
    status = 400 if request.method == "POST" else 200
    return render(request, "notifications/settings.html", {"form": form, "kinds": kinds}, status=status)


def _agency_ticket(request: HttpRequest, number: int) -> Ticket:
    ticket = get_object_or_404(ticket_list_for(request.user), number=number)
    if user_is_technician(request.user):
        raise Http404
    return ticket


@login_required
@require_POST
def watcher_add_view(request: HttpRequest, number: int) -> HttpResponse:
    ticket = _agency_ticket(request, number)
    assert isinstance(request.user, User)
    form = WatcherForm(request.POST, candidates=watcher_candidates(ticket=ticket))
    if not form.is_valid():
        messages.error(request, _("Choose a colleague of your agency."))
        return redirect("ticket_detail", number=number)
    try:
        watcher_add(ticket=ticket, actor=request.user, user=form.cleaned_data["user"], now=timezone.now())
    except TicketError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Your colleague will be told of this ticket's changes."))
    return redirect("ticket_detail", number=number)


@login_required
@require_POST
def watcher_remove_view(request: HttpRequest, number: int, user_id: int) -> HttpResponse:
    ticket = _agency_ticket(request, number)
    assert isinstance(request.user, User)
    watcher = get_object_or_404(User, pk=user_id)
    try:
        watcher_remove(ticket=ticket, actor=request.user, user=watcher)
    except TicketError as error:
        messages.error(request, error.message)
    return redirect("ticket_detail", number=number)
