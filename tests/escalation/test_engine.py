"""The escalation engine on the real database, travelling in time with an explicit `now`: a chain runs step by step,
acknowledgement stops it, repeats repeat, a running ticket keeps the chain it copied, SLA breaches page the duty
manager, missed steps fire once in due order after an outage, and "escalate now" brings the next step forward."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from escalation import engine
from escalation.engine import escalation_run_due
from escalation.models import ContactProfile, DueState, EscalationDue, EscalationStep, Page, Target, TicketEscalation
from escalation.outbox import outbox_deliver_due
from escalation.services import escalation_escalate_now
from hotline.backends import LocmemBackend
from tests.escalation.conftest import MINUTE, T0, fire_due, held_by_another_worker, lock_timeout, person
from tickets.exceptions import NotAllowed
from tickets.models import Level, Ticket, TicketEvent
from tickets.sentences import event_sentence
from tickets.services import (
    ticket_acknowledge,
    ticket_cancel,
    ticket_claim,
    ticket_comment,
    ticket_reopen,
    ticket_resolve,
    ticket_set_priority,
    ticket_set_status,
)

pytestmark = pytest.mark.django_db

PAGE_KINDS = ("paged", "escalated", "sla_warning", "sla_breached")


def open_p1(make_ticket, *, at: dt.datetime = T0, **kwargs) -> Ticket:
    return make_ticket(impact=Level.HIGH, urgency=Level.HIGH, now=at, **kwargs)


def instant(iso: str) -> dt.datetime:
    return dt.datetime.fromisoformat(iso)


def pages_of(ticket: Ticket) -> list[TicketEvent]:
    return list(ticket.events.filter(kind__in=PAGE_KINDS).select_related("actor").order_by("id"))


def told(ticket: Ticket) -> list[str]:
    return [event_sentence(event) for event in pages_of(ticket)]


def test_a_p1_pages_the_oncall_primary_at_once_then_climbs_the_chain_step_by_step(make_ticket, chain):
    ticket = open_p1(make_ticket)
    assert pages_of(ticket) == []

    assert fire_due(T0) == 1
    (first,) = pages_of(ticket)
    assert (first.kind, first.public, first.actor, first.channel) == ("paged", False, None, "system")
    assert first.after["targets"] == [{"id": chain.team.members.get(username="alice").pk, "name": "Alice Primary"}]
    assert instant(first.after["next_at"]) == T0 + 2 * MINUTE
    # The audit record (the event's "after", shown in the admin) keeps the channels; the worker asked for it.
    assert first.after["channels"] == ["console", "sms"]
    assert "requested_by" not in first.after

    assert fire_due(T0 + 2 * MINUTE - dt.timedelta(seconds=1)) == 0
    assert fire_due(T0 + 2 * MINUTE) == 1
    assert fire_due(T0 + 5 * MINUTE) == 1
    assert fire_due(T0 + 8 * MINUTE) == 1
    assert told(ticket) == [
        "The helpdesk paged Alice Primary (step 1 of 3).",
        "Nobody acknowledged: The helpdesk escalated to Bob Secondary (step 2 of 3, page 1 of 2).",
        "The helpdesk paged Bob Secondary (step 2 of 3, page 2 of 2).",
        "Nobody acknowledged: The helpdesk escalated to Noora Manager (step 3 of 3).",
    ]
    assert [event.created_at for event in pages_of(ticket)] == [T0, T0 + 2 * MINUTE, T0 + 5 * MINUTE, T0 + 8 * MINUTE]
    assert pages_of(ticket)[-1].after["next_at"] is None


def test_each_page_reaches_the_console_and_the_channels_the_step_and_the_profile_allow(make_ticket, chain, manager):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    fire_due(T0 + 8 * MINUTE)
    pages = {(page.recipient.username, page.channel, page.state) for page in Page.objects.filter(ticket=ticket)}
    assert pages == {
        ("alice", "console", "sent"),
        ("alice", "sms", "pending"),  # step 1 pages by SMS too; Alice has a mobile
        ("bob", "console", "sent"),  # Bob has no contact profile: the console only
        ("manager", "console", "sent"),
        ("manager", "voice", "pending"),
    }
    assert outbox_deliver_due(now=T0 + 8 * MINUTE) == 2
    assert sorted((message.channel, message.to) for message in LocmemBackend.sent) == [
        ("sms", "+97455000001"),
        ("voice", "+97455000009"),
    ]
    sms = next(message for message in LocmemBackend.sent if message.channel == "sms")
    assert sms.reference == ticket.reference
    assert sms.body.startswith(f"Step 1 of 3: {ticket.reference} P1 critical")


def test_a_page_speaks_its_recipients_language_and_goes_only_where_their_profile_allows(make_ticket, chain, manager):
    alice = chain.team.members.get(username="alice")
    ContactProfile.objects.filter(user=alice).update(language="ar")  # SMS yes, calls no
    ContactProfile.objects.filter(user=manager).update(page_by_sms=False)  # calls yes, SMS no
    EscalationStep.objects.filter(chain=chain).update(by_sms=True, by_voice=True)
    ticket = open_p1(make_ticket)
    fire_due(T0)
    fire_due(T0 + 8 * MINUTE)
    pages = Page.objects.filter(ticket=ticket, recipient__in=[alice, manager])
    assert sorted((page.recipient.username, page.channel, page.language) for page in pages) == [
        ("alice", "console", "ar"),
        ("alice", "sms", "ar"),
        ("manager", "console", "en"),
        ("manager", "voice", "en"),
    ]
    sms = pages.get(channel="sms")
    assert sms.body.startswith(f"الخطوة 1 من 3: {ticket.reference} ")
    assert sms.body.endswith(f"للإقرار بالاستلام أرسل ACK {ticket.number} ردًّا على هذه الرسالة.")
    assert sms.to == "+97455000001"


def test_a_fired_row_records_when_it_fired_and_the_event_that_told_it(make_ticket, chain):
    ticket = open_p1(make_ticket)
    late = T0 + 30 * dt.timedelta(seconds=1)
    fire_due(late)
    row = EscalationDue.objects.get(ticket=ticket, trigger="step", step=0)
    assert (row.state, row.fired_at, row.event) == (DueState.DONE, late, pages_of(ticket)[0])


def test_the_console_row_says_who_is_paged_which_step_and_when_the_next_step_fires(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    row = TicketEscalation.objects.get(ticket=ticket).paging
    assert row["kind"] == "paged"
    assert row["targets"] == [{"id": alice.pk, "name": "Alice Primary"}]
    assert (row["step"], row["steps"], row["stopped"]) == (1, 3, False)
    assert instant(row["next_at"]) == T0 + 2 * MINUTE
    assert instant(row["at"]) == T0


@pytest.mark.parametrize("stop", ["acknowledge", "claim", "cancel"])
def test_acknowledging_taking_or_cancelling_stops_the_chain(make_ticket, chain, alice, stop):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    later = T0 + MINUTE
    if stop == "acknowledge":
        ticket_acknowledge(ticket=ticket, actor=alice, now=later)
    elif stop == "claim":
        ticket_claim(ticket=ticket, technician=alice, now=later)
    else:
        ticket_cancel(ticket=ticket, actor=alice, now=later)

    assert fire_due(T0 + dt.timedelta(hours=1)) == 0
    assert [event.kind for event in pages_of(ticket)] == ["paged"]
    steps = EscalationDue.objects.filter(ticket=ticket, trigger="step")
    assert sorted(steps.values_list("state", flat=True)) == ["cancelled", "cancelled", "cancelled", "done"]
    assert TicketEscalation.objects.get(ticket=ticket).paging["stopped"] is True


def test_a_step_for_the_team_pages_its_active_members_in_name_order(make_ticket, chain, team):
    EscalationStep.objects.filter(chain=chain, position=1).update(target=Target.TEAM)
    person("zzz-alice", "Alice", "Zahra", team=team)  # a namesake: the username decides
    person("aaa-alice", "Alice", "Zahra", team=team)
    gone = person("gone", "Aaron", "Away", team=team)
    gone.is_active = False
    gone.save()
    first, second = open_p1(make_ticket, subject="First"), open_p1(make_ticket, subject="Second")
    fire_due(T0)
    usernames = ["alice", "aaa-alice", "zzz-alice", "bob", "lead"]
    for ticket in (first, second):
        targets = pages_of(ticket)[0].after["targets"]
        assert [target["id"] for target in targets] == [team.members.get(username=name).pk for name in usernames]


def test_a_step_naming_a_person_pages_them(make_ticket, chain, lead):
    EscalationStep.objects.filter(chain=chain, position=1).update(target=Target.USER, user=lead)
    ticket = open_p1(make_ticket)
    fire_due(T0)
    assert told(ticket) == ["The helpdesk paged Layla Lead (step 1 of 3)."]


def test_a_person_the_chain_names_whose_account_was_deleted_since_is_paged_as_nobody(make_ticket, chain, manager):
    ticket = open_p1(make_ticket)  # its chain names Noora as the duty manager
    manager.delete()
    fire_due(T0 + 8 * MINUTE)
    assert told(ticket)[-1] == "The helpdesk found nobody to page (step 3 of 3: The duty manager)."


def test_a_batch_asks_the_database_as_many_questions_for_one_ticket_as_for_three(make_ticket, chain):
    open_p1(make_ticket, subject="Alone")
    with CaptureQueriesContext(connection) as one:
        assert escalation_run_due(now=T0, limit=50).taken == 1
    for number in range(3):
        open_p1(make_ticket, at=T0 + MINUTE, subject=f"Crowd {number}")
    with CaptureQueriesContext(connection) as three:
        assert escalation_run_due(now=T0 + MINUTE, limit=50).taken == 3
    assert len(three) == len(one)


def test_warning_three_assignees_asks_the_database_as_many_questions_as_warning_one(make_ticket, chain, alice):
    def claimed(at: dt.datetime, subject: str) -> Ticket:
        ticket = open_p1(make_ticket, at=at, subject=subject)
        ticket_claim(ticket=ticket, technician=alice, now=at + MINUTE)
        return ticket

    alone = claimed(T0, "Alone")
    with CaptureQueriesContext(connection) as one:
        assert escalation_run_due(now=alone.resolution_warning_at, limit=50).taken == 1
    crowd = [claimed(T0 + MINUTE, f"Crowd {number}") for number in range(3)]
    with CaptureQueriesContext(connection) as three:
        assert escalation_run_due(now=crowd[0].resolution_warning_at, limit=50).taken == 3
    assert len(three) == len(one)
    assert told(crowd[2])[-1] == "75% of the resolution time is used: The helpdesk warned Alice Primary."


def test_a_repeat_count_pages_the_same_step_again_before_the_next(make_ticket, chain):
    EscalationStep.objects.filter(chain=chain, position=1).update(repeat=2)
    ticket = open_p1(make_ticket)
    for minute in (0, 2, 4, 6):
        fire_due(T0 + minute * MINUTE)
    assert [(event.kind, event.after["step"], event.after["round"]) for event in pages_of(ticket)] == [
        ("paged", 1, 1),
        ("paged", 1, 2),
        ("paged", 1, 3),
        ("escalated", 2, 1),
    ]


def test_editing_a_chain_leaves_a_running_incident_on_the_chain_it_copied(make_ticket, chain, lead):
    running = open_p1(make_ticket, subject="Running")
    second = chain.steps.get(position=2)
    second.target, second.delay, second.repeat = Target.TEAM_LEAD, 10 * MINUTE, 0
    second.save()
    chain.steps.filter(position=3).delete()
    later = open_p1(make_ticket, subject="Opened after the edit")

    fire_due(T0 + 2 * MINUTE)
    assert [event.after["targets"][0]["name"] for event in pages_of(running)] == ["Alice Primary", "Bob Secondary"]
    assert [event.after["targets"][0]["name"] for event in pages_of(later)] == ["Alice Primary", "Layla Lead"]
    assert pages_of(later)[-1].after["steps"] == 2


def test_a_p3_waits_in_the_queue_and_pages_only_when_its_response_target_is_missed(make_ticket, chain, manager):
    ticket = make_ticket(impact=Level.MEDIUM, urgency=Level.MEDIUM, now=T0)
    breach = ticket.response_due_at
    assert fire_due(breach - dt.timedelta(seconds=1)) == 0
    assert pages_of(ticket) == []

    fire_due(breach)
    assert told(ticket) == [
        "The response target was missed: The helpdesk paged Noora Manager.",
        "The helpdesk paged Alice Primary (step 1 of 3).",
    ]
    assert pages_of(ticket)[1].created_at == breach
    assert instant(pages_of(ticket)[0].after["next_at"]) == breach  # the chain the breach started


def test_a_p1_response_breach_pages_the_duty_manager_beside_its_chain(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    fire_due(ticket.response_due_at)
    assert [event.kind for event in pages_of(ticket)][-1] == "sla_breached"
    assert pages_of(ticket)[-1].after["targets"][0]["name"] == "Noora Manager"
    assert [event.kind for event in pages_of(ticket)].count("sla_breached") == 1


def test_the_resolution_breach_pages_lead_and_manager_and_repeats_while_the_ticket_stays_open(
    make_ticket, chain, alice
):
    ticket = open_p1(make_ticket)
    ticket_claim(ticket=ticket, technician=alice, now=T0 + MINUTE)
    deadline = ticket.resolution_due_at
    fire_due(deadline)
    fire_due(deadline + dt.timedelta(minutes=59))
    fire_due(deadline + dt.timedelta(hours=1))
    breaches = [event for event in pages_of(ticket) if event.kind == "sla_breached"]
    assert [event.created_at for event in breaches] == [deadline, deadline + dt.timedelta(hours=1)]
    assert event_sentence(breaches[0]) == (
        "The resolution target was missed: The helpdesk paged Layla Lead, Noora Manager."
    )

    ticket_resolve(ticket=ticket, actor=alice, now=deadline + dt.timedelta(hours=1, minutes=5))
    assert fire_due(deadline + dt.timedelta(hours=5)) == 0


def test_reopening_restarts_the_resolution_watch(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    ticket_claim(ticket=ticket, technician=alice, now=T0 + MINUTE)
    ticket_resolve(ticket=ticket, actor=alice, now=T0 + dt.timedelta(hours=1))
    assert fire_due(T0 + dt.timedelta(hours=5)) == 0

    ticket_reopen(ticket=ticket, actor=alice, now=T0 + dt.timedelta(hours=5, minutes=1))
    ticket.refresh_from_db()
    fire_due(max(ticket.resolution_due_at, T0 + dt.timedelta(hours=5, minutes=1)))
    breaches = [event for event in pages_of(ticket) if event.kind == "sla_breached"]
    assert len(breaches) == 1
    assert TicketEscalation.objects.get(ticket=ticket).watch == 2


def test_after_ten_minutes_of_downtime_every_missed_step_fires_once_in_due_order(make_ticket, chain):
    tickets = [open_p1(make_ticket, at=T0 + minute * MINUTE, subject=f"Outage {minute}") for minute in (0, 1, 3)]
    back = T0 + 10 * MINUTE

    # Each ticket's steps are due 0, 2, 5 and 8 minutes after it opened; the third one's last step is not due yet.
    assert fire_due(back, limit=2) == 11
    fired = list(TicketEvent.objects.filter(kind__in=PAGE_KINDS).order_by("id"))
    assert [event.after["due_at"] for event in fired] == sorted(event.after["due_at"] for event in fired)
    per_ticket = {
        ticket.pk: [event.after["due_at"] for event in fired if event.ticket_id == ticket.pk] for ticket in tickets
    }
    assert [instant(due) for due in per_ticket[tickets[0].pk]] == [T0 + minutes * MINUTE for minutes in (0, 2, 5, 8)]
    assert len(per_ticket[tickets[2].pk]) == 3
    assert {event.created_at for event in fired} == {back}
    assert fire_due(back) == 0
    assert EscalationDue.objects.filter(state=DueState.DONE).count() == 11


def test_escalate_now_pages_the_next_step_at_once_and_brings_the_later_steps_forward(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    pressed = T0 + 30 * dt.timedelta(seconds=1)
    escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=pressed)

    latest = pages_of(ticket)[-1]
    assert (latest.kind, latest.actor, latest.created_at) == ("escalated", alice, pressed)
    assert event_sentence(latest) == (
        "Alice Primary escalated the ticket: Bob Secondary paged (step 2 of 3, page 1 of 2)."
    )
    assert latest.after["requested_by"] == {"id": alice.pk, "name": "Alice Primary"}
    assert instant(latest.after["next_at"]) == pressed + 3 * MINUTE
    assert fire_due(pressed + 3 * MINUTE - dt.timedelta(seconds=1)) == 0
    assert fire_due(pressed + 3 * MINUTE) == 1


def test_escalate_now_refuses_an_acknowledged_or_finished_ticket(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    ticket_acknowledge(ticket=ticket, actor=alice, now=T0 + MINUTE)
    with pytest.raises(NotAllowed) as refused:
        escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=T0 + 2 * MINUTE)
    assert refused.value.message == "Someone has already acknowledged this ticket."
    assert pages_of(ticket) == []

    finished = open_p1(make_ticket, subject="Cancelled")
    ticket_cancel(ticket=finished, actor=alice, now=T0 + MINUTE)
    with pytest.raises(NotAllowed) as refused:
        escalation_escalate_now(ticket_id=finished.pk, actor=alice, now=T0 + 2 * MINUTE)
    assert refused.value.message == "This ticket is no longer open."
    assert pages_of(finished) == []


def test_escalate_now_refuses_a_team_whose_chain_has_no_steps(make_ticket, chain, alice):
    chain.steps.all().delete()
    ticket = make_ticket(impact=Level.MEDIUM, urgency=Level.MEDIUM, now=T0)
    with pytest.raises(NotAllowed) as refused:
        escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=T0 + MINUTE)
    assert refused.value.message == "This ticket's team has no escalation steps."
    assert pages_of(ticket) == []


def test_escalate_now_gives_a_ticket_from_before_escalation_its_teams_chain(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    EscalationDue.objects.filter(ticket=ticket).delete()
    TicketEscalation.objects.filter(ticket=ticket).delete()
    escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=T0 + MINUTE)
    assert told(ticket) == ["Alice Primary escalated the ticket: Alice Primary paged (step 1 of 3)."]
    assert TicketEscalation.objects.get(ticket=ticket).chain_run == 1
    assert fire_due(T0 + 3 * MINUTE) == 1
    assert told(ticket)[-1] == (
        "Nobody acknowledged: The helpdesk escalated to Bob Secondary (step 2 of 3, page 1 of 2)."
    )


def test_escalate_now_after_the_whole_chain_paged_pages_its_last_step_again(make_ticket, chain, alice):
    """Even when an outage fired the whole chain in one instant, and when a later SLA page or another ticket's chain
    paged since: the last step is the last one of this ticket's chain."""
    ticket = open_p1(make_ticket)
    fire_due(T0 + 10 * MINUTE)
    assert len(pages_of(ticket)) == 4
    fire_due(ticket.response_due_at)
    assert pages_of(ticket)[-1].kind == "sla_breached"
    other = open_p1(make_ticket, at=ticket.response_due_at, subject="Another incident")
    fire_due(ticket.response_due_at)
    assert told(other) == ["The helpdesk paged Alice Primary (step 1 of 3)."]

    pressed = ticket.response_due_at + MINUTE
    escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=pressed)
    latest = pages_of(ticket)[-1]
    assert (latest.kind, latest.actor, latest.created_at) == ("escalated", alice, pressed)
    assert event_sentence(latest) == "Alice Primary escalated the ticket: Noora Manager paged (step 3 of 3)."
    assert latest.after["next_at"] is None
    fire_due(pressed + dt.timedelta(minutes=30))
    assert pages_of(ticket)[-1] == latest


def test_escalate_now_brings_forward_only_this_tickets_steps(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    other = open_p1(make_ticket, subject="Another incident")
    fire_due(T0)
    before = {
        (row.ticket_id, row.trigger, row.step, row.round): row.due_at
        for row in EscalationDue.objects.filter(state=DueState.PENDING)
    }
    escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=T0 + 30 * dt.timedelta(seconds=1))
    after = {
        (row.ticket_id, row.trigger, row.step, row.round): row.due_at
        for row in EscalationDue.objects.filter(state=DueState.PENDING)
    }
    assert {key: due for key, due in after.items() if key[0] == other.pk} == {
        key: due for key, due in before.items() if key[0] == other.pk
    }
    # The ticket's SLA rows stay where its targets put them; only its steps move.
    assert {key: due for key, due in after.items() if key[0] == ticket.pk and key[1] != "step"} == {
        key: due for key, due in before.items() if key[0] == ticket.pk and key[1] != "step"
    }
    assert told(other) == ["The helpdesk paged Alice Primary (step 1 of 3)."]


def test_escalate_now_starts_a_p3_chain_that_has_not_paged_yet(make_ticket, chain):
    ticket = make_ticket(impact=Level.MEDIUM, urgency=Level.MEDIUM, now=T0)
    escalation_escalate_now(ticket_id=ticket.pk, actor=None, now=T0 + MINUTE)
    assert told(ticket) == ["Nobody acknowledged: The helpdesk escalated to Alice Primary (step 1 of 3)."]
    assert fire_due(T0 + 3 * MINUTE) == 1


def test_a_team_without_a_chain_pages_its_oncall_primary_then_secondary(make_ticket, team, alice, bob):
    from tests.escalation.conftest import on_call

    on_call(team, alice, "primary")
    on_call(team, bob, "secondary")
    ticket = open_p1(make_ticket)
    fire_due(T0 + 10 * MINUTE)
    assert told(ticket) == [
        "The helpdesk paged Alice Primary (step 1 of 3).",
        "Nobody acknowledged: The helpdesk escalated to Bob Secondary (step 2 of 3).",
        "The helpdesk found nobody to page (step 3 of 3: The duty manager).",
    ]


@pytest.mark.django_db(transaction=True)
def test_an_acknowledgement_while_a_worker_holds_the_next_step_still_stops_it(make_ticket, chain, alice):
    """The acknowledgement skips the row the worker has locked instead of waiting for it; the worker, which waits for
    the ticket, sees the acknowledgement and cancels the step."""
    ticket = open_p1(make_ticket)
    fire_due(T0)
    with held_by_another_worker(EscalationDue.objects.filter(ticket=ticket, trigger="step", step=1, round=0)):
        ticket_acknowledge(ticket=ticket, actor=alice, now=T0 + MINUTE)

    held = EscalationDue.objects.get(ticket=ticket, trigger="step", step=1, round=0)
    assert held.state == DueState.PENDING  # skipped by the acknowledgement, left to the worker
    assert escalation_run_due(now=T0 + 2 * MINUTE, limit=50).taken == 1
    held.refresh_from_db()
    assert held.state == DueState.CANCELLED
    assert [event.kind for event in pages_of(ticket)] == ["paged"]


@pytest.mark.django_db(transaction=True)
def test_a_pass_fires_the_rows_another_worker_holds_later_and_the_others_at_once(make_ticket, chain):
    """Two workers never wait on each other's rows: a pass skips the row another one holds."""
    held_ticket, free_ticket = open_p1(make_ticket, subject="Held"), open_p1(make_ticket, subject="Free")
    held = EscalationDue.objects.filter(ticket=held_ticket, trigger="step", step=0)
    with held_by_another_worker(held), lock_timeout(2):  # waiting for the held row would fail the pass
        assert escalation_run_due(now=T0, limit=50).taken == 1
    assert [len(pages_of(held_ticket)), len(pages_of(free_ticket))] == [0, 1]
    assert escalation_run_due(now=T0, limit=50).taken == 1
    assert len(pages_of(held_ticket)) == 1


@pytest.mark.django_db(transaction=True)
def test_escalate_now_does_not_wait_for_a_step_a_worker_holds(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    held = EscalationDue.objects.filter(ticket=ticket, trigger="step", step=1, round=0)
    with held_by_another_worker(held), lock_timeout(2):  # waiting for the held row would fail the keypress
        escalation_escalate_now(ticket_id=ticket.pk, actor=alice, now=T0 + 30 * dt.timedelta(seconds=1))
    latest = pages_of(ticket)[-1]
    assert (latest.kind, latest.actor) == ("escalated", alice)
    assert latest.after["targets"][0]["name"] == "Bob Secondary"


@pytest.mark.django_db(transaction=True)
def test_a_target_moved_later_while_a_worker_held_its_row_moves_the_row_instead_of_paging(make_ticket, chain, alice):
    """The priority is lowered while the worker holds the response breach row: the change skips the row, and the
    worker, deciding again under the ticket lock, moves it to the new target."""
    ticket = open_p1(make_ticket)
    with held_by_another_worker(EscalationDue.objects.filter(ticket=ticket, trigger="response_breach")):
        ticket_set_priority(ticket=ticket, actor=alice, priority=3, reason="One user only", now=T0 + MINUTE)

    ticket.refresh_from_db()
    breach = EscalationDue.objects.get(ticket=ticket, trigger="response_breach")
    assert (breach.state, breach.due_at) == (DueState.PENDING, T0 + 15 * MINUTE)  # skipped, left to the worker
    fire_due(T0 + 15 * MINUTE)
    breach.refresh_from_db()
    assert ticket.response_due_at > T0 + 15 * MINUTE
    assert (breach.state, breach.due_at) == (DueState.PENDING, ticket.response_due_at)
    assert "sla_breached" not in [event.kind for event in pages_of(ticket)]


def test_at_75_percent_of_the_resolution_target_the_assignee_is_warned(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    ticket_claim(ticket=ticket, technician=alice, now=T0 + MINUTE)
    ticket.refresh_from_db()
    assert ticket.resolution_warning_at == T0 + dt.timedelta(hours=3)
    assert fire_due(T0 + dt.timedelta(hours=3) - dt.timedelta(seconds=1)) == 0
    fire_due(T0 + dt.timedelta(hours=3))
    assert told(ticket)[-1] == "75% of the resolution time is used: The helpdesk warned Alice Primary."
    assert {(page.recipient.username, page.channel) for page in Page.objects.filter(ticket=ticket)} >= {
        ("alice", "console")
    }


def test_an_unassigned_ticket_warns_the_oncall_primary(make_ticket, chain, alice):
    ticket = open_p1(make_ticket)
    ticket_acknowledge(ticket=ticket, actor=alice, now=T0 + MINUTE)
    fire_due(T0 + dt.timedelta(hours=3))
    assert told(ticket)[-1] == "75% of the resolution time is used: The helpdesk warned Alice Primary."


def test_a_paused_clock_holds_the_sla_triggers_and_the_moved_due_times_are_used_on_resume(
    make_ticket, chain, alice, staff
):
    ticket = open_p1(make_ticket)
    ticket_claim(ticket=ticket, technician=alice, now=T0 + MINUTE)
    ticket_set_status(ticket=ticket, actor=alice, status="waiting", now=T0 + dt.timedelta(hours=1))
    assert fire_due(T0 + dt.timedelta(hours=5)) == 0  # the warning and the deadline passed while paused

    ticket_comment(ticket=ticket, author=staff, body="Here is the log you asked for.", now=T0 + dt.timedelta(hours=5))
    ticket.refresh_from_db()
    assert ticket.sla_paused_at is None
    assert ticket.resolution_warning_at == T0 + dt.timedelta(hours=7)
    assert ticket.resolution_due_at == T0 + dt.timedelta(hours=8)
    assert fire_due(T0 + dt.timedelta(hours=7) - dt.timedelta(seconds=1)) == 0
    fire_due(T0 + dt.timedelta(hours=8))
    assert [(event.kind, event.created_at) for event in pages_of(ticket)][-2:] == [
        ("sla_warning", T0 + dt.timedelta(hours=8)),
        ("sla_breached", T0 + dt.timedelta(hours=8)),
    ]
    assert [event.after["due_at"] for event in pages_of(ticket)][-2:] == [
        (T0 + dt.timedelta(hours=7)).astimezone(dt.UTC).isoformat(),
        (T0 + dt.timedelta(hours=8)).astimezone(dt.UTC).isoformat(),
    ]


def test_a_row_that_fails_to_fire_is_tried_again_later_and_the_rest_of_its_batch_fires(
    make_ticket, chain, monkeypatch, caplog
):
    broken, fine = open_p1(make_ticket, subject="Broken"), open_p1(make_ticket, subject="Fine")
    also_fine = open_p1(make_ticket, subject="Also fine")
    real_oncall_user = engine.oncall_user
    # The batch fails on the first row, and that row fails again when fired alone.
    failures = [RuntimeError("rota service down"), RuntimeError("rota service down")]

    def oncall_user(*, team_id, at, layer="primary"):
        if failures:
            raise failures.pop()
        return real_oncall_user(team_id=team_id, at=at, layer=layer)

    monkeypatch.setattr(engine, "oncall_user", oncall_user)
    # One pass: the batch of three fails, then each row is fired alone; the broken one counts as taken.
    assert escalation_run_due(now=T0, limit=50) == engine.Batch(taken=3, oldest_due_at=T0)
    assert [len(pages_of(broken)), len(pages_of(fine)), len(pages_of(also_fine))] == [0, 1, 1]
    row = EscalationDue.objects.get(ticket=broken, trigger="step", step=0)
    assert (row.state, row.attempts, row.due_at) == (DueState.PENDING, 1, T0 + 2 * dt.timedelta(seconds=1))
    assert row.last_error == "RuntimeError: rota service down"
    logged = [(record.levelname, record.getMessage(), record.exc_info) for record in caplog.records]
    assert logged[0][:2] == (
        "WARNING",
        f"escalation row {row.pk}: rota service down; firing its batch again one row at a time",
    )
    (level, message, exc_info) = logged[1]
    assert (level, message) == ("ERROR", f"escalation row {row.pk}: rota service down; it will be tried again later")
    assert isinstance(exc_info[1], RuntimeError)  # the operator sees where it failed

    fire_due(T0 + 2 * dt.timedelta(seconds=1))
    assert told(broken) == ["The helpdesk paged Alice Primary (step 1 of 3)."]


def test_a_pass_takes_at_most_its_limit_oldest_first(make_ticket, chain):
    first = open_p1(make_ticket, subject="First")
    second = open_p1(make_ticket, at=T0 + MINUTE, subject="Second")
    batch = escalation_run_due(now=T0 + MINUTE, limit=1)
    assert (batch.taken, batch.oldest_due_at) == (1, T0)
    assert [len(pages_of(first)), len(pages_of(second))] == [1, 0]
    assert escalation_run_due(now=T0 + MINUTE, limit=1).taken == 1
    assert len(pages_of(second)) == 1
    assert escalation_run_due(now=T0 + MINUTE, limit=1) == engine.Batch(taken=0, oldest_due_at=None)


def test_a_row_that_keeps_failing_waits_longer_each_time_and_keeps_the_start_of_its_error(
    make_ticket, chain, monkeypatch
):
    ticket = open_p1(make_ticket)

    def oncall_user(*, team_id, at, layer="primary"):
        raise RuntimeError("rota service down: " + "x" * 600)

    monkeypatch.setattr(engine, "oncall_user", oncall_user)
    now, waits = T0, []
    for _attempt in range(3):
        # The worker's lag counts the failing row too.
        assert escalation_run_due(now=now, limit=50) == engine.Batch(taken=1, oldest_due_at=now)
        row = EscalationDue.objects.get(ticket=ticket, trigger="step", step=0)
        waits.append(row.due_at - now)
        now = row.due_at
    assert waits == [dt.timedelta(seconds=seconds) for seconds in (2, 4, 8)]
    assert row.attempts == 3
    assert row.last_error == ("RuntimeError: rota service down: " + "x" * 600)[:500]
    assert pages_of(ticket) == []


def test_the_worker_sleeps_until_the_next_pending_row_or_page_retry(make_ticket, chain):
    assert engine.escalation_next_wake() is None
    ticket = open_p1(make_ticket)
    assert engine.escalation_next_wake() == T0  # the first step
    fire_due(T0)
    # The first step fired (its row is done); Alice's SMS waits in the outbox, due at once.
    assert Page.objects.get(ticket=ticket, channel="sms").next_attempt_at == T0
    assert engine.escalation_next_wake() == T0
    assert outbox_deliver_due(now=T0) == 1
    assert engine.escalation_next_wake() == T0 + 2 * MINUTE  # the second step
    ticket_acknowledge(ticket=ticket, actor=ticket.team.members.get(username="alice"), now=T0 + MINUTE)
    ticket.refresh_from_db()
    assert engine.escalation_next_wake() == ticket.resolution_warning_at


def test_pages_are_told_in_arabic_too(make_ticket, chain):
    ticket = open_p1(make_ticket)
    fire_due(T0)
    with translation.override("ar"):
        assert told(ticket)[0].endswith("Alice Primary (الخطوة 1 من 3).")
        assert told(ticket)[0].startswith("نادى ")
