"""The ticket lifecycle (one transition table, one guard) and the ITIL impact x urgency priority matrix."""

from __future__ import annotations

from tickets.exceptions import InvalidTransition
from tickets.models import Level, Priority, Status

TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.CANCELLED}),
    Status.ACKNOWLEDGED: frozenset({Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CANCELLED}),
    Status.IN_PROGRESS: frozenset({Status.WAITING, Status.RESOLVED, Status.CANCELLED}),
    Status.WAITING: frozenset({Status.IN_PROGRESS, Status.RESOLVED, Status.CANCELLED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
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


def transition_guard(current: str, target: str) -> None:
    """Raise InvalidTransition unless the lifecycle allows going from `current` to `target`."""
    if not transition_allowed(current, target):
        raise InvalidTransition(
            f"{InvalidTransition.default_message} ({Status(current).label} → {Status(target).label})"
        )


def priority_for(*, impact: int, urgency: int) -> int:
    return PRIORITY_MATRIX[(Level(impact), Level(urgency))]
