"""Reads of the escalation app: who is on call, and how to reach a technician."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Prefetch

from escalation.models import ContactProfile, Layer, OnCallOverride, Rotation, RotationMember
from escalation.oncall import Cover, RotationSpec, Slot, layer_holder, layer_slots
from tickets.models import Team
from tickets.phones import phone_e164
from tickets.selectors import by_name, user_is_technician

_INSTANT = dt.timedelta(microseconds=1)
LAYER_ORDER = {layer: position for position, layer in enumerate(Layer.values)}


@dataclass(frozen=True)
class Shift:
    """`user` holds `layer` ("primary" or "secondary") over [start, end), in UTC; `override` when it is an
    override rather than a rotation shift."""

    user: User
    layer: str
    start: dt.datetime
    end: dt.datetime
    override: bool

    @property
    def layer_label(self) -> str:
        return str(Layer(self.layer).label)


@dataclass(frozen=True)
class LayerOnCall:
    layer: str
    label: str
    now: Shift | None
    shifts: list[Shift]


@dataclass(frozen=True)
class TeamOnCall:
    team: Team
    layers: list[LayerOnCall]


@dataclass(frozen=True)
class _Schedule:
    rotations: list[RotationSpec]
    covers: list[Cover]


def _schedules(
    *, team_ids: Iterable[int], start: dt.datetime, end: dt.datetime, layer: str | None = None
) -> dict[tuple[int, str], _Schedule]:
    """The rotations and overrides of the teams' layers that can bear on [start, end), keyed by (team id, layer).
    Rotations without members are not staffed yet and count as absent."""
    rotations = Rotation.objects.filter(team_id__in=team_ids).prefetch_related(
        Prefetch("members", queryset=RotationMember.objects.order_by("position", "id"))
    )
    overrides = OnCallOverride.objects.filter(team_id__in=team_ids)
    if layer is not None:
        rotations, overrides = rotations.filter(layer=layer), overrides.filter(layer=layer)
    schedules: dict[tuple[int, str], _Schedule] = defaultdict(lambda: _Schedule([], []))
    longest = 1
    for rotation in rotations:
        members = [member.user_id for member in rotation.members.all()]
        if members:
            schedules[(rotation.team_id, rotation.layer)].rotations.append(rotation.spec(members))
            longest = max(longest, rotation.shift_days)
    # A shift overlapping the window reaches at most one shift (plus a daylight-saving hour) beyond it.
    reach = dt.timedelta(days=longest + 1)
    for override in overrides.filter(starts_at__lt=end + reach, ends_at__gt=start - reach):
        cover = Cover(user=override.user_id, start=override.starts_at, end=override.ends_at, key=override.pk)
        schedules[(override.team_id, override.layer)].covers.append(cover)
    return schedules


def _shifts(slots_by_layer: dict[tuple[int, str], list[Slot]]) -> dict[int, list[Shift]]:
    users = User.objects.in_bulk({slot.user for slots in slots_by_layer.values() for slot in slots})
    by_team: dict[int, list[Shift]] = defaultdict(list)
    for (team_id, layer), slots in slots_by_layer.items():
        by_team[team_id].extend(
            Shift(user=users[slot.user], layer=layer, start=slot.start, end=slot.end, override=slot.override)
            for slot in slots
        )
    for shifts in by_team.values():
        shifts.sort(key=lambda shift: (shift.start, LAYER_ORDER[shift.layer]))
    return by_team


def _team_shifts(*, team_ids: Iterable[int], start: dt.datetime, end: dt.datetime) -> dict[int, list[Shift]]:
    schedules = _schedules(team_ids=team_ids, start=start, end=end)
    slots = {
        key: layer_slots(rotations=schedule.rotations, covers=schedule.covers, start=start, end=end)
        for key, schedule in schedules.items()
    }
    return _shifts(slots)


def user_sees_oncall(user: User | AnonymousUser) -> bool:
    """Technicians and staff users (duty managers, administrators) see the rota; agency staff do not."""
    return user.is_authenticated and user.is_active and (user.is_staff or user_is_technician(user))


def oncall_user(*, team_id: int, at: dt.datetime, layer: str = Layer.PRIMARY) -> User | None:
    """Who holds the team's layer ("primary" or "secondary") at the instant `at`: the override covering `at` if any,
    else the rotation in force. None when nobody does."""
    if layer not in LAYER_ORDER:
        raise ValueError(f"Unknown on-call layer {layer!r}.")
    schedule = _schedules(team_ids=[team_id], start=at, end=at + _INSTANT, layer=layer).get((team_id, layer))
    if schedule is None:
        return None
    user_id = layer_holder(rotations=schedule.rotations, covers=schedule.covers, at=at)
    return User.objects.filter(pk=user_id).first() if user_id is not None else None


def oncall_shifts(*, team_id: int, start: dt.datetime, end: dt.datetime) -> list[Shift]:
    """The team's shifts of both layers that overlap [start, end), by start then layer, with their real bounds (the
    shift under way at `start` begins before it)."""
    return _team_shifts(team_ids=[team_id], start=start, end=end).get(team_id, [])


def oncall_board(*, at: dt.datetime, days: int = 14, viewer: User | None = None) -> list[TeamOnCall]:
    """Every team with, per layer, who is on call at `at` and the shifts of the next `days` days; the viewer's own
    teams come first."""
    teams = list(by_name(Team.objects.all()))
    if viewer is not None:
        own = set(viewer.teams.values_list("pk", flat=True))
        teams.sort(key=lambda team: team.pk not in own)
    shifts = _team_shifts(team_ids=[team.pk for team in teams], start=at, end=at + dt.timedelta(days=days))
    board = []
    for team in teams:
        layers = []
        for layer, label in Layer.choices:
            mine = [shift for shift in shifts.get(team.pk, []) if shift.layer == layer]
            now = next((shift for shift in mine if shift.start <= at < shift.end), None)
            layers.append(LayerOnCall(layer=layer, label=str(label), now=now, shifts=mine))
        board.append(TeamOnCall(team=team, layers=layers))
    return board


def oncall_shifts_for_user(*, user: User, start: dt.datetime, end: dt.datetime) -> list[tuple[Team, Shift]]:
    """A technician's own shifts over [start, end) in every team whose rota or overrides name them."""
    team_ids = set(RotationMember.objects.filter(user=user).values_list("rotation__team_id", flat=True))
    team_ids |= set(OnCallOverride.objects.filter(user=user, ends_at__gt=start).values_list("team_id", flat=True))
    teams = Team.objects.in_bulk(team_ids)
    by_team = _team_shifts(team_ids=team_ids, start=start, end=end)
    mine = [(teams[team_id], shift) for team_id, shifts in by_team.items() for shift in shifts if shift.user == user]
    return sorted(mine, key=lambda pair: (pair[1].start, pair[0].code, LAYER_ORDER[pair[1].layer]))


def contact_profile_get(*, user: User | AnonymousUser) -> ContactProfile | None:
    if not user.is_authenticated:
        return None
    return ContactProfile.objects.filter(user=user).first()


def contact_profile_by_token(*, token: str) -> ContactProfile | None:
    """The profile whose calendar token this is, for an active user; None for a revoked or unknown token."""
    if not token:
        return None
    return ContactProfile.objects.select_related("user").filter(ics_token=token, user__is_active=True).first()


def user_by_mobile(*, phone: str) -> User | None:
    """The active user whose contact profile has this mobile number, written in any form (+974..., 00974...,
    national); None for an invalid or unknown number."""
    try:
        mobile = phone_e164(phone)
    except ValueError:
        return None
    profile = ContactProfile.objects.select_related("user").filter(mobile=mobile, user__is_active=True).first()
    return profile.user if profile is not None else None
