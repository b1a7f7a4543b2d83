"""Who is on call: the rotation arithmetic, on plain values (no models, no clock of its own).

A rotation hands off at a local time of day in its time zone every `shift_days` days from `starts_on`, walking its
members in order. Of a layer's rotations, the one whose first handoff is the latest one already passed is in force
(a new rota replaces the old from its first handoff). An override (someone covers the layer for a period) wins over
every rotation; of two overlapping overrides the later created wins.

Handoffs are computed as local wall-clock times and turned into instants through zoneinfo, so a daily 08:00 handoff
stays at 08:00 across a daylight-saving change (that day's shift is 23 or 25 hours long). A handoff time that does
not exist on a spring-forward day happens as if the clocks had not moved yet (zoneinfo's fold=0). Every instant
returned is in UTC; comparisons are made in UTC, never on wall clocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

UTC = dt.UTC
_INSTANT = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class RotationSpec:
    """One rotation of a layer. `members` are user ids in rotation order (a user may appear more than once);
    `key` breaks ties between rotations that start at the same instant (the higher wins)."""

    members: tuple[int, ...]
    starts_on: dt.date
    handoff: dt.time
    shift_days: int
    tz: ZoneInfo
    key: int = 0

    def __post_init__(self) -> None:
        if self.shift_days < 1:
            raise ValueError("A shift lasts at least one day.")
        if not self.members:
            raise ValueError("A rotation needs at least one member.")

    @property
    def first_handoff(self) -> dt.datetime:
        return self.handoff_at(0)

    def handoff_at(self, index: int) -> dt.datetime:
        """The instant shift number `index` begins (shift 0 begins at the first handoff)."""
        day = self.starts_on + dt.timedelta(days=index * self.shift_days)
        return dt.datetime.combine(day, self.handoff.replace(tzinfo=None), tzinfo=self.tz).astimezone(UTC)

    def index_at(self, at: dt.datetime) -> int | None:
        """The number of the shift under way at `at`, None before the first handoff."""
        at = at.astimezone(UTC)
        if at < self.first_handoff:
            return None
        days = (at.astimezone(self.tz).date() - self.starts_on).days
        index = max(days // self.shift_days, 0)
        # The local date gives the right shift or its neighbour (a handoff later in the day); settle it in UTC.
        while self.handoff_at(index) > at:
            index -= 1
        while self.handoff_at(index + 1) <= at:
            index += 1
        return index

    def member_of(self, index: int) -> int:
        return self.members[index % len(self.members)]


@dataclass(frozen=True)
class Cover:
    """An override: `user` holds the layer over [start, end). The higher `key` wins where covers overlap."""

    user: int
    start: dt.datetime
    end: dt.datetime
    key: int = 0


@dataclass(frozen=True)
class Slot:
    """A stretch of one layer held by one user: a rotation shift (or the part of it no override covers) or an
    override. `start` and `end` are the slot's real bounds, not cut to the window asked about."""

    user: int
    start: dt.datetime
    end: dt.datetime
    override: bool


# Which shift or override a piece of the timeline comes from: adjacent pieces of the same source are one slot.
_Source = tuple[str, int, int]


def _rotation_windows(rotations: Iterable[RotationSpec]) -> list[tuple[RotationSpec, dt.datetime, dt.datetime | None]]:
    """Each rotation with the period it is in force: from its first handoff until the next rotation's."""
    ordered = sorted(rotations, key=lambda rotation: (rotation.first_handoff, rotation.key))
    windows: list[tuple[RotationSpec, dt.datetime, dt.datetime | None]] = []
    for position, rotation in enumerate(ordered):
        until = ordered[position + 1].first_handoff if position + 1 < len(ordered) else None
        if until is None or until > rotation.first_handoff:
            windows.append((rotation, rotation.first_handoff, until))
    return windows


def _rotation_pieces(
    rotations: Iterable[RotationSpec], start: dt.datetime, end: dt.datetime
) -> list[tuple[dt.datetime, dt.datetime, int, _Source]]:
    pieces = []
    for rotation, active_from, active_until in _rotation_windows(rotations):
        if active_until is not None and active_until <= start:
            continue
        if active_from >= end:
            continue
        index = rotation.index_at(max(start, active_from))
        assert index is not None  # max(start, active_from) is at or after the first handoff
        while True:
            begins = max(rotation.handoff_at(index), active_from)
            ends = rotation.handoff_at(index + 1)
            if active_until is not None:
                ends = min(ends, active_until)
            if begins >= end or begins >= ends:
                break
            pieces.append((begins, ends, rotation.member_of(index), ("rotation", rotation.key, index)))
            index += 1
    return pieces


def layer_slots(
    *, rotations: Sequence[RotationSpec], covers: Sequence[Cover], start: dt.datetime, end: dt.datetime
) -> list[Slot]:
    """The slots of one layer that overlap [start, end), in time order, overrides applied. Gaps (before the first
    rotation starts, or a layer without rotations) have no slot. Pass every cover that may touch the rotation shifts
    overlapping the window (shift bounds reach up to one shift length beyond it)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return []
    base = _rotation_pieces(rotations, start, end)
    # Every cover counts, not only those overlapping the shifts: a slot's real bounds can lie beyond them (an
    # override running past the last shift ends where a later override takes over).
    in_utc = [Cover(cover.user, cover.start.astimezone(UTC), cover.end.astimezone(UTC), cover.key) for cover in covers]
    edges = {start, end}
    for begins, ends, _user, _source in base:
        edges.update((begins, ends))
    for cover in in_utc:
        edges.update((cover.start, cover.end))
    points = sorted(edges)

    timeline: list[tuple[dt.datetime, dt.datetime, int, bool, _Source]] = []
    for begins, ends in zip(points, points[1:], strict=False):
        holder = _holder_of_piece(base, in_utc, begins)
        if holder is None:
            continue
        user, override, source = holder
        if timeline and timeline[-1][4] == source and timeline[-1][1] == begins:
            timeline[-1] = (timeline[-1][0], ends, user, override, source)
        else:
            timeline.append((begins, ends, user, override, source))
    return [
        Slot(user=user, start=begins, end=ends, override=override)
        for begins, ends, user, override, _source in timeline
        if begins < end and ends > start
    ]


def _holder_of_piece(
    base: Sequence[tuple[dt.datetime, dt.datetime, int, _Source]], covers: Sequence[Cover], at: dt.datetime
) -> tuple[int, bool, _Source] | None:
    covering = [cover for cover in covers if cover.start <= at < cover.end]
    if covering:
        winner = max(covering, key=lambda cover: cover.key)
        return winner.user, True, ("override", winner.key, 0)
    for begins, ends, user, source in base:
        if begins <= at < ends:
            return user, False, source
    return None


def layer_holder(*, rotations: Sequence[RotationSpec], covers: Sequence[Cover], at: dt.datetime) -> int | None:
    """The user id holding the layer at the instant `at`, None when nobody does. A handoff at 08:00 gives the next
    person the layer from 08:00:00 exactly."""
    slots = layer_slots(rotations=rotations, covers=covers, start=at, end=at + _INSTANT)
    return slots[0].user if slots else None
