"""The SLA clock as pure functions: pauses move the due times by the working time they cover, to the second."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from escalation.clock import (
    ClockPolicy,
    clock_pause,
    clock_record,
    clock_reopen,
    clock_respond,
    clock_resume,
    clock_retarget,
    clock_start,
    clock_stop,
    due_at,
    pauses_from_json,
    pauses_to_json,
)
from escalation.sla import AROUND_THE_CLOCK, DEFAULT_POLICIES, WORKING_WEEK

QATAR = ZoneInfo("Asia/Qatar")
P1, P2, P3, P4 = (DEFAULT_POLICIES[priority] for priority in (1, 2, 3, 4))


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=QATAR)


def test_a_pause_moves_the_due_times_by_the_paused_working_time():
    opened = at(2026, 11, 29, 7, 0, 0)  # Sunday opening
    clock = clock_start(policy=P3, opened_at=opened)
    assert clock.response_due_at == at(2026, 11, 29, 11, 0)
    paused = clock_pause(clock=clock, now=at(2026, 11, 29, 9, 0, 0))
    assert paused.paused_at == at(2026, 11, 29, 9, 0, 0)
    assert not paused.running
    # Waiting from Sunday 09:00 to Monday 08:30:15 covers 5 h + 1 h 30 min 15 s of working time.
    resumed = clock_resume(clock=paused, policy=P3, opened_at=opened, now=at(2026, 11, 30, 8, 30, 15))
    assert resumed.paused_at is None
    assert resumed.pauses == ((at(2026, 11, 29, 9, 0, 0), at(2026, 11, 30, 8, 30, 15)),)
    assert resumed.response_due_at == at(2026, 11, 30, 10, 30, 15)
    # 21 working hours, 2 used before the pause: 19 from Monday 08:30:15 is Wednesday 13:30:15.
    assert resumed.resolution_due_at == at(2026, 12, 2, 13, 30, 15)
    # 75 % is 15 h 45 min: 13 h 45 min after Monday 08:30:15 is Wednesday 08:15:15.
    assert resumed.resolution_warning_at == at(2026, 12, 2, 8, 15, 15)


def test_a_pause_outside_working_hours_moves_nothing():
    opened = at(2026, 11, 26, 13, 0)  # Thursday
    clock = clock_start(policy=P3, opened_at=opened)
    paused = clock_pause(clock=clock, now=at(2026, 11, 26, 15, 0))
    resumed = clock_resume(clock=paused, policy=P3, opened_at=opened, now=at(2026, 11, 28, 20, 0))
    assert (resumed.response_due_at, resumed.resolution_due_at) == (clock.response_due_at, clock.resolution_due_at)


def test_a_pause_after_the_due_time_does_not_move_it():
    opened = at(2026, 11, 29, 10, 0)
    start = at(2026, 11, 29, 10, 30)
    assert due_at(start=opened, target=dt.timedelta(minutes=15), calendar=AROUND_THE_CLOCK,
                  pauses=[(start, start + dt.timedelta(hours=1))]) == at(2026, 11, 29, 10, 15)  # fmt: skip


def test_a_priority_change_during_a_pause_takes_effect_at_resume_with_the_paused_time_kept():
    opened = at(2026, 11, 29, 10, 0, 7)
    clock = clock_start(policy=P2, opened_at=opened)
    paused = clock_pause(clock=clock, now=at(2026, 11, 29, 11, 0, 7))
    assert clock_retarget(clock=paused, policy=P1, opened_at=opened) == paused
    resumed = clock_resume(clock=paused, policy=P1, opened_at=opened, now=at(2026, 11, 29, 13, 0, 7))
    assert resumed.resolution_due_at == at(2026, 11, 29, 16, 0, 7)  # 4 h + 2 h paused
    assert resumed.resolution_warning_at == at(2026, 11, 29, 15, 0, 7)  # 3 h + 2 h paused
    assert resumed.response_due_at == at(2026, 11, 29, 10, 15, 7)  # due before the pause began
    back_to_p2 = clock_retarget(clock=resumed, policy=P2, opened_at=opened)
    assert back_to_p2.resolution_due_at == at(2026, 11, 29, 20, 0, 7)  # 8 h + the same 2 h


def test_reopening_counts_the_resolved_time_as_a_pause():
    opened = at(2026, 11, 29, 10, 0)
    clock = clock_respond(clock=clock_start(policy=P2, opened_at=opened), now=at(2026, 11, 29, 10, 5))
    stopped = clock_stop(clock=clock, now=at(2026, 11, 29, 11, 0))
    reopened = clock_reopen(clock=stopped, policy=P2, opened_at=opened, now=at(2026, 11, 29, 13, 0))
    assert reopened.running
    assert reopened.responded_at == at(2026, 11, 29, 10, 5)
    assert reopened.resolution_due_at == at(2026, 11, 29, 20, 0)  # 8 h + 2 h resolved
    assert reopened.pauses == ((at(2026, 11, 29, 11, 0), at(2026, 11, 29, 13, 0)),)


def test_resolving_a_waiting_ticket_closes_its_pause():
    opened = at(2026, 11, 29, 10, 0)
    paused = clock_pause(clock=clock_start(policy=P1, opened_at=opened), now=at(2026, 11, 29, 10, 30))
    stopped = clock_stop(clock=paused, now=at(2026, 11, 29, 11, 0))
    assert stopped.paused_at is None
    assert stopped.pauses == ((at(2026, 11, 29, 10, 30), at(2026, 11, 29, 11, 0)),)
    reopened = clock_reopen(clock=stopped, policy=P1, opened_at=opened, now=at(2026, 11, 29, 12, 0))
    assert reopened.resolution_due_at == at(2026, 11, 29, 15, 30)  # 4 h + 1 h 30 min not counted


def test_the_first_response_counts():
    clock = clock_start(policy=P1, opened_at=at(2026, 11, 29, 10, 0))
    first = clock_respond(clock=clock, now=at(2026, 11, 29, 10, 3))
    assert clock_respond(clock=first, now=at(2026, 11, 29, 10, 9)).responded_at == at(2026, 11, 29, 10, 3)


def test_the_record_says_what_each_change_did():
    opened = dt.datetime(2026, 11, 29, 7, 0, tzinfo=dt.UTC)
    clock = clock_start(policy=P1, opened_at=opened)
    assert clock_record(before=None, after=clock) == {
        "response_due_at": "2026-11-29T07:15:00+00:00",
        "resolution_due_at": "2026-11-29T11:00:00+00:00",
        "resolution_warning_at": "2026-11-29T10:00:00+00:00",
    }
    responded = clock_respond(clock=clock, now=opened + dt.timedelta(minutes=5))
    assert clock_record(before=clock, after=responded)["responded_at"] == "2026-11-29T07:05:00+00:00"
    paused = clock_pause(clock=responded, now=opened + dt.timedelta(hours=1))
    assert clock_record(before=responded, after=paused) == {"paused_at": "2026-11-29T08:00:00+00:00"}
    resumed = clock_resume(clock=paused, policy=P1, opened_at=opened, now=opened + dt.timedelta(hours=2))
    assert clock_record(before=paused, after=resumed) == {
        "response_due_at": "2026-11-29T07:15:00+00:00",
        "resolution_due_at": "2026-11-29T12:00:00+00:00",
        "resolution_warning_at": "2026-11-29T11:00:00+00:00",
        "pauses": [["2026-11-29T08:00:00+00:00", "2026-11-29T09:00:00+00:00"]],
    }
    stopped = clock_stop(clock=resumed, now=opened + dt.timedelta(hours=3))
    assert clock_record(before=resumed, after=stopped) == {"stopped_at": "2026-11-29T10:00:00+00:00"}
    assert clock_record(before=resumed, after=resumed) == {}
    assert pauses_from_json(pauses_to_json(resumed.pauses)) == resumed.pauses


def test_working_calendar_targets_skip_the_weekend_to_the_second():
    policy = ClockPolicy(dt.timedelta(minutes=90, seconds=30), dt.timedelta(hours=10), WORKING_WEEK)
    clock = clock_start(policy=policy, opened_at=at(2026, 11, 26, 13, 15, 45))  # Thursday
    assert clock.response_due_at == at(2026, 11, 29, 7, 46, 15)  # 44 min 15 s Thursday, the rest on Sunday
    assert clock.resolution_due_at == at(2026, 11, 30, 9, 15, 45)
    assert P4.resolution == dt.timedelta(hours=35)


def test_a_pause_that_begins_the_second_the_target_falls_due_does_not_move_it():
    opened = at(2026, 11, 29, 10, 0)
    clock = clock_start(policy=P1, opened_at=opened)
    assert clock.response_due_at == at(2026, 11, 29, 10, 15)
    paused = clock_pause(clock=clock, now=at(2026, 11, 29, 10, 15))
    resumed = clock_resume(clock=paused, policy=P1, opened_at=opened, now=at(2026, 11, 29, 11, 15))
    assert resumed.response_due_at == at(2026, 11, 29, 10, 15)
    assert resumed.resolution_due_at == at(2026, 11, 29, 15, 0)  # 4 h + the hour paused


def test_the_warning_falls_at_three_quarters_rounded_down_never_after():
    policy = ClockPolicy(dt.timedelta(minutes=15), dt.timedelta(hours=1, microseconds=1), AROUND_THE_CLOCK)
    opened = at(2026, 11, 29, 10, 0)
    assert clock_start(policy=policy, opened_at=opened).resolution_warning_at == at(2026, 11, 29, 10, 45)
