"""The ticket lifecycle (one transition table, one guard) and the ITIL impact x urgency priority matrix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from tickets.exceptions import InvalidTransition, NotAllowed
from tickets.models import Level, Priority, Status

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Who makes a move: the support side, the requester's side (the agency's staff), or the helpdesk itself.
TECHNICIAN = "technician"
REQUESTER = "requester"
SYSTEM = "system"
_SUPPORT = frozenset({TECHNICIAN})
_EITHER = frozenset({TECHNICIAN, REQUESTER})

# For each status, the statuses it may move to and who may make each move. Closing confirms the fix, so it belongs to
# the requester; a resolved ticket they leave unanswered closes itself (tickets.services.ticket_autoclose_due). The
# requester may also reopen a fix or withdraw an open ticket; their answer to a waiting ticket resumes it through
# tickets.services.ticket_comment.
TRANSITIONS: dict[str, dict[str, frozenset[str]]] = {
    Status.NEW: {Status.ACKNOWLEDGED: _SUPPORT, Status.IN_PROGRESS: _SUPPORT, Status.CANCELLED: _EITHER},
    Status.ACKNOWLEDGED: {
        Status.IN_PROGRESS: _SUPPORT,
        Status.WAITING: _SUPPORT,
        Status.RESOLVED: _SUPPORT,
        Status.CANCELLED: _EITHER,
    },
    Status.IN_PROGRESS: {Status.WAITING: _SUPPORT, Status.RESOLVED: _SUPPORT, Status.CANCELLED: _EITHER},
    Status.WAITING: {Status.IN_PROGRESS: _SUPPORT, Status.RESOLVED: _SUPPORT, Status.CANCELLED: _EITHER},
    Status.RESOLVED: {Status.CLOSED: frozenset({REQUESTER, SYSTEM}), Status.IN_PROGRESS: _EITHER},
    Status.CLOSED: {},
    Status.CANCELLED: {},
}

# What a user is told when the move exists but is not theirs to make.
MOVE_REFUSALS: dict[str, StrOrPromise] = {
    Status.CLOSED: _(
        "Only the requester closes a ticket, by confirming the fix; a resolved ticket they leave unanswered closes "
        "itself."
    ),
}

PRIORITY_MATRIX: dict[tuple[int, int], int] = {
    (Level.HIGH, Level.HIGH): Priority.P1,
    (Level.HIGH, Level.MEDIUM): Priority.P2,
    (Level.HIGH, Level.LOW): Priority.P3,
    (Level.MEDIUM, Level.HIGH): Priority.P2,
    (Level.MEDIUM, Level.MEDIUM): Priority.P3,
    (Level.MEDIUM, Level.LOW): Priority.P4,
    (Level.LOW, Level.HIGH): Priority.P3,
    (Level.LOW, Level.MEDIUM): Priority.P4,
    (Level.LOW, Level.LOW): Priority.P4,
}


def transition_allowed(current: str, target: str) -> bool:
    return target in TRANSITIONS[current]


def transition_guard(current: str, target: str, *, mover: str | None = None) -> None:
    """Raise InvalidTransition unless the lifecycle allows going from `current` to `target`, and NotAllowed unless
    `mover` (when given) may make that move."""
    if not transition_allowed(current, target):
        raise InvalidTransition(
            f"{InvalidTransition.default_message} ({Status(current).label} → {Status(target).label})"
        )
    if mover is not None and mover not in TRANSITIONS[current][target]:
        refusal = MOVE_REFUSALS.get(target)
        raise NotAllowed(str(refusal) if refusal is not None else None)


def priority_for(*, impact: int, urgency: int) -> int:
    return PRIORITY_MATRIX[(Level(impact), Level(urgency))]
