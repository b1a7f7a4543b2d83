"""The escalation worker's transactions: fire due rows exactly once, and "escalate now".

With its command (`escalation_worker`), the only part of escalation/ that imports `tickets.services`: every ticket
change made here is one event written through `ticket_escalation_record`.

Exactly once: a batch of due rows is locked with `SELECT ... FOR UPDATE SKIP LOCKED` (a second worker takes other
rows), then their tickets are locked in id order (two workers never wait on each other in a cycle). Each row is
decided again on its locked ticket by `escalation.rules.decide`, and fired: its event, its pages (the outbox) and the
row marked done are written in one transaction. A worker killed before it commits leaves its rows pending and
unlocked, and the next worker fires them.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from escalation import rules
from escalation.models import DueState, EscalationDue, Page, Target, TicketEscalation, Trigger
from escalation.outbox import outbox_next_attempt_at, page_enqueue, page_text
from escalation.selectors import contact_profile_get, oncall_user
from escalation.services import due_create, escalation_for, ticket_values, wake_worker
from tickets.exceptions import NotAllowed
from tickets.models import Ticket, TicketEvent
from tickets.selectors import iso_or_none, user_ref
from tickets.sentences import page_step_label
from tickets.services import ticket_escalation_record

logger = logging.getLogger(__name__)

# A row whose firing failed (a bug, a lost connection) is tried again later, never dropped: its lag shows in /healthz.
RETRY_MAX_DELAY = dt.timedelta(minutes=10)


def _due(row: EscalationDue) -> rules.Due:
    return rules.Due(row.trigger, row.step, row.round, row.generation, row.due_at)


@dataclass(frozen=True)
class Batch:
    taken: int
    # The due instant of the most overdue row taken: how late this batch ran.
    oldest_due_at: dt.datetime | None


class _RowFailed(Exception):
    """One row could not be fired; its whole batch was rolled back."""

    def __init__(self, row: EscalationDue, error: Exception) -> None:
        super().__init__(f"escalation row {row.pk}: {error}")
        self.row = row
        self.error = error


def escalation_run_due(*, now: dt.datetime, limit: int) -> Batch:
    """Fire up to `limit` rows due at `now`, oldest first, in one transaction. Should a row fail (a bug, a bad
    snapshot), the batch is rolled back and fired again one row per transaction, so the failing row alone waits for a
    later retry; a lost database connection is raised to the worker."""
    try:
        return _run_batch(now=now, limit=limit)
    except _RowFailed as failed:
        logger.warning("%s; firing its batch again one row at a time", failed)
    taken, oldest_due_at = 0, None
    for _attempt in range(limit):
        try:
            batch = _run_batch(now=now, limit=1)
        except _RowFailed as failed:
            logger.error("%s; it will be tried again later", failed, exc_info=failed.error)
            _retry_later(failed.row, failed.error, now=now)
            batch = Batch(taken=1, oldest_due_at=failed.row.due_at)
        if not batch.taken:
            break
        taken += 1
        oldest_due_at = oldest_due_at or batch.oldest_due_at
    return Batch(taken=taken, oldest_due_at=oldest_due_at)


def _run_batch(*, now: dt.datetime, limit: int) -> Batch:
    with transaction.atomic():
        rows = list(
            EscalationDue.objects.select_for_update(skip_locked=True)
            .filter(state=DueState.PENDING, due_at__lte=now)
            .order_by("due_at", "pk")[:limit]
        )
        if not rows:
            return Batch(taken=0, oldest_due_at=None)
        ticket_ids = sorted({row.ticket_id for row in rows})
        tickets = {
            ticket.pk: ticket
            for ticket in Ticket.objects.select_for_update(of=("self",))
            .select_related("service", "team")
            .filter(pk__in=ticket_ids)
            .order_by("pk")
        }
        escalations = {item.ticket_id: item for item in TicketEscalation.objects.filter(ticket_id__in=ticket_ids)}
        for row in rows:
            try:
                _apply(row, tickets[row.ticket_id], escalations.get(row.ticket_id), now=now)
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:
                raise _RowFailed(row, error) from error
    return Batch(taken=len(rows), oldest_due_at=rows[0].due_at)


def _retry_later(row: EscalationDue, error: Exception, *, now: dt.datetime) -> None:
    delay = min(dt.timedelta(seconds=2 ** min(row.attempts + 1, 10)), RETRY_MAX_DELAY)
    EscalationDue.objects.filter(pk=row.pk).update(
        attempts=F("attempts") + 1, last_error=f"{error.__class__.__name__}: {error}"[:500], due_at=now + delay
    )


def _apply(row: EscalationDue, ticket: Ticket, escalation: TicketEscalation | None, *, now: dt.datetime) -> None:
    """Decide the row again on its locked ticket, and cancel, move or fire it."""
    if escalation is None:
        row.state = DueState.CANCELLED
        row.save(update_fields=["state"])
        return
    chain = rules.Chain.from_json(escalation.chain)
    decision = rules.decide(
        _due(row), ticket_values(ticket), chain, chain_run=escalation.chain_run, watch=escalation.watch, now=now
    )
    if isinstance(decision, rules.Cancel):
        row.state = DueState.CANCELLED
        row.save(update_fields=["state"])
    elif isinstance(decision, rules.Move):
        row.due_at = decision.due_at
        row.save(update_fields=["due_at"])
    else:
        _fire(row, ticket, escalation, chain, decision, now=now)


def _fire(
    row: EscalationDue,
    ticket: Ticket,
    escalation: TicketEscalation,
    chain: rules.Chain,
    decision: rules.Fire,
    *,
    now: dt.datetime,
    actor: User | None = None,
) -> TicketEvent:
    """Write the page's event, its outbox rows and its consequences, and mark the row done."""
    if decision.starts_chain:
        escalation.chain_run += 1
    due_create(ticket_id=ticket.pk, rows=decision.then)
    people = _recipients(ticket, chain, decision, now=now)
    next_at = (
        EscalationDue.objects.filter(
            ticket_id=ticket.pk, trigger=Trigger.STEP, generation=escalation.chain_run, state=DueState.PENDING
        )
        .exclude(pk=row.pk)
        .order_by("due_at")
        .values_list("due_at", flat=True)
        .first()
    )
    details: dict[str, Any] = {
        "trigger": row.trigger,
        **rules.step_label_values(chain, _due(row)),
        "roles": list(decision.targets),
        "targets": [user_ref(person) for person in people],
        "channels": list(decision.channels),
        "due_at": iso_or_none(row.due_at),
        "next_at": iso_or_none(next_at),
    }
    if actor is not None:
        details["requested_by"] = user_ref(actor)
    event = ticket_escalation_record(ticket_id=ticket.pk, kind=decision.kind, details=details, now=now, actor=actor)
    row.state = DueState.DONE
    row.fired_at = now
    row.event = event
    row.save(update_fields=["state", "fired_at", "event"])
    for person in people:
        _page(ticket, person, decision.channels, event=event, now=now)
    escalation.paging = {**details, "kind": decision.kind, "at": iso_or_none(now), "stopped": False}
    escalation.save(update_fields=["chain_run", "paging"])
    return event


def _role_people(
    role: str, ticket: Ticket, chain: rules.Chain, step_user: rules.Person | None, now: dt.datetime
) -> list[User]:
    if role in (Target.ONCALL_PRIMARY, Target.ONCALL_SECONDARY):
        layer = "primary" if role == Target.ONCALL_PRIMARY else "secondary"
        person = oncall_user(team_id=ticket.team_id, at=now, layer=layer)
        return [person] if person is not None else []
    if role == Target.TEAM:
        return list(ticket.team.members.filter(is_active=True).order_by("first_name", "last_name", "username"))
    if role == rules.ASSIGNEE:
        if ticket.assignee is not None:
            return [ticket.assignee]
        return _role_people(Target.ONCALL_PRIMARY, ticket, chain, None, now)
    named: dict[str, rules.Person | None] = {
        Target.TEAM_LEAD: chain.team_lead,
        Target.DUTY_MANAGER: chain.duty_manager,
        Target.USER: step_user,
    }
    person_ref = named.get(role)
    if person_ref is None:
        return []
    return list(User.objects.filter(pk=person_ref.id, is_active=True))


def _recipients(ticket: Ticket, chain: rules.Chain, decision: rules.Fire, *, now: dt.datetime) -> list[User]:
    """The people a page reaches, in the order of its targets, each once; inactive accounts are left out."""
    people: dict[int, User] = {}
    for role in decision.targets:
        for person in _role_people(role, ticket, chain, decision.user, now):
            if person.is_active:
                people.setdefault(person.pk, person)
    return list(people.values())


def _page(ticket: Ticket, person: User, channels: tuple[str, ...], *, event: TicketEvent, now: dt.datetime) -> None:
    """Queue the page to one person on each channel of the step that their contact profile allows, in their
    language, led by what paged them ("step 2 of 3", "Resolution target missed")."""
    profile = contact_profile_get(user=person)
    language = profile.language if profile is not None and profile.language else settings.LANGUAGE_CODE
    reachable = profile is not None and bool(profile.mobile)
    allowed = {
        Page.Channel.CONSOLE: True,
        Page.Channel.SMS: reachable and profile is not None and profile.page_by_sms,
        Page.Channel.VOICE: reachable and profile is not None and profile.page_by_voice,
    }
    with translation.override(language):
        step = page_step_label(event.after)
    for channel in channels:
        if allowed.get(Page.Channel(channel), False):
            text = page_text(ticket=ticket, channel=channel, language=language)
            page_enqueue(
                ticket_id=ticket.pk,
                recipient=person,
                channel=channel,
                body=f"{step[:1].upper()}{step[1:]}: {text}",
                language=language,
                step=step,
                now=now,
            )


def escalate_now(*, ticket_id: int, actor: User | None, now: dt.datetime) -> None:
    """Page the next step of the ticket's chain at once, and bring its later steps forward by as much; start the chain
    (or page its last step again) when no step is waiting. See `escalation.services.escalation_escalate_now`."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update(of=("self",)).select_related("service", "team").get(pk=ticket_id)
        values = ticket_values(ticket)
        if not values.is_open:
            raise NotAllowed(_("This ticket is no longer open."))
        if not rules.chain_active(values):
            raise NotAllowed(_("Someone has already acknowledged this ticket."))
        escalation = escalation_for(ticket=ticket, now=now)
        chain = rules.Chain.from_json(escalation.chain)
        if not chain.steps:
            raise NotAllowed(_("This ticket's team has no escalation steps."))
        waiting = list(
            EscalationDue.objects.select_for_update(skip_locked=True)
            .filter(ticket=ticket, trigger=Trigger.STEP, generation=escalation.chain_run, state=DueState.PENDING)
            .order_by("due_at", "pk")
        )
        if waiting:
            row, later = waiting[0], waiting[1:]
            ahead = max(row.due_at - now, dt.timedelta(0))
            for other in later:
                other.due_at -= ahead
            EscalationDue.objects.bulk_update(later, ["due_at"])
        else:
            row = _chain_restart(ticket, escalation, chain, now=now)
        decision = rules.decide(
            _due(row), values, chain, chain_run=escalation.chain_run, watch=escalation.watch, now=now
        )
        if not isinstance(decision, rules.Fire):
            raise NotAllowed()
        escalated = rules.Fire(
            kind=TicketEvent.Kind.ESCALATED, targets=decision.targets, channels=decision.channels, user=decision.user
        )
        _fire(row, ticket, escalation, chain, escalated, now=now, actor=actor)
        wake_worker()


def _chain_restart(ticket: Ticket, escalation: TicketEscalation, chain: rules.Chain, *, now: dt.datetime):
    """A new run of the chain from the step after the last one that paged (its last step again at the end)."""
    last = (
        EscalationDue.objects.filter(ticket=ticket, trigger=Trigger.STEP, state=DueState.DONE)
        .order_by("-fired_at", "-pk")
        .values_list("step", flat=True)
        .first()
    )
    first_step = 0 if last is None else min(last + 1, len(chain.steps) - 1)
    escalation.chain_run += 1
    rows = due_create(
        ticket_id=ticket.pk, rows=rules.chain_plan(chain, run=escalation.chain_run, start=now, first_step=first_step)
    )
    return rows[0]


def escalation_next_wake() -> dt.datetime | None:
    """The next instant the worker has something to do: the earliest pending due row or page retry."""
    next_due = (
        EscalationDue.objects.filter(state=DueState.PENDING).order_by("due_at").values_list("due_at", flat=True).first()
    )
    instants = [instant for instant in (next_due, outbox_next_attempt_at()) if instant is not None]
    return min(instants, default=None)
