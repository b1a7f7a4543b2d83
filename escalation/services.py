"""Escalation writes that ride in a ticket's own transaction.

`tickets.services._record` calls `escalation_on_event` for every ticket change, under the ticket's row lock: it copies
the team's chain when the ticket opens, schedules the due rows of a chain run and of the SLA triggers, moves them when
the clock moves the deadlines, cancels them when the ticket is acknowledged, resolved or cancelled, and wakes the
worker (PostgreSQL `NOTIFY`, delivered at commit). The worker (`escalation.engine`) fires the rows.

This module never imports `tickets.services` (they call in here); what writes ticket events lives in the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from functools import partial

from django.contrib.auth.models import User
from django.db import connection

from escalation import rules
from escalation.models import DueState, EscalationChain, EscalationDue, TicketEscalation, Trigger
from escalation.settings_cache import SettingsCache
from tickets.models import Ticket, TicketEvent
from tickets.selectors import user_record

# The channel the worker LISTENs on.
NOTIFY_CHANNEL = "helpdesk_escalation"

ESCALATION_EVENT_KINDS = frozenset(
    {
        TicketEvent.Kind.PAGED,
        TicketEvent.Kind.ESCALATED,
        TicketEvent.Kind.SLA_WARNING,
        TicketEvent.Kind.SLA_BREACHED,
        TicketEvent.Kind.PAGE_ATTEMPT,
    }
)


def ticket_values(ticket: Ticket) -> rules.TicketValues:
    return rules.TicketValues(
        priority=ticket.priority,
        status=ticket.status,
        assignee_id=ticket.assignee_id,
        acknowledged_at=ticket.acknowledged_at,
        responded_at=ticket.responded_at,
        sla_paused_at=ticket.sla_paused_at,
        response_due_at=ticket.response_due_at,
        resolution_due_at=ticket.resolution_due_at,
        resolution_warning_at=ticket.resolution_warning_at,
    )


def _person(user: User | None) -> rules.Person | None:
    return rules.Person.from_json(user_record(user))


_chains = SettingsCache()


def chain_for_team(*, team_id: int) -> rules.Chain:
    """The team's chain as a ticket copies it; the default chain for a team that has none. A process keeps the chains
    it read until the settings change (escalation.settings_cache)."""
    return _chains.get(team_id, partial(_chain_read, team_id=team_id))


def _chain_read(*, team_id: int) -> rules.Chain:
    # A team has at most one chain: no order to ask for (the model's orders by the team's name, a join).
    chain = next(
        iter(EscalationChain.objects.select_related("team_lead", "duty_manager").filter(team_id=team_id).order_by()),
        None,
    )
    if chain is None:
        return rules.DEFAULT_CHAIN
    steps = tuple(
        rules.Step(
            target=step.target,
            delay=step.delay,
            channels=tuple(step.channels),
            repeat=step.repeat,
            user=_person(step.user),
        )
        for step in chain.steps.select_related("user").order_by("position")
    )
    return rules.Chain(
        steps=steps,
        team_lead=_person(chain.team_lead),
        duty_manager=_person(chain.duty_manager),
        breach_repeat=chain.breach_repeat,
    )


def escalation_for(*, ticket: Ticket, now: dt.datetime) -> TicketEscalation:
    """The ticket's escalation row; a ticket opened before escalation existed gets its team's chain now. The caller
    holds the ticket lock."""
    escalation = TicketEscalation.objects.filter(ticket=ticket).first()
    if escalation is None:
        chain = chain_for_team(team_id=ticket.team_id)
        escalation = TicketEscalation.objects.create(ticket=ticket, chain=chain.as_json(), created_at=now)
    # Also sets `ticket.escalation`: the console's row of the change reads its paging without another query.
    escalation.ticket = ticket
    return escalation


def due_create(*, ticket_id: int, rows: Iterable[rules.Due]) -> list[EscalationDue]:
    return EscalationDue.objects.bulk_create(
        EscalationDue(
            ticket_id=ticket_id,
            trigger=row.trigger,
            step=row.step,
            round=row.round,
            generation=row.generation,
            due_at=row.due_at,
        )
        for row in rows
    )


def wake_worker() -> None:
    """Wake the workers when this transaction commits (PostgreSQL delivers NOTIFY at commit, never on rollback).
    On SQLite the worker polls."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, '')", [NOTIFY_CHANNEL])


def escalation_on_event(*, ticket: Ticket, event: TicketEvent) -> None:
    """React to one ticket change, in its transaction. The caller (`tickets.services._record`) holds the ticket lock.

    Due rows a worker has locked are skipped, not waited for: the worker waits for the ticket lock held here, then
    decides again with this change committed (a worker never waits for a due row while holding a ticket)."""
    if event.kind in ESCALATION_EVENT_KINDS:
        return
    if event.kind == TicketEvent.Kind.OPENED:
        _escalation_open(ticket=ticket, event=event)
        return
    escalation = escalation_for(ticket=ticket, now=event.created_at)
    before = (escalation.chain_run, escalation.watch, escalation.paging)
    values = ticket_values(ticket)
    chain = rules.Chain.from_json(escalation.chain)
    wake = False
    if event.kind == TicketEvent.Kind.REOPENED:
        escalation.watch += 1
    if rules.chain_starts_now(values, chain_run=escalation.chain_run):
        start = ticket.opened_at if event.kind == TicketEvent.Kind.OPENED else event.created_at
        escalation.chain_run += 1
        plan = rules.chain_plan(chain, run=escalation.chain_run, start=start)
        wake = bool(due_create(ticket_id=ticket.pk, rows=plan))
    elif not rules.chain_active(values):
        _chain_stop(escalation)
    wake = _sla_sync(escalation, values, chain) or wake
    if (escalation.chain_run, escalation.watch, escalation.paging) != before:
        escalation.save(update_fields=["chain_run", "watch", "paging"])
    if wake:
        wake_worker()


def _escalation_open(*, ticket: Ticket, event: TicketEvent) -> None:
    """What `escalation_on_event` does for any change, for a ticket just opened, which has no escalation row and no
    due rows yet: its team's chain copied, the chain started when the ticket pages at once, the SLA rows scheduled,
    each table written once and nothing read back that cannot exist."""
    chain = chain_for_team(team_id=ticket.team_id)
    values = ticket_values(ticket)
    escalation = TicketEscalation(ticket=ticket, chain=chain.as_json(), created_at=event.created_at)
    rows: list[rules.Due] = []
    if rules.chain_starts_now(values, chain_run=escalation.chain_run):
        escalation.chain_run += 1
        rows.extend(rules.chain_plan(chain, run=escalation.chain_run, start=ticket.opened_at))
    rows.extend(_sla_rows(values, chain, watch=escalation.watch))
    escalation.save()
    # Also sets `ticket.escalation`: the console's row of the change reads its paging without another query.
    escalation.ticket = ticket
    if due_create(ticket_id=ticket.pk, rows=rows):
        wake_worker()


def _chain_stop(escalation: TicketEscalation) -> None:
    pending = EscalationDue.objects.filter(
        ticket_id=escalation.ticket_id, trigger=Trigger.STEP, state=DueState.PENDING
    )
    ids = list(pending.select_for_update(skip_locked=True).values_list("pk", flat=True))
    if ids:
        EscalationDue.objects.filter(pk__in=ids).update(state=DueState.CANCELLED)
    if escalation.paging and not escalation.paging.get("stopped"):
        escalation.paging = {**escalation.paging, "stopped": True, "next_at": None}


def _sla_sync(escalation: TicketEscalation, values: rules.TicketValues, chain: rules.Chain) -> bool:
    """Make the SLA rows of the current watch say what the ticket's deadlines say: moved, revived after a pause,
    cancelled when met or paused, created when missing. A row that fired stays fired. True when a row is now due
    sooner than before (the worker must recompute its sleep)."""
    rows = list(
        EscalationDue.objects.filter(ticket_id=escalation.ticket_id, trigger__in=rules.SLA_TRIGGERS).values_list(
            "pk", "trigger", "round", "generation", "state", "due_at"
        )
    )
    keys = {(trigger, round_, generation) for _pk, trigger, round_, generation, _state, _due in rows}
    changes: dict[int, tuple[str, dt.datetime]] = {}
    wake = False
    for pk, trigger, round_, generation, state, due_at in rows:
        if state == DueState.DONE:
            continue
        wanted = rules.sla_due_at(trigger, round_, values, chain) if generation == escalation.watch else None
        if wanted is None:
            if state == DueState.PENDING:
                changes[pk] = (DueState.CANCELLED, due_at)
        elif state != DueState.PENDING or wanted != due_at:
            changes[pk] = (DueState.PENDING, wanted)
            wake = wake or state != DueState.PENDING or wanted < due_at
    if changes:
        locked = EscalationDue.objects.select_for_update(skip_locked=True).filter(pk__in=list(changes))
        for row in locked:
            row.state, row.due_at = changes[row.pk]
            row.save(update_fields=["state", "due_at"])
    missing = _sla_rows(values, chain, watch=escalation.watch, existing=keys)
    due_create(ticket_id=escalation.ticket_id, rows=missing)
    return wake or bool(missing)


def _sla_rows(
    values: rules.TicketValues,
    chain: rules.Chain,
    *,
    watch: int,
    existing: Collection[tuple[str, int, int]] = (),
) -> list[rules.Due]:
    """The SLA rows the ticket's deadlines call for in `watch`, but those `existing` already holds (by trigger,
    round and watch)."""
    return [
        rules.Due(trigger, 0, round_, watch, due_at)
        for (trigger, round_), due_at in rules.sla_plan(values, chain).items()
        if due_at is not None and (trigger, round_, watch) not in existing
    ]


def escalation_escalate_now(*, ticket_id: int, actor: User | None, now: dt.datetime) -> None:
    """Page the ticket's next step at once (the hotline's keypress 2), in its own transaction. Raises
    `tickets.exceptions.NotAllowed` when the ticket is finished or already acknowledged."""
    # The engine writes the ticket event; it imports tickets.services, which imports this module.
    from escalation.engine import escalate_now

    escalate_now(ticket_id=ticket_id, actor=actor, now=now)

