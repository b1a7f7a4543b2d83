"""The rotation arithmetic on plain values: handoffs to the minute, shift lengths, daylight saving, overrides."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from escalation.oncall import Cover, RotationSpec, layer_holder, layer_slots

QATAR = ZoneInfo("Asia/Qatar")
NEW_YORK = ZoneInfo("America/New_York")
UTC = dt.UTC


def qatar(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=QATAR)


def daily(members=(1, 2, 3), **kwargs) -> RotationSpec:
    values = {"starts_on": dt.date(2026, 3, 1), "handoff": dt.time(8, 0), "shift_days": 1, "tz": QATAR, "key": 1}
    return RotationSpec(members=tuple(members), **{**values, **kwargs})


def holder(rotations, at, covers=()):
    return layer_holder(rotations=list(rotations), covers=list(covers), at=at)


def test_the_next_person_holds_the_layer_from_the_handoff_minute():
    rotation = daily()
    assert holder([rotation], qatar(2026, 3, 2, 7, 59)) == 1
    assert holder([rotation], qatar(2026, 3, 2, 7, 59, 59, 999999)) == 1
    assert holder([rotation], qatar(2026, 3, 2, 8, 0)) == 2
    assert holder([rotation], qatar(2026, 3, 3, 7, 59)) == 2
    assert holder([rotation], qatar(2026, 3, 3, 8, 0)) == 3
    assert holder([rotation], qatar(2026, 3, 4, 8, 0)) == 1  # back to the first member


def test_nobody_is_on_call_before_the_first_handoff():
    rotation = daily()
    assert holder([rotation], qatar(2026, 3, 1, 7, 59)) is None
    assert holder([rotation], qatar(2026, 3, 1, 8, 0)) == 1
    assert layer_slots(rotations=[rotation], covers=[], start=qatar(2026, 2, 1), end=qatar(2026, 3, 1, 8)) == []


def test_an_instant_in_another_time_zone_is_the_same_instant():
    rotation = daily()
    assert holder([rotation], dt.datetime(2026, 3, 2, 4, 59, tzinfo=UTC)) == 1  # 07:59 in Doha
    assert holder([rotation], dt.datetime(2026, 3, 2, 5, 0, tzinfo=UTC)) == 2  # 08:00 in Doha


def test_weekly_rotation_hands_off_every_seventh_day_at_the_handoff_time():
    rotation = daily(members=(10, 20), shift_days=7, handoff=dt.time(9, 30))
    assert holder([rotation], qatar(2026, 3, 8, 9, 29)) == 10
    assert holder([rotation], qatar(2026, 3, 8, 9, 30)) == 20
    assert holder([rotation], qatar(2026, 3, 15, 9, 29)) == 20
    assert holder([rotation], qatar(2026, 3, 15, 9, 30)) == 10

    slots = layer_slots(rotations=[rotation], covers=[], start=qatar(2026, 3, 10), end=qatar(2026, 3, 20))
    assert [(slot.user, slot.start, slot.end) for slot in slots] == [
        (20, qatar(2026, 3, 8, 9, 30), qatar(2026, 3, 15, 9, 30)),
        (10, qatar(2026, 3, 15, 9, 30), qatar(2026, 3, 22, 9, 30)),
    ]


def test_n_day_rotation():
    rotation = daily(members=(1, 2, 3), shift_days=3, handoff=dt.time(0, 0))
    assert holder([rotation], qatar(2026, 3, 3, 23, 59)) == 1
    assert holder([rotation], qatar(2026, 3, 4, 0, 0)) == 2
    assert holder([rotation], qatar(2026, 3, 7, 0, 0)) == 3
    assert holder([rotation], qatar(2026, 3, 10, 0, 0)) == 1
    # 305 days after the start: shift 101, the third member's turn (101 = 3 * 33 + 2).
    assert holder([rotation], qatar(2026, 12, 31, 12, 0)) == 3


def test_slots_have_their_real_bounds_not_those_of_the_window():
    slots = layer_slots(rotations=[daily()], covers=[], start=qatar(2026, 3, 2, 12), end=qatar(2026, 3, 3, 9))
    assert [(slot.user, slot.start, slot.end, slot.override) for slot in slots] == [
        (2, qatar(2026, 3, 2, 8), qatar(2026, 3, 3, 8), False),
        (3, qatar(2026, 3, 3, 8), qatar(2026, 3, 4, 8), False),
    ]
    assert all(slot.start.tzinfo is UTC for slot in slots)


def test_daily_handoff_follows_the_local_clock_across_daylight_saving():
    # New York moves to summer time on Sunday 8 March 2026 at 02:00 and back on Sunday 1 November at 02:00.
    rotation = daily(members=(1, 2), starts_on=dt.date(2026, 3, 6), handoff=dt.time(9, 0), tz=NEW_YORK)
    spring = layer_slots(
        rotations=[rotation],
        covers=[],
        start=dt.datetime(2026, 3, 7, 12, tzinfo=NEW_YORK),
        end=dt.datetime(2026, 3, 9, 12, tzinfo=NEW_YORK),
    )
    assert [slot.start.astimezone(NEW_YORK).time() for slot in spring] == [dt.time(9, 0)] * 3
    lengths = {slot.start.astimezone(NEW_YORK).date(): slot.end - slot.start for slot in spring}
    assert lengths[dt.date(2026, 3, 7)] == dt.timedelta(hours=23)
    assert lengths[dt.date(2026, 3, 8)] == dt.timedelta(hours=24)
    # 09:00 summer time is 13:00 UTC: the handoff is at 09:00 local, not 14:00 UTC as in winter.
    assert holder([rotation], dt.datetime(2026, 3, 8, 12, 59, tzinfo=UTC)) == 2
    assert holder([rotation], dt.datetime(2026, 3, 8, 13, 0, tzinfo=UTC)) == 1

    autumn = layer_slots(
        rotations=[rotation],
        covers=[],
        start=dt.datetime(2026, 10, 31, 12, tzinfo=NEW_YORK),
        end=dt.datetime(2026, 11, 1, 8, tzinfo=NEW_YORK),
    )
    assert [slot.end - slot.start for slot in autumn] == [dt.timedelta(hours=25)]
    assert autumn[0].end.astimezone(NEW_YORK).time() == dt.time(9, 0)


def test_a_handoff_time_skipped_by_the_clocks_still_hands_off_once():
    # 02:30 does not exist in New York on 8 March 2026; the shifts stay contiguous, none empty or negative.
    rotation = daily(members=(1, 2), starts_on=dt.date(2026, 3, 6), handoff=dt.time(2, 30), tz=NEW_YORK)
    slots = layer_slots(
        rotations=[rotation],
        covers=[],
        start=dt.datetime(2026, 3, 6, 12, tzinfo=UTC),
        end=dt.datetime(2026, 3, 11, tzinfo=UTC),
    )
    assert all(slot.end > slot.start for slot in slots)
    assert all(earlier.end == later.start for earlier, later in zip(slots, slots[1:], strict=False))
    assert [slot.user for slot in slots] == [1, 2, 1, 2, 1]


def test_an_override_wins_and_the_rotation_resumes_after_it():
    cover = Cover(user=9, start=qatar(2026, 3, 2, 12), end=qatar(2026, 3, 2, 14), key=5)
    assert holder([daily()], qatar(2026, 3, 2, 11, 59), [cover]) == 2
    assert holder([daily()], qatar(2026, 3, 2, 12, 0), [cover]) == 9
    assert holder([daily()], qatar(2026, 3, 2, 13, 59), [cover]) == 9
    assert holder([daily()], qatar(2026, 3, 2, 14, 0), [cover]) == 2

    slots = layer_slots(rotations=[daily()], covers=[cover], start=qatar(2026, 3, 2, 9), end=qatar(2026, 3, 3, 9))
    assert [(slot.user, slot.start, slot.end, slot.override) for slot in slots] == [
        (2, qatar(2026, 3, 2, 8), qatar(2026, 3, 2, 12), False),
        (9, qatar(2026, 3, 2, 12), qatar(2026, 3, 2, 14), True),
        (2, qatar(2026, 3, 2, 14), qatar(2026, 3, 3, 8), False),
        (3, qatar(2026, 3, 3, 8), qatar(2026, 3, 4, 8), False),
    ]


def test_an_override_across_handoffs_is_one_slot_and_covers_a_layer_without_rota():
    cover = Cover(user=9, start=qatar(2026, 3, 2, 6), end=qatar(2026, 3, 4, 10), key=1)
    slots = layer_slots(rotations=[daily()], covers=[cover], start=qatar(2026, 3, 3), end=qatar(2026, 3, 3, 1))
    assert [(slot.user, slot.start, slot.end, slot.override) for slot in slots] == [
        (9, qatar(2026, 3, 2, 6), qatar(2026, 3, 4, 10), True)
    ]
    assert holder([], qatar(2026, 3, 3), [cover]) == 9
    assert holder([], qatar(2026, 3, 5), [cover]) is None


def test_of_overlapping_overrides_the_later_created_wins():
    first = Cover(user=7, start=qatar(2026, 3, 2, 10), end=qatar(2026, 3, 2, 18), key=1)
    second = Cover(user=8, start=qatar(2026, 3, 2, 12), end=qatar(2026, 3, 2, 14), key=2)
    assert holder([daily()], qatar(2026, 3, 2, 11), [second, first]) == 7
    assert holder([daily()], qatar(2026, 3, 2, 13), [second, first]) == 8
    assert holder([daily()], qatar(2026, 3, 2, 15), [second, first]) == 7


def test_a_new_rotation_replaces_the_old_from_its_first_handoff():
    old = daily(members=(1, 2, 3), key=1)
    new = daily(members=(7, 8), starts_on=dt.date(2026, 3, 10), handoff=dt.time(12, 0), key=2)
    assert holder([old, new], qatar(2026, 3, 10, 11, 59)) == old.member_of(9)
    assert holder([old, new], qatar(2026, 3, 10, 12, 0)) == 7
    assert holder([old, new], qatar(2026, 3, 11, 12, 0)) == 8
    slots = layer_slots(rotations=[new, old], covers=[], start=qatar(2026, 3, 10, 9), end=qatar(2026, 3, 10, 13))
    assert [(slot.user, slot.start, slot.end) for slot in slots] == [
        (old.member_of(9), qatar(2026, 3, 10, 8), qatar(2026, 3, 10, 12)),
        (7, qatar(2026, 3, 10, 12), qatar(2026, 3, 11, 12)),
    ]


def test_holder_agrees_with_the_slots_every_quarter_hour_for_a_month():
    rotations = [daily(members=(1, 2, 3), shift_days=2, key=1), daily(members=(4, 5), starts_on=dt.date(2026, 3, 20))]
    covers = [
        Cover(user=9, start=qatar(2026, 3, 5, 13, 7), end=qatar(2026, 3, 6, 2), key=3),
        Cover(user=8, start=qatar(2026, 3, 19, 23), end=qatar(2026, 3, 21, 9), key=4),
    ]
    start, end = qatar(2026, 3, 1), qatar(2026, 4, 1)
    slots = layer_slots(rotations=rotations, covers=covers, start=start, end=end)
    at = start
    while at < end:
        expected = next((slot.user for slot in slots if slot.start <= at < slot.end), None)
        assert holder(rotations, at, covers) == expected, at
        at += dt.timedelta(minutes=15)


def test_a_rotation_needs_members_and_a_positive_length():
    with pytest.raises(ValueError, match=r"^A rotation needs at least one member\.$"):
        daily(members=())
    with pytest.raises(ValueError, match=r"^A shift lasts at least one day\.$"):
        daily(shift_days=0)


def test_each_of_three_successive_rotas_is_in_force_from_its_first_handoff_to_the_next():
    first = daily(members=(1,), key=1)
    second = daily(members=(2,), starts_on=dt.date(2026, 3, 5), key=2)
    third = daily(members=(3,), starts_on=dt.date(2026, 3, 10), key=3)
    rotas = [third, first, second]
    assert [holder(rotas, qatar(2026, 3, day, 9)) for day in (4, 5, 9, 10)] == [1, 2, 2, 3]


def test_a_midnight_handoff_on_a_night_the_clocks_went_back_across_midnight():
    # St. John's went back from 00:01 to 23:01 on 7 November 2010: at 02:45 UTC its clocks read 6 November 23:15
    # again, a quarter of an hour after the 7 November midnight handoff (02:30 UTC).
    st_johns = ZoneInfo("America/St_Johns")
    rotation = daily(members=(1, 2), starts_on=dt.date(2010, 11, 5), handoff=dt.time(0, 0), tz=st_johns)
    assert holder([rotation], dt.datetime(2010, 11, 7, 2, 29, tzinfo=UTC)) == 2
    assert holder([rotation], dt.datetime(2010, 11, 7, 2, 45, tzinfo=UTC)) == 1
    assert holder([rotation], dt.datetime(2010, 11, 8, 3, 29, tzinfo=UTC)) == 1


def test_an_override_slot_reaching_past_the_window_ends_where_a_later_override_takes_over():
    # Nine's cover runs into the next shift, where Eight's later cover takes over at 10:00: asked about the window,
    # Nine's slot ends at 10:00 as it does when asked about the next morning, not at the end of Nine's cover.
    nine = Cover(user=9, start=qatar(2026, 3, 2, 9, 30), end=qatar(2026, 3, 3, 12), key=1)
    eight = Cover(user=8, start=qatar(2026, 3, 3, 10), end=qatar(2026, 3, 3, 11), key=2)
    for start, end in ((qatar(2026, 3, 2, 9), qatar(2026, 3, 2, 10)), (qatar(2026, 3, 3, 9), qatar(2026, 3, 3, 9, 30))):
        slots = layer_slots(rotations=[daily()], covers=[nine, eight], start=start, end=end)
        assert (9, qatar(2026, 3, 2, 9, 30), qatar(2026, 3, 3, 10), True) in [
            (slot.user, slot.start, slot.end, slot.override) for slot in slots
        ], (start, slots)


def test_a_window_is_half_open_and_an_empty_one_holds_nobody():
    cover = Cover(user=9, start=qatar(2026, 3, 2, 12), end=qatar(2026, 3, 2, 13), key=1)
    before = layer_slots(rotations=[daily()], covers=[cover], start=qatar(2026, 3, 2, 9), end=qatar(2026, 3, 2, 12))
    assert [(slot.user, slot.start, slot.end) for slot in before] == [
        (2, qatar(2026, 3, 2, 8), qatar(2026, 3, 2, 12))
    ]
    after = layer_slots(rotations=[daily()], covers=[cover], start=qatar(2026, 3, 2, 13), end=qatar(2026, 3, 2, 14))
    assert [(slot.user, slot.start, slot.end) for slot in after] == [(2, qatar(2026, 3, 2, 13), qatar(2026, 3, 3, 8))]
    inside_a_shift = qatar(2026, 3, 2, 11)
    assert layer_slots(rotations=[daily()], covers=[cover], start=inside_a_shift, end=inside_a_shift) == []


def test_every_slot_bound_is_in_utc_whatever_zone_the_window_and_covers_come_in():
    cover = Cover(user=9, start=qatar(2026, 3, 2, 12), end=qatar(2026, 3, 2, 14), key=1)
    slots = layer_slots(rotations=[daily()], covers=[cover], start=qatar(2026, 3, 2, 8), end=qatar(2026, 3, 3, 8))
    assert [(slot.user, slot.start, slot.end) for slot in slots] == [
        (2, qatar(2026, 3, 2, 8), qatar(2026, 3, 2, 12)),
        (9, qatar(2026, 3, 2, 12), qatar(2026, 3, 2, 14)),
        (2, qatar(2026, 3, 2, 14), qatar(2026, 3, 3, 8)),
    ]
    assert all(slot.start.tzinfo is UTC and slot.end.tzinfo is UTC for slot in slots)
