"""The SLA clock of one ticket, as pure functions of values and `now`.

A target is working time on the policy's calendar, counted from the moment the ticket opened, less the time the
clock was paused (waiting on the requester, or resolved before a reopen). So a due time is the instant at which
the target's worth of unpaused working time has passed since the opening; a pause moves it by the working time the
pause covered, a pause after the due time moves nothing, and a new priority re-targets from the opening time with
the same pauses. `tickets.services` asks these functions for the new clock inside its transaction and stores it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from escalation.calendar import WorkingCalendar

Pause = tuple[dt.datetime, dt.datetime]

# The resolution warning fires when this share of the resolution target is used.
WARNING_NUMERATOR, WARNING_DENOMINATOR = 3, 4


@dataclass(frozen=True)
class ClockPolicy:
    """The targets a ticket's clock runs to, and the calendar they are counted on."""

    first_response: dt.timedelta
    resolution: dt.timedelta
    calendar: WorkingCalendar


@dataclass(frozen=True)
class Clock:
    """A ticket's clock. While `paused_at` or `stopped_at` is set the due times keep their last value and mean
    nothing. `pauses` are the closed pauses, in order."""

    response_due_at: dt.datetime
    resolution_due_at: dt.datetime
    resolution_warning_at: dt.datetime
    responded_at: dt.datetime | None = None
    paused_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    pauses: tuple[Pause, ...] = ()

    @property
    def running(self) -> bool:
        return self.paused_at is None and self.stopped_at is None


def due_at(
    *, start: dt.datetime, target: dt.timedelta, calendar: WorkingCalendar, pauses: Sequence[Pause] = ()
) -> dt.datetime:
    """The first instant at which `target` of working time outside `pauses` has passed since `start`."""
    cursor, remaining = start, target
    for pause_start, pause_end in sorted(pauses):
        if pause_start > cursor:
            reached = calendar.add(cursor, remaining)
            if reached <= pause_start:
                return reached
            remaining -= calendar.working_time(cursor, pause_start)
        cursor = max(cursor, pause_end)
    return calendar.add(cursor, remaining)


def _deadlines(clock: Clock, *, policy: ClockPolicy, opened_at: dt.datetime, pauses: tuple[Pause, ...]) -> Clock:
    """`clock` counted on `policy` from `opened_at`, with `pauses`."""

    def due(target: dt.timedelta) -> dt.datetime:
        return due_at(start=opened_at, target=target, calendar=policy.calendar, pauses=pauses)

    return dataclasses.replace(
        clock,
        response_due_at=due(policy.first_response),
        resolution_due_at=due(policy.resolution),
        resolution_warning_at=due(policy.resolution * WARNING_NUMERATOR // WARNING_DENOMINATOR),
        pauses=pauses,
    )


def clock_start(*, policy: ClockPolicy, opened_at: dt.datetime) -> Clock:
    """The clock of a ticket opening at `opened_at`."""
    return _deadlines(
        Clock(response_due_at=opened_at, resolution_due_at=opened_at, resolution_warning_at=opened_at),
        policy=policy,
        opened_at=opened_at,
        pauses=(),
    )


def clock_pause(*, clock: Clock, now: dt.datetime) -> Clock:
    """Stop counting (the ticket waits on the requester). A paused clock stays paused from its first pause."""
    if not clock.running:
        return clock
    return dataclasses.replace(clock, paused_at=now)


def _closed(clock: Clock, now: dt.datetime) -> tuple[Pause, ...]:
    """The pauses with the open one, if any, closed at `now`."""
    if clock.paused_at is None:
        return clock.pauses
    return (*clock.pauses, (clock.paused_at, now))


def clock_resume(*, clock: Clock, policy: ClockPolicy, opened_at: dt.datetime, now: dt.datetime) -> Clock:
    """Count again from `now`: the due times move by the working time the pause covered."""
    resumed = dataclasses.replace(clock, paused_at=None)
    return _deadlines(resumed, policy=policy, opened_at=opened_at, pauses=_closed(clock, now))


def clock_retarget(*, clock: Clock, policy: ClockPolicy, opened_at: dt.datetime) -> Clock:
    """New targets (a priority change), counted from the opening with the same pauses. A paused or stopped clock
    keeps its due times until it runs again, when it is counted on the targets of that moment."""
    if not clock.running:
        return clock
    return _deadlines(clock, policy=policy, opened_at=opened_at, pauses=clock.pauses)


def clock_respond(*, clock: Clock, now: dt.datetime) -> Clock:
    """The response target is met at `now` (the first one counts)."""
    if clock.responded_at is not None:
        return clock
    return dataclasses.replace(clock, responded_at=now)


def clock_stop(*, clock: Clock, now: dt.datetime) -> Clock:
    """The ticket is resolved or cancelled: the clock stops, closing an open pause at `now`."""
    return dataclasses.replace(clock, paused_at=None, stopped_at=now, pauses=_closed(clock, now))


def clock_reopen(*, clock: Clock, policy: ClockPolicy, opened_at: dt.datetime, now: dt.datetime) -> Clock:
    """A resolved ticket is reopened: the time it spent resolved counts as a pause, so its clock continues from
    where it stopped."""
    pauses = clock.pauses if clock.stopped_at is None else (*clock.pauses, (clock.stopped_at, now))
    reopened = dataclasses.replace(clock, stopped_at=None)
    return _deadlines(reopened, policy=policy, opened_at=opened_at, pauses=pauses)


def _iso(value: dt.datetime) -> str:
    """In UTC, as the database returns instants, so the event log reads the same whatever zone `now` came in."""
    return value.astimezone(dt.UTC).isoformat()


def clock_record(*, before: Clock | None, after: Clock) -> dict[str, object]:
    """What a change did to the clock, for the `sla` entry of its event's `after` (empty when nothing changed):
    `paused_at` when it pauses, `stopped_at` when it stops, otherwise the running clock's `response_due_at`,
    `resolution_due_at` and `resolution_warning_at`; `responded_at` when the response target is met by this
    change; `pauses` lists the pauses this change closed, as [start, end] pairs."""
    if after == before:
        return {}
    record: dict[str, object] = {}
    if after.paused_at is not None:
        record["paused_at"] = _iso(after.paused_at)
    elif after.stopped_at is not None:
        record["stopped_at"] = _iso(after.stopped_at)
    else:
        record["response_due_at"] = _iso(after.response_due_at)
        record["resolution_due_at"] = _iso(after.resolution_due_at)
        record["resolution_warning_at"] = _iso(after.resolution_warning_at)
    if after.responded_at is not None and (before is None or before.responded_at is None):
        record["responded_at"] = _iso(after.responded_at)
    closed = after.pauses[len(before.pauses) :] if before is not None else after.pauses
    if closed:
        record["pauses"] = pauses_to_json(closed)
    return record


def pauses_to_json(pauses: Iterable[Pause]) -> list[list[str]]:
    return [[_iso(start), _iso(end)] for start, end in pauses]


def pauses_from_json(value: Iterable[Sequence[str]]) -> tuple[Pause, ...]:
    return tuple((dt.datetime.fromisoformat(start), dt.datetime.fromisoformat(end)) for start, end in value)
