"""The live console's HTTP side: the page, the ticket panel's JSON and the action endpoint. Technicians only:
anonymous users are sent to log in, everyone else gets a 403 with a message."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from helpdesk.middleware import accepts_uploads
from tickets.console.actions import console_action
from tickets.console.forms import ConsoleTicketForm
from tickets.console.selectors import (
    agency_member_list,
    console_me,
    console_page_config,
    console_row_get,
    console_ticket_get,
    ticket_panel,
)
from tickets.exceptions import NotAllowed, TicketError
from tickets.models import Priority, Status
from tickets.search import QUERY_MAX_LENGTH, ticket_search
from tickets.selectors import ticket_row
from tickets.services import ticket_open

TICKET_FORM_IDS = "nt-%s"


def _json(data: dict[str, Any], status: int = 200) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def technician_required(*, json: bool) -> Callable:
    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            me = console_me(user=request.user)
            if me is None:
                message = _("Only technicians can use the console.")
                if json:
                    return JsonResponse({"ok": False, "error": message, "ticket": None}, status=403)
                raise PermissionDenied(message)
            return view(request, *args, me=me, **kwargs)

        return wrapped

    return decorator


@require_GET
@never_cache
@ensure_csrf_cookie
@technician_required(json=False)
def console_page(request: HttpRequest, *, me: dict[str, Any]) -> HttpResponse:
    config = console_page_config(me=me, language=translation.get_language() or "en")
    context = {
        "console_config": config,
        # A technician moves a ticket to any of these; "new" is only where tickets start, "closed" is the requester's.
        "statuses": [(value, label) for value, label in Status.choices if value not in (Status.NEW, Status.CLOSED)],
        "priorities": Priority.choices,
        "ticket_form": ConsoleTicketForm(auto_id=TICKET_FORM_IDS),
        "search_max_length": QUERY_MAX_LENGTH,
    }
    return render(request, "console/console.html", context)


@require_GET
@never_cache
@technician_required(json=True)
def ticket_panel_view(request: HttpRequest, number: int, *, me: dict[str, Any]) -> HttpResponse:
    ticket = console_ticket_get(number=number)
    if ticket is None:
        return JsonResponse({"ok": False, "error": _("No ticket has that number.")}, status=404)
    return _json(ticket_panel(ticket=ticket))


@require_POST
@technician_required(json=True)
def ticket_action_view(request: HttpRequest, number: int, action: str, *, me: dict[str, Any]) -> HttpResponse:
    result = console_action(
        user=request.user, action=action, number=number, data=request.POST, language=translation.get_language()
    )
    return _json(result.as_json(), status=result.http_status)


@require_POST
@accepts_uploads
@technician_required(json=True)
def ticket_new_view(request: HttpRequest, *, me: dict[str, Any]) -> HttpResponse:
    """Open a ticket for a caller, a visitor or an e-mail's sender; it reaches every console like any other."""
    form = ConsoleTicketForm(request.POST, request.FILES, auto_id=TICKET_FORM_IDS)
    if not form.is_valid():
        errors = {field: [str(message) for message in messages] for field, messages in form.errors.items()}
        return _json({"ok": False, "error": _("Correct the marked fields."), "errors": errors}, status=400)
    data = form.cleaned_data
    try:
        ticket = ticket_open(
            service=data["service"],
            subject=data["subject"],
            description=data["description"],
            impact=data["impact"],
            urgency=data["urgency"],
            channel=data["channel"],
            agency=data["agency"],
            requester=data["requester"],
            requester_name="" if data["requester"] else data["requester_name"],
            contact_phone=data["contact_phone"],
            actor=cast(User, request.user),
            attachments=data["attachments"],
        )
    except TicketError as error:
        status = 403 if isinstance(error, NotAllowed) else 400
        return _json({"ok": False, "error": error.message, "errors": {}}, status=status)
    return _json({"ok": True, "ticket": console_row_get(number=ticket.number)})


@require_GET
@technician_required(json=True)
def agency_members_view(request: HttpRequest, agency_id: int, *, me: dict[str, Any]) -> HttpResponse:
    return _json({"members": agency_member_list(agency_id=agency_id)})


@require_GET
@never_cache
@technician_required(json=True)
def search_view(request: HttpRequest, *, me: dict[str, Any]) -> HttpResponse:
    query = request.GET.get("q", "")
    found = ticket_search(user=request.user, query=query)
    return _json({"query": query, "results": [ticket_row(ticket) for ticket in found]})
