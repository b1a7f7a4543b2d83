"""What `escalation.services.escalation_on_event` writes for a ticket change, seen through the due rows, the ticket's
escalation row and the pages the worker then sends: a ticket opened before escalation existed gets its team's chain
at its next change, and stopping one ticket's chain leaves every other ticket's chain running."""

from __future__ import annotations

import datetime as dt

import psycopg
import pytest

from escalation.engine import escalation_run_due
from escalation.models import DueState, EscalationDue, EscalationStep, Target, TicketEscalation
from escalation.services import NOTIFY_CHANNEL, chain_for_team
from tests.conftest import shared_database_url
from tests.escalation.conftest import MINUTE, T0, fire_due, held_by_another_worker
from tests.escalation.test_engine import open_p1, told
from tickets.services import (
    ticket_acknowledge,
    ticket_claim,
    ticket_comment,
    ticket_reopen,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def due_rows(ticket) -> list[tuple[str, int, int, int, str, dt.datetime]]:
    rows = EscalationDue.objects.filter(ticket=ticket).order_by("trigger", "generation", "step", "round")
    return list(rows.values_list("trigger", "generation", "step", "round", "state", "due_at"))


def sla_rows(ticket) -> dict[str, tuple[str, dt.datetime]]:
    return {trigger: (state, due) for trigger, _gen, _step, _round, state, due in due_rows(ticket) if trigger != "step"}


@pytest.fixture
def wakes(monkeypatch) -> list[None]:
    """Each wake-up of the worker a change asks for (the NOTIFY it sends at commit)."""
    woken: list[None] = []
    monkeypatch.setattr("escalation.services.wake_worker", lambda: woken.append(None))
    return woken


def test_a_ticket_opened_before_escalation_existed_gets_its_teams_chain_at_its_next_change(make_ticket, chain):
    ticket = open_p1(make_ticket)
    # As a ticket opened before the escalation app was installed: no escalation row, no due rows.
    EscalationDue.objects.filter(ticket=ticket).delete()
    TicketEscalation.objects.filter(ticket=ticket).delete()

    later = T0 + 10 * MINUTE
    ticket_comment(ticket=ticket, author=ticket.requester, body="Still down.", now=later)

    escalation = TicketEscalation.objects.get(ticket=ticket)
    assert escalation.chain == chain_for_team(team_id=chain.team_id).as_json()
    assert len(escalation.chain["steps"]) == 3  # the team's chain, not the two-step default
    assert escalation.created_at == later
    # As the admin lists them: the ticket's first chain run, and its step rows of that run from the change on.
    assert escalation.chain_run == 1
    steps = [
        (generation, step, due)
        for trigger, generation, step, _round, _state, due in due_rows(ticket)
        if trigger == "step"
    ]
    assert steps == [(1, 0, later), (1, 1, later + 2 * MINUTE), (1, 1, later + 5 * MINUTE), (1, 2, later + 8 * MINUTE)]
    # The unacknowledged P1 starts paging from that change, on the team's chain.
    assert fire_due(later) == 1
    assert told(ticket) == ["The helpdesk paged Alice Primary (step 1 of 3)."]
    assert fire_due(later + 2 * MINUTE) == 1


def test_acknowledging_one_ticket_leaves_the_chain_of_another_running(make_ticket, chain, alice, wakes):
    acknowledged = open_p1(make_ticket, subject="Switch down")
    other = open_p1(make_ticket, subject="Printer down")
    fire_due(T0)

    before = due_rows(other)
    del wakes[:]
    ticket_acknowledge(ticket=acknowledged, actor=alice, now=T0 + MINUTE)

    assert due_rows(other) == before  # its step rows and its SLA rows, untouched
    assert wakes == []  # nothing comes due sooner: the worker sleeps on
    assert sla_rows(acknowledged) == {
        "response_breach": ("cancelled", T0 + 15 * MINUTE),
        "resolution_warning": ("pending", T0 + 3 * HOUR),
        "resolution_breach": ("pending", T0 + 4 * HOUR),
    }
    pending = EscalationDue.objects.filter(ticket=other, trigger="step", state=DueState.PENDING)
    assert pending.count() == 3
    assert fire_due(T0 + 2 * MINUTE) == 1
    assert told(other) == [
        "The helpdesk paged Alice Primary (step 1 of 3).",
        "Nobody acknowledged: The helpdesk escalated to Bob Secondary (step 2 of 3, page 1 of 2).",
    ]
    assert told(acknowledged) == ["The helpdesk paged Alice Primary (step 1 of 3)."]


def test_a_callers_comment_leaves_a_paging_tickets_chain_and_sla_rows_as_they_were(make_ticket, chain):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    before = due_rows(ticket)
    assert [row[4] for row in before].count("pending") == 6  # three more pages, and the three SLA triggers

    ticket_comment(ticket=ticket, author=ticket.requester, body="Still down.", now=T0 + MINUTE)

    assert due_rows(ticket) == before
    assert fire_due(T0 + 2 * MINUTE) == 1
    assert (
        told(ticket)[-1] == "Nobody acknowledged: The helpdesk escalated to Bob Secondary (step 2 of 3, page 1 of 2)."
    )


def test_reopening_leaves_the_first_watchs_sla_rows_cancelled(make_ticket, chain, alice, wakes):
    ticket = open_p1(make_ticket)
    ticket_claim(ticket=ticket, technician=alice, now=T0 + MINUTE)
    ticket_resolve(ticket=ticket, actor=alice, now=T0 + HOUR)
    del wakes[:]
    ticket_reopen(ticket=ticket, actor=alice, now=T0 + 5 * HOUR)
    assert len(wakes) == 1  # the new watch's rows are new to the worker

    sla = [row for row in due_rows(ticket) if row[0] != "step"]
    first = [(trigger, state) for trigger, generation, _step, _round, state, _due in sla if generation == 1]
    assert first == [
        ("resolution_breach", "cancelled"),
        ("resolution_warning", "cancelled"),
        ("response_breach", "cancelled"),
    ]
    # The second watch's rows, as the admin lists them: step 0 (an SLA trigger has no chain step), round 0.
    second = [
        (trigger, step, round_, state) for trigger, generation, step, round_, state, _due in sla if generation == 2
    ]
    assert second == [("resolution_breach", 0, 0, "pending"), ("resolution_warning", 0, 0, "pending")]


def test_a_priority_change_moves_the_sla_rows_and_wakes_the_worker_only_when_they_come_sooner(
    make_ticket, chain, alice, wakes
):
    ticket = open_p1(make_ticket)
    del wakes[:]

    ticket_set_priority(ticket=ticket, actor=alice, priority=2, reason="One floor only.", now=T0 + MINUTE)
    assert sla_rows(ticket) == {
        "response_breach": ("pending", T0 + 30 * MINUTE),
        "resolution_warning": ("pending", T0 + 6 * HOUR),
        "resolution_breach": ("pending", T0 + 8 * HOUR),
    }
    assert wakes == []  # every row moved later: the worker's sleep still ends in time

    ticket_set_priority(ticket=ticket, actor=alice, priority=1, reason="The whole building.", now=T0 + 2 * MINUTE)
    assert sla_rows(ticket) == {
        "response_breach": ("pending", T0 + 15 * MINUTE),
        "resolution_warning": ("pending", T0 + 3 * HOUR),
        "resolution_breach": ("pending", T0 + 4 * HOUR),
    }
    assert len(wakes) == 1


def test_a_clock_paused_and_resumed_at_once_revives_its_sla_rows_at_the_same_times_and_wakes_the_worker(
    make_ticket, chain, alice, staff, wakes
):
    ticket = open_p1(make_ticket)
    ticket_claim(ticket=ticket, technician=alice, now=T0 + MINUTE)
    running = sla_rows(ticket)
    assert running == {
        "response_breach": ("cancelled", T0 + 15 * MINUTE),
        "resolution_warning": ("pending", T0 + 3 * HOUR),
        "resolution_breach": ("pending", T0 + 4 * HOUR),
    }
    ticket_set_status(ticket=ticket, actor=alice, status="waiting", now=T0 + HOUR)
    assert {trigger: state for trigger, (state, _due) in sla_rows(ticket).items()} == dict.fromkeys(
        running, "cancelled"
    )
    del wakes[:]

    ticket_comment(ticket=ticket, author=staff, body="Here is the log.", now=T0 + HOUR)
    assert sla_rows(ticket) == running
    assert len(wakes) == 1
    fire_due(T0 + 4 * HOUR)
    assert told(ticket)[-2:] == [
        "75% of the resolution time is used: The helpdesk warned Alice Primary.",
        "The resolution target was missed: The helpdesk paged Layla Lead, Noora Manager.",
    ]


def test_a_technicians_public_reply_stops_the_paging_and_meets_the_response_target(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    fire_due(T0)

    ticket_comment(ticket=ticket, author=alice, body="On my way to the switch room.", now=T0 + MINUTE)

    assert sorted(EscalationDue.objects.filter(ticket=ticket, trigger="step").values_list("state", flat=True)) == [
        "cancelled",
        "cancelled",
        "cancelled",
        "done",
    ]
    assert sla_rows(ticket)["response_breach"] == ("cancelled", T0 + 15 * MINUTE)
    assert fire_due(T0 + HOUR) == 0
    assert told(ticket) == ["The helpdesk paged Alice Primary (step 1 of 3)."]


def test_copying_a_teams_chain_asks_two_questions_once_and_keeps_its_people_and_breach_repeat(
    chain, bob, django_assert_num_queries
):
    """Every ticket opened copies its team's chain under the ticket lock: the settings revision, and the first time
    under that revision the chain with its lead and manager, then its steps with their users."""
    EscalationStep.objects.create(chain=chain, position=4, target=Target.USER, user=bob, delay=5 * MINUTE)
    chain.breach_repeat = 30 * MINUTE
    chain.save()

    with django_assert_num_queries(3):
        copied = chain_for_team(team_id=chain.team_id)
    with django_assert_num_queries(1):
        assert chain_for_team(team_id=chain.team_id) == copied

    assert (copied.team_lead.name, copied.duty_manager.name) == ("Layla Lead", "Noora Manager")
    assert [(step.target, step.user and step.user.name) for step in copied.steps] == [
        ("oncall_primary", None),
        ("oncall_secondary", None),
        ("duty_manager", None),
        ("user", "Bob Secondary"),
    ]
    assert copied.breach_repeat == 30 * MINUTE


@pytest.mark.django_db(transaction=True)
def test_an_acknowledgement_while_a_worker_holds_the_response_breach_skips_it_and_the_worker_cancels_it(
    make_ticket, chain, alice
):
    """As for a held chain step (test_engine): the acknowledgement skips the SLA row the worker has locked instead of
    waiting for it; the worker, deciding again under the ticket lock, finds the target met."""
    ticket = open_p1(make_ticket)
    with held_by_another_worker(EscalationDue.objects.filter(ticket=ticket, trigger="response_breach")):
        ticket_acknowledge(ticket=ticket, actor=alice, now=T0 + MINUTE)

    assert sla_rows(ticket)["response_breach"] == ("pending", T0 + 15 * MINUTE)  # skipped, left to the worker
    assert escalation_run_due(now=T0 + 15 * MINUTE, limit=50).taken >= 1
    assert sla_rows(ticket)["response_breach"] == ("cancelled", T0 + 15 * MINUTE)
    assert told(ticket) == []  # no breach page: the target was met


@pytest.mark.django_db(transaction=True)
def test_opening_a_paging_ticket_notifies_the_workers_channel_when_it_commits(make_ticket, chain):
    """What wakes a sleeping worker (escalation_worker LISTENs on the channel): one NOTIFY per change that
    schedules a row, delivered at commit."""
    with psycopg.connect(shared_database_url(), autocommit=True) as listener:
        listener.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(NOTIFY_CHANNEL)))
        open_p1(make_ticket)
        woken = list(listener.notifies(timeout=10, stop_after=1))
    assert [notice.channel for notice in woken] == [NOTIFY_CHANNEL]


def test_opening_a_p1_writes_its_first_chain_run_and_its_due_rows(make_ticket, chain, django_assert_num_queries):
    ticket = open_p1(make_ticket)

    # The console's row of the change reads the paging from the ticket it was given, without another query.
    with django_assert_num_queries(0):
        assert (ticket.escalation.chain_run, ticket.escalation.watch) == (1, 1)
    # As the admin lists them: the chain's pages of run 1, and the SLA triggers of watch 1 (step 0, round 0).
    assert [row[:4] + (row[5],) for row in due_rows(ticket)] == [
        ("resolution_breach", 1, 0, 0, T0 + 4 * HOUR),
        ("resolution_warning", 1, 0, 0, T0 + 3 * HOUR),
        ("response_breach", 1, 0, 0, T0 + 15 * MINUTE),
        ("step", 1, 0, 0, T0),
        ("step", 1, 1, 0, T0 + 2 * MINUTE),
        ("step", 1, 1, 1, T0 + 5 * MINUTE),
        ("step", 1, 2, 0, T0 + 8 * MINUTE),
    ]
