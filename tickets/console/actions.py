"""The one adapter between a console command and the ticket services. The socket and the POST view both call
`console_action`, so a button works the same over either path; it never raises for a user's mistake, it answers
with a translated message and the HTTP status that names the kind of refusal."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, User
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tickets import services
from tickets.console.selectors import console_row_get, console_ticket_get
from tickets.exceptions import InvalidInput, TicketError
from tickets.models import Channel, Ticket
from tickets.selectors import ticket_row, user_is_technician


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    http_status: int
    error: str | None = None
    ticket: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "error": self.error, "ticket": self.ticket}


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


# Ids and versions are PostgreSQL bigints.
MAX_ID = 2**63 - 1

_FIELDS = {
    "version": gettext_lazy("ticket version"),
    "assignee": gettext_lazy("assignee"),
    "priority": gettext_lazy("priority"),
}


def bigint_or_none(value: Any) -> int | None:
    """A whole number (a JSON integer or its digits) that fits a non-negative PostgreSQL bigint, or None."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if 0 <= number <= MAX_ID else None


def _optional_integer(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    number = bigint_or_none(value)
    if number is None:
        raise InvalidInput(_("The %(field)s must be a whole number.") % {"field": _FIELDS[key]})
    return number


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = _optional_integer(data, key)
    if value is None:
        raise InvalidInput(_("The %(field)s is missing.") % {"field": _FIELDS[key]})
    return value


def _technician(user_id: int | None) -> User | None:
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise InvalidInput(_("There is no such technician."))
    return user


def _acknowledge(ticket: Ticket, user: User, version: int, data: Mapping[str, Any]) -> None:
    services.ticket_acknowledge(ticket=ticket, actor=user, channel=Channel.CONSOLE, expected_event_id=version)


def _claim(ticket: Ticket, user: User, version: int, data: Mapping[str, Any]) -> None:
    services.ticket_claim(ticket=ticket, technician=user, channel=Channel.CONSOLE, expected_event_id=version)


def _assign(ticket: Ticket, user: User, version: int, data: Mapping[str, Any]) -> None:
    assignee = _technician(_optional_integer(data, "assignee"))
    services.ticket_assign(
        ticket=ticket, actor=user, assignee=assignee, channel=Channel.CONSOLE, expected_event_id=version
    )


def _status(ticket: Ticket, user: User, version: int, data: Mapping[str, Any]) -> None:
    services.ticket_set_status(
        ticket=ticket,
        actor=user,
        status=_text(data, "status"),
        note=_text(data, "note"),
        channel=Channel.CONSOLE,
        expected_event_id=version,
    )


def _priority(ticket: Ticket, user: User, version: int, data: Mapping[str, Any]) -> None:
    services.ticket_set_priority(
        ticket=ticket,
        actor=user,
        priority=_integer(data, "priority"),
        reason=_text(data, "reason"),
        channel=Channel.CONSOLE,
        expected_event_id=version,
    )


def _comment(ticket: Ticket, user: User, version: int, data: Mapping[str, Any], *, internal: bool) -> None:
    services.ticket_comment(
        ticket=ticket,
        author=user,
        body=_text(data, "body"),
        internal=internal,
        channel=Channel.CONSOLE,
        expected_event_id=version,
    )


ACTIONS: dict[str, Callable[[Ticket, User, int, Mapping[str, Any]], None]] = {
    "acknowledge": _acknowledge,
    "claim": _claim,
    "assign": _assign,
    "status": _status,
    "priority": _priority,
    "note": partial(_comment, internal=True),
    "reply": partial(_comment, internal=False),
}


def console_action(
    *,
    user: User | AnonymousUser,
    action: str,
    number: int,
    data: Mapping[str, Any],
    language: str | None = None,
) -> ActionResult:
    """Run one console action on ticket `number` for `user`, with `data["version"]` the row version acted on."""
    override = translation.override(language) if language else contextlib.nullcontext()
    with override:
        return _run(user=user, action=action, number=number, data=data)


def _run(*, user: User | AnonymousUser, action: str, number: int, data: Mapping[str, Any]) -> ActionResult:
    # A socket keeps the user it connected with: read them again, so a technician removed from their teams or
    # deactivated since cannot act.
    current = User.objects.filter(pk=user.pk, is_active=True).first() if isinstance(user, User) else None
    if current is None or not user_is_technician(current):
        return ActionResult(ok=False, http_status=403, error=_("Only technicians can use the console."))
    user = current
    handler = ACTIONS.get(action)
    if handler is None:
        return ActionResult(ok=False, http_status=404, error=_("Unknown console action."))
    ticket = console_ticket_get(number=number)
    if ticket is None:
        return ActionResult(ok=False, http_status=404, error=_("No ticket has that number."))
    try:
        version = _integer(data, "version")
        handler(ticket, user, version, data)
    except InvalidInput as error:
        return ActionResult(ok=False, http_status=400, error=error.message, ticket=_current_row(number, ticket))
    except TicketError as error:
        # The user is a technician, so a service refuses because of the ticket's state (stale, claimed, closed, a
        # transition the lifecycle forbids): a conflict to reload and retry, not a missing permission.
        return ActionResult(ok=False, http_status=409, error=error.message, ticket=_current_row(number, ticket))
    return ActionResult(ok=True, http_status=200, ticket=console_row_get(number=number))


def _current_row(number: int, fallback: Ticket) -> dict[str, Any]:
    return console_row_get(number=number) or ticket_row(fallback)
