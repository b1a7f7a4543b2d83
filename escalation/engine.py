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
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import translation
from django.utils.translation import gettext as _

from escalation import rules
from escalation.models import ContactProfile, DueState, EscalationDue, Page, Target, TicketEscalation, Trigger
from escalation.outbox import PageDraft, outbox_next_attempt_at, page_text, pages_enqueue
from escalation.selectors import oncall_user
from escalation.services import due_create, escalation_for, ticket_values, wake_worker
from tickets.exceptions import NotAllowed
from tickets.models import Ticket, TicketEvent
from tickets.selectors import iso_or_none, user_record
from tickets.sentences import page_step_label
from tickets.services import EscalationRecord, ticket_escalation_record_many

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
        firing = _Firing(ticket_ids={row.ticket_id for row in rows}, now=now)
        for row in rows:
            try:
                firing.apply(row)
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:
                raise _RowFailed(row, error) from error
        firing.write()
    return Batch(taken=len(rows), oldest_due_at=rows[0].due_at)


def _retry_later(row: EscalationDue, error: Exception, *, now: dt.datetime) -> None:
    delay = min(dt.timedelta(seconds=2 ** min(row.attempts + 1, 10)), RETRY_MAX_DELAY)
    EscalationDue.objects.filter(pk=row.pk).update(
        attempts=F("attempts") + 1, last_error=f"{error.__class__.__name__}: {error}"[:500], due_at=now + delay
    )


@dataclass
class _Page:
    ticket: Ticket
    person: User
    channels: tuple[str, ...]
    details: dict[str, Any]


class _Firing:
    """The rows of one batch, decided one by one in due order on their locked tickets, and written together: the
    events in one insert, the rows, escalations and pages in a few more, whatever the batch's size. What a row
    changes in memory (a chain started, a step fired) is seen by the rows after it."""

    def __init__(self, *, ticket_ids: set[int], now: dt.datetime) -> None:
        self.now = now
        ids = sorted(ticket_ids)
        # Locked in id order, so two workers never wait on each other's tickets in a cycle.
        self.tickets = {
            ticket.pk: ticket
            for ticket in Ticket.objects.select_for_update(of=("self",))
            .select_related("service", "team", "assignee")
            .filter(pk__in=ids)
            .order_by("pk")
        }
        self.escalations = {item.ticket_id: item for item in TicketEscalation.objects.filter(ticket_id__in=ids)}
        # Each ticket's pending chain steps, (due instant, run, row id), to tell when its next step fires.
        self.waiting: dict[int, list[tuple[dt.datetime, int, int | None]]] = {ticket_id: [] for ticket_id in ids}
        pending_steps = EscalationDue.objects.filter(
            ticket_id__in=ids, trigger=Trigger.STEP, state=DueState.PENDING
        ).values_list("ticket_id", "due_at", "generation", "pk")
        for ticket_id, due_at, generation, pk in pending_steps:
            self.waiting[ticket_id].append((due_at, generation, pk))
        self.cancelled: list[int] = []
        self.moved: list[EscalationDue] = []
        self.fired: list[EscalationDue] = []
        self.records: list[EscalationRecord] = []
        self.new_rows: dict[int, list[rules.Due]] = {}
        self.pages: list[_Page] = []
        self.oncall: dict[tuple[int, str], User | None] = {}
        self.people: dict[int, User | None] = {}
        self.members: dict[int, list[User]] = {}

    def apply(self, row: EscalationDue) -> None:
        """Decide the row again on its locked ticket: cancel it, move it, or fire it."""
        ticket, escalation = self.tickets[row.ticket_id], self.escalations.get(row.ticket_id)
        if escalation is None:
            self.cancelled.append(row.pk)
            return
        chain = rules.Chain.from_json(escalation.chain)
        values = ticket_values(ticket)
        decision = rules.decide(
            _due(row), values, chain, chain_run=escalation.chain_run, watch=escalation.watch, now=self.now
        )
        if isinstance(decision, rules.Cancel):
            self.cancelled.append(row.pk)
        elif isinstance(decision, rules.Move):
            row.due_at = decision.due_at
            self.moved.append(row)
        else:
            self.fire(row, decision)

    def fire(self, row: EscalationDue, decision: rules.Fire, *, actor: User | None = None) -> None:
        ticket, escalation = self.tickets[row.ticket_id], self.escalations[row.ticket_id]
        chain = rules.Chain.from_json(escalation.chain)
        if decision.starts_chain:
            escalation.chain_run += 1
        if decision.then:
            self.new_rows.setdefault(ticket.pk, []).extend(decision.then)
        waiting = self.waiting[ticket.pk]
        waiting[:] = [item for item in waiting if item[2] is None or item[2] != row.pk]
        waiting.extend((due.due_at, due.generation, None) for due in decision.then if due.trigger == Trigger.STEP)
        next_at = min((due_at for due_at, run, _pk in waiting if run == escalation.chain_run), default=None)
        people = self._recipients(ticket, chain, decision)
        details: dict[str, Any] = {
            "trigger": row.trigger,
            **rules.step_label_values(chain, _due(row)),
            "roles": list(decision.targets),
            "targets": [user_record(person) for person in people],
            "channels": list(decision.channels),
            "due_at": iso_or_none(row.due_at),
            "next_at": iso_or_none(next_at),
        }
        if actor is not None:
            details["requested_by"] = user_record(actor)
        self.records.append(EscalationRecord(ticket_id=ticket.pk, kind=decision.kind, details=details, actor=actor))
        self.fired.append(row)
        self.pages.extend(_Page(ticket, person, decision.channels, details) for person in people)
        escalation.paging = {**details, "kind": decision.kind, "at": iso_or_none(self.now), "stopped": False}

    def write(self) -> None:
        """Write the batch: one event per fired row, the rows' new states, the rows the firing added, the
        escalations' paging, and the pages."""
        events = ticket_escalation_record_many(records=self.records, now=self.now)
        for row, event in zip(self.fired, events, strict=True):
            row.event = event
        EscalationDue.objects.filter(pk__in=[row.pk for row in self.fired]).update(
            state=DueState.DONE, fired_at=self.now
        )
        EscalationDue.objects.bulk_update(self.fired, ["event"])
        EscalationDue.objects.filter(pk__in=self.cancelled).update(state=DueState.CANCELLED)
        EscalationDue.objects.bulk_update(self.moved, ["due_at"])
        for ticket_id, rows in self.new_rows.items():
            due_create(ticket_id=ticket_id, rows=rows)
        fired_tickets = {row.ticket_id for row in self.fired}
        TicketEscalation.objects.bulk_update(
            [self.escalations[ticket_id] for ticket_id in sorted(fired_tickets)], ["chain_run", "paging"]
        )
        profiles = {
            profile.user_id: profile
            for profile in ContactProfile.objects.filter(user_id__in={page.person.pk for page in self.pages})
        }
        drafts = [draft for page in self.pages for draft in _drafts(page, profiles.get(page.person.pk))]
        pages_enqueue(drafts=drafts, now=self.now)

    def _recipients(self, ticket: Ticket, chain: rules.Chain, decision: rules.Fire) -> list[User]:
        """The people a page reaches, in the order of its targets, each once; inactive accounts are left out."""
        people: dict[int, User] = {}
        for role in decision.targets:
            for person in self._role_people(role, ticket, chain, decision.user):
                if person.is_active:
                    people.setdefault(person.pk, person)
        return list(people.values())

    def _role_people(
        self, role: str, ticket: Ticket, chain: rules.Chain, step_user: rules.Person | None
    ) -> list[User]:
        if role in (Target.ONCALL_PRIMARY, Target.ONCALL_SECONDARY):
            layer = "primary" if role == Target.ONCALL_PRIMARY else "secondary"
            key = (ticket.team_id, layer)
            if key not in self.oncall:
                self.oncall[key] = oncall_user(team_id=ticket.team_id, at=self.now, layer=layer)
            person = self.oncall[key]
            return [person] if person is not None else []
        if role == Target.TEAM:
            if ticket.team_id not in self.members:
                members = ticket.team.members.filter(is_active=True).order_by("first_name", "last_name", "username")
                self.members[ticket.team_id] = list(members)
            return self.members[ticket.team_id]
        if role == rules.ASSIGNEE:
            if ticket.assignee is not None:
                return [ticket.assignee]
            return self._role_people(Target.ONCALL_PRIMARY, ticket, chain, None)
        named: dict[str, rules.Person | None] = {
            Target.TEAM_LEAD: chain.team_lead,
            Target.DUTY_MANAGER: chain.duty_manager,
            Target.USER: step_user,
        }
        reference = named.get(role)
        if reference is None:
            return []
        if reference.id not in self.people:
            self.people[reference.id] = User.objects.filter(pk=reference.id).first()
        person = self.people[reference.id]
        return [person] if person is not None else []


def _drafts(page: _Page, profile: ContactProfile | None) -> list[PageDraft]:
    """The page to one person on each channel of the step that their contact profile allows, in their language, led
    by what paged them ("step 2 of 3", "Resolution target missed")."""
    language = profile.language if profile is not None and profile.language else settings.LANGUAGE_CODE
    mobile = profile.mobile if profile is not None else ""
    allowed = {
        Page.Channel.CONSOLE: True,
        Page.Channel.SMS: bool(mobile) and profile is not None and profile.page_by_sms,
        Page.Channel.VOICE: bool(mobile) and profile is not None and profile.page_by_voice,
    }
    with translation.override(language):
        step = page_step_label(page.details)
    return [
        PageDraft(
            ticket_id=page.ticket.pk,
            recipient=page.person,
            channel=channel,
            body=f"{step[:1].upper()}{step[1:]}: {page_text(ticket=page.ticket, channel=channel, language=language)}",
            language=language,
            step=step,
            to=mobile,
        )
        for channel in page.channels
        if allowed.get(Page.Channel(channel), False)
    ]


def escalate_now(*, ticket_id: int, actor: User | None, now: dt.datetime) -> None:
    """Page the next step of the ticket's chain at once, and bring its later steps forward by as much; start the chain
    (or page its last step again) when no step is waiting. See `escalation.services.escalation_escalate_now`."""
    with transaction.atomic():
        firing = _Firing(ticket_ids={ticket_id}, now=now)
        ticket = firing.tickets[ticket_id]
        values = ticket_values(ticket)
        if not values.is_open:
            raise NotAllowed(_("This ticket is no longer open."))
        if not rules.chain_active(values):
            raise NotAllowed(_("Someone has already acknowledged this ticket."))
        escalation = firing.escalations.get(ticket_id) or escalation_for(ticket=ticket, now=now)
        firing.escalations[ticket_id] = escalation
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
            waiting = _chain_restart(ticket, escalation, chain, now=now)
            row = waiting[0]
        firing.waiting[ticket_id] = [(other.due_at, other.generation, other.pk) for other in waiting]
        decision = rules.decide(
            _due(row), values, chain, chain_run=escalation.chain_run, watch=escalation.watch, now=now
        )
        if not isinstance(decision, rules.Fire):
            raise NotAllowed()
        firing.fire(row, replace(decision, kind=TicketEvent.Kind.ESCALATED), actor=actor)
        firing.write()
        wake_worker()


def _chain_restart(
    ticket: Ticket, escalation: TicketEscalation, chain: rules.Chain, *, now: dt.datetime
) -> list[EscalationDue]:
    """A new run of the chain from the step after the last one that paged (its last step again at the end)."""
    last = (
        EscalationDue.objects.filter(ticket=ticket, trigger=Trigger.STEP, state=DueState.DONE)
        .order_by("-fired_at", "-pk")
        .values_list("step", flat=True)
        .first()
    )
    first_step = 0 if last is None else min(last + 1, len(chain.steps) - 1)
    escalation.chain_run += 1
    plan = rules.chain_plan(chain, run=escalation.chain_run, start=now, first_step=first_step)
    return due_create(ticket_id=ticket.pk, rows=plan)


def escalation_next_wake() -> dt.datetime | None:
    """The next instant the worker has something to do: the earliest pending due row or page retry."""
    next_due = (
        EscalationDue.objects.filter(state=DueState.PENDING).order_by("due_at").values_list("due_at", flat=True).first()
    )
    instants = [instant for instant in (next_due, outbox_next_attempt_at()) if instant is not None]
    return min(instants, default=None)
