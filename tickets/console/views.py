"""The live console's HTTP side: the page, the ticket panel's JSON and the action endpoint. Technicians only:
anonymous users are sent to log in, everyone else gets a 403 with a message."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from tickets.console.actions import console_action
from tickets.console.selectors import console_me, console_page_config, console_ticket_get, ticket_panel
from tickets.models import Priority, Status


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
    }
    return render(request, "console/console.html", context)


@require_GET
@never_cache
@technician_required(json=True)
def ticket_panel_view(request: HttpRequest, number: int, *, me: dict[str, Any]) -> HttpResponse:
    ticket = console_ticket_get(number=number)
    if ticket is None:
        return JsonResponse({"ok": False, "error": _("No ticket has that number.")}, status=404)
    return JsonResponse(ticket_panel(ticket=ticket), json_dumps_params={"ensure_ascii": False})


@require_POST
@technician_required(json=True)
def ticket_action_view(request: HttpRequest, number: int, action: str, *, me: dict[str, Any]) -> HttpResponse:
    result = console_action(
        user=request.user, action=action, number=number, data=request.POST, language=translation.get_language()
    )
    return JsonResponse(result.as_json(), status=result.http_status, json_dumps_params={"ensure_ascii": False})
