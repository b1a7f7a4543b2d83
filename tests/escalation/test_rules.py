"""The escalation rules as pure functions: values in, decisions out, no database and no clock."""

from __future__ import annotations

import dataclasses
import datetime as dt

from escalation import rules
from escalation.rules import Cancel, Chain, Due, Fire, Move, Person, Step, TicketValues
from tickets.models import Status, TicketEvent

T0 = dt.datetime(2026, 11, 29, 9, 0, tzinfo=dt.UTC)
MIN = dt.timedelta(minutes=1)
LEAD = Person(7, "Team Lead")
MANAGER = Person(9, "Duty Manager")

CHAIN = Chain(
    steps=(
        Step("oncall_primary", 2 * MIN, ("console", "sms")),
        Step("oncall_secondary", 3 * MIN, ("console",), repeat=1),
        Step("duty_manager", 5 * MIN, ("console", "voice")),
    ),
    team_lead=LEAD,
    duty_manager=MANAGER,
    breach_repeat=dt.timedelta(hours=1),
)


def ticket(**changes) -> TicketValues:
    values = TicketValues(
        priority=1,
        status=Status.NEW,
        assignee_id=None,
        acknowledged_at=None,
        responded_at=None,
        sla_paused_at=None,
        response_due_at=T0 + 15 * MIN,
        resolution_due_at=T0 + dt.timedelta(hours=4),
        resolution_warning_at=T0 + dt.timedelta(hours=3),
    )
    return dataclasses.replace(values, **changes)


def step_row(step: int, round_: int = 0, *, run: int = 1, at: dt.datetime = T0) -> Due:
    return Due("step", step, round_, run, at)


def sla_row(trigger: str, round_: int = 0, *, watch: int = 1, at: dt.datetime = T0) -> Due:
    return Due(trigger, 0, round_, watch, at)


def decide(row: Due, values: TicketValues, *, now: dt.datetime, chain_run: int = 1, watch: int = 1):
    return rules.decide(row, values, CHAIN, chain_run=chain_run, watch=watch, now=now)


def test_a_chain_run_pages_each_step_after_the_previous_delay_with_its_repeats():
    plan = rules.chain_plan(CHAIN, run=1, start=T0)
    assert [(row.step, row.round, row.due_at - T0) for row in plan] == [
        (0, 0, 0 * MIN),
        (1, 0, 2 * MIN),
        (1, 1, 5 * MIN),
        (2, 0, 8 * MIN),
    ]
    assert {(row.trigger, row.generation) for row in plan} == {("step", 1)}
    later = rules.chain_plan(CHAIN, run=2, start=T0, first_step=2)
    assert [(row.step, row.due_at) for row in later] == [(2, T0)]


def test_p1_and_p2_start_their_chain_at_once_p3_and_p4_wait_for_a_breach():
    assert rules.chain_starts_now(ticket(priority=1), chain_run=0)
    assert rules.chain_starts_now(ticket(priority=2), chain_run=0)
    assert not rules.chain_starts_now(ticket(priority=3), chain_run=0)
    assert not rules.chain_starts_now(ticket(priority=4), chain_run=0)
    assert not rules.chain_starts_now(ticket(priority=1), chain_run=1)


def test_steps_page_their_target_the_first_is_a_page_the_next_an_escalation():
    first = decide(step_row(0), ticket(), now=T0)
    assert first == Fire(kind=TicketEvent.Kind.PAGED, targets=("oncall_primary",), channels=("console", "sms"))
    second = decide(step_row(1, at=T0 + 2 * MIN), ticket(), now=T0 + 2 * MIN)
    assert isinstance(second, Fire)
    assert second.kind == TicketEvent.Kind.ESCALATED
    assert second.targets == ("oncall_secondary",)
    repeat = decide(step_row(1, 1, at=T0 + 5 * MIN), ticket(), now=T0 + 5 * MIN)
    assert isinstance(repeat, Fire)
    assert repeat.kind == TicketEvent.Kind.PAGED


def test_a_step_naming_a_person_pages_that_person():
    named = Person(11, "Named Person")
    chain = dataclasses.replace(CHAIN, steps=(Step("user", 2 * MIN, ("sms",), user=named),))
    fire = rules.decide(step_row(0), ticket(), chain, chain_run=1, watch=1, now=T0)
    assert fire == Fire(kind=TicketEvent.Kind.PAGED, targets=("user",), channels=("sms",), user=named)


def test_a_step_row_past_the_end_of_its_chain_is_cancelled_not_fired():
    assert decide(step_row(3), ticket(), now=T0) == Cancel("no such step")


def test_acknowledgement_a_reply_resolution_or_cancellation_stops_the_chain():
    row = step_row(1, at=T0 + 2 * MIN)
    now = T0 + 2 * MIN
    assert decide(row, ticket(status=Status.ACKNOWLEDGED, acknowledged_at=T0 + MIN), now=now) == Cancel(
        "acknowledged"
    )
    assert decide(row, ticket(responded_at=T0 + MIN), now=now) == Cancel("acknowledged")
    assert decide(row, ticket(status=Status.RESOLVED, acknowledged_at=T0), now=now) == Cancel("finished")
    assert decide(row, ticket(status=Status.CANCELLED), now=now) == Cancel("finished")


def test_a_row_of_an_older_run_or_watch_never_fires():
    assert decide(step_row(0, run=1), ticket(), now=T0, chain_run=2) == Cancel("superseded")
    breach = sla_row("resolution_breach", watch=1, at=T0 + dt.timedelta(hours=4))
    assert decide(breach, ticket(), now=T0 + dt.timedelta(hours=4), watch=2) == Cancel("superseded")


def test_a_missed_response_target_pages_the_duty_manager_and_starts_a_p3_chain():
    due = T0 + 15 * MIN
    p1 = decide(sla_row("response_breach", at=due), ticket(), now=due)
    assert isinstance(p1, Fire)
    assert (p1.kind, p1.targets, p1.channels, p1.starts_chain, p1.then) == (
        TicketEvent.Kind.SLA_BREACHED,
        ("duty_manager",),
        ("console", "sms"),
        False,
        [],
    )
    p3 = decide(sla_row("response_breach", at=due), ticket(priority=3), now=due, chain_run=0)
    assert isinstance(p3, Fire)
    assert p3.starts_chain
    assert [(row.step, row.round, row.generation, row.due_at) for row in p3.then] == [
        (0, 0, 1, due),
        (1, 0, 1, due + 2 * MIN),
        (1, 1, 1, due + 5 * MIN),
        (2, 0, 1, due + 8 * MIN),
    ]


def test_a_p3_whose_chain_already_runs_pages_the_manager_without_a_second_run():
    # Escalated by hand before its response target, the P3's chain is on run 1 when the target is missed.
    due = T0 + 15 * MIN
    breach = decide(sla_row("response_breach", at=due), ticket(priority=3), now=due, chain_run=1)
    assert isinstance(breach, Fire)
    assert (breach.targets, breach.starts_chain, breach.then) == (("duty_manager",), False, [])


def test_a_met_response_target_never_breaches():
    due = T0 + 15 * MIN
    assert decide(sla_row("response_breach", at=due), ticket(responded_at=T0 + MIN), now=due) == Cancel(
        "met or paused"
    )


def test_75_percent_warns_the_assignee_100_percent_pages_lead_and_manager_then_repeats():
    warning_at = T0 + dt.timedelta(hours=3)
    warning = decide(sla_row("resolution_warning", at=warning_at), ticket(assignee_id=5), now=warning_at)
    assert isinstance(warning, Fire)
    assert (warning.kind, warning.targets, warning.channels) == (
        TicketEvent.Kind.SLA_WARNING,
        (rules.ASSIGNEE,),
        ("console",),
    )
    deadline = T0 + dt.timedelta(hours=4)
    breach = decide(sla_row("resolution_breach", at=deadline), ticket(), now=deadline + dt.timedelta(seconds=1))
    assert isinstance(breach, Fire)
    assert (breach.kind, breach.targets, breach.channels) == (
        TicketEvent.Kind.SLA_BREACHED,
        ("team_lead", "duty_manager"),
        ("console", "sms"),
    )
    assert breach.then == [Due("resolution_breach", 0, 1, 1, deadline + dt.timedelta(hours=1))]
    again = decide(breach.then[0], ticket(), now=deadline + dt.timedelta(hours=1))
    assert isinstance(again, Fire)
    assert again.then == [Due("resolution_breach", 0, 2, 1, deadline + dt.timedelta(hours=2))]


def test_breach_repeats_missed_during_a_long_outage_are_not_sent_in_a_burst():
    deadline = T0 + dt.timedelta(hours=4)
    back = deadline + dt.timedelta(hours=3, minutes=20)
    breach = decide(sla_row("resolution_breach", at=deadline), ticket(), now=back)
    assert isinstance(breach, Fire)
    assert breach.then == [Due("resolution_breach", 0, 4, 1, deadline + dt.timedelta(hours=4))]


def test_a_ticket_without_a_resolution_target_never_breaches_it():
    # A ticket opened before the SLA clock existed has no resolution due time.
    values = ticket(resolution_due_at=None)
    later = T0 + dt.timedelta(days=30)
    assert rules.sla_due_at("resolution_breach", 0, values, CHAIN) is None
    assert decide(sla_row("resolution_breach", at=later), values, now=later) == Cancel("met or paused")


def test_a_paused_clock_holds_every_sla_trigger_and_the_moved_deadline_is_used_on_resume():
    deadline = T0 + dt.timedelta(hours=4)
    paused = ticket(status=Status.WAITING, acknowledged_at=T0, sla_paused_at=deadline - MIN)
    for trigger in ("response_breach", "resolution_warning", "resolution_breach"):
        assert rules.sla_due_at(trigger, 0, paused, CHAIN) is None
        assert decide(sla_row(trigger, at=deadline), paused, now=deadline) == Cancel("met or paused")
    resumed = ticket(status=Status.IN_PROGRESS, acknowledged_at=T0, resolution_due_at=deadline + 30 * MIN)
    assert decide(sla_row("resolution_breach", at=deadline), resumed, now=deadline) == Move(deadline + 30 * MIN)
    assert isinstance(decide(sla_row("resolution_breach"), resumed, now=deadline + 30 * MIN), Fire)


def test_the_sla_plan_names_the_first_round_of_each_trigger():
    plan = rules.sla_plan(ticket(), CHAIN)
    assert plan == {
        ("response_breach", 0): T0 + 15 * MIN,
        ("resolution_warning", 0): T0 + dt.timedelta(hours=3),
        ("resolution_breach", 0): T0 + dt.timedelta(hours=4),
    }
    finished = rules.sla_plan(ticket(status=Status.RESOLVED, acknowledged_at=T0), CHAIN)
    assert set(finished.values()) == {None}


def test_a_chain_survives_its_json_snapshot_unchanged():
    assert Chain.from_json(CHAIN.as_json()) == CHAIN
    named = Step("user", 4 * MIN, ("sms", "voice"), repeat=2, user=Person(11, "Named Person"))
    half_hourly = Chain(steps=(named,), team_lead=LEAD, breach_repeat=30 * MIN)
    assert Chain.from_json(half_hourly.as_json()) == half_hourly
    assert Chain.from_json(rules.DEFAULT_CHAIN.as_json()) == rules.DEFAULT_CHAIN


def test_step_labels_count_from_one():
    assert rules.step_label_values(CHAIN, step_row(1, 1)) == {"step": 2, "steps": 3, "round": 2, "rounds": 2}
    assert rules.step_label_values(CHAIN, sla_row("resolution_breach")) == {}
