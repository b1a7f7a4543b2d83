"""Every write to a ticket. Each service is one transaction that locks the ticket, checks its state, writes the
change and exactly one event, and publishes the event to the live console after commit."""

from __future__ import annotations

import copy
import datetime as dt
import mimetypes
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from escalation.clock import (
    Clock,
    ClockPolicy,
    clock_pause,
    clock_record,
    clock_reopen,
    clock_respond,
    clock_resume,
    clock_retarget,
    clock_start,
    clock_stop,
    pauses_from_json,
    pauses_to_json,
)
from escalation.policies import sla_policy_for
from escalation.services import ESCALATION_EVENT_KINDS, escalation_on_event
from escalation.sla import WORKING_WEEK
from notifications.services import notifications_on_event
from tickets.console import publish
from tickets.exceptions import AgencySuspended, AlreadyClaimed, InvalidInput, NotAllowed, StaleTicket
from tickets.lifecycle import REQUESTER, SYSTEM, TECHNICIAN, priority_for, transition_guard
from tickets.live import publish as live_publish
from tickets.models import (
    Agency,
    Attachment,
    Channel,
    Comment,
    Priority,
    Service,
    Status,
    Ticket,
    TicketEvent,
    TicketNumberCounter,
)
from tickets.selectors import event_message, user_agency, user_display_name, user_is_technician, user_record

# PostgreSQL hands ticket numbers out from this sequence (migration 0010): no lock is held until commit, so
# concurrent openers do not queue on one row; a rolled-back opener leaves a gap. SQLite counts in
# TicketNumberCounter's row, which its one writer at a time serialises anyway.
TICKET_NUMBER_SEQUENCE = "tickets_ticket_number_seq"


def ticket_numbers_take(*, count: int = 1) -> list[int]:
    """Hand out `count` new ticket numbers, unique and increasing (a rollback may leave gaps)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SELECT nextval('{TICKET_NUMBER_SEQUENCE}') FROM generate_series(1, %s)", [count])
            return [row[0] for row in cursor.fetchall()]
        table = connection.ops.quote_name(TicketNumberCounter._meta.db_table)
        for _attempt in range(2):
            cursor.execute(
                f"UPDATE {table} SET last_number = last_number + %s WHERE id = 1 RETURNING last_number", [count]
            )
            row = cursor.fetchone()
            if row is not None:
                return list(range(row[0] - count + 1, row[0] + 1))
            TicketNumberCounter.objects.get_or_create(pk=1)
    raise RuntimeError("The ticket number counter could not be created.")


# What `_lock` selects with the ticket, for the console's message of its event and the notification rules: rows no
# change of a ticket points elsewhere. Not the assignee: when a concurrent change committed first, PostgreSQL
# re-reads the locked ticket row but not the rows joined to it, so a joined assignee could be the one before it.
_LOCK_RELATED = ("agency", "service", "team", "requester")
# The attribute of a locked ticket that keeps its values as loaded, so that `_record` saves only what changed.
_LOADED = "_helpdesk_loaded_values"


def _remember_loaded(ticket: Ticket) -> None:
    ticket.__dict__[_LOADED] = {
        field.attname: copy.deepcopy(getattr(ticket, field.attname))
        for field in Ticket._meta.concrete_fields
        if not field.primary_key
    }


def _save_changes(ticket: Ticket) -> None:
    """Save what changed since the ticket was locked (or created), or every field of a ticket `_lock` did not
    read."""
    loaded = ticket.__dict__.pop(_LOADED, None)
    if loaded is None:
        ticket.save()
        return
    changed = {attname for attname, value in loaded.items() if getattr(ticket, attname) != value}
    ticket.save(update_fields=changed | {"updated_at"})


def _record(
    ticket: Ticket,
    *,
    kind: str,
    actor: User | None,
    channel: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    public: bool = True,
    now: dt.datetime,
) -> TicketEvent:
    """Write the one event of a change, let the escalation engine schedule, move or cancel the ticket's pages in the
    same transaction, and schedule the event's broadcast after commit. The caller holds the ticket lock; the ticket
    comes from `_lock` (or was just created), with what `_LOCK_RELATED` names."""
    event = TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor,
        channel=channel,
        before=before or {},
        after=after or {},
        public=public,
        created_at=now,
    )
    ticket.last_event_id = event.pk
    _save_changes(ticket)
    notifications_on_event(ticket=ticket, event=event)
    escalation_on_event(ticket=ticket, event=event)
    # Shaped now, from the objects at hand (the ticket as this change leaves it), not read again after commit.
    transaction.on_commit(partial(publish.publish_ticket_event, message=event_message(event)))
    if public:
        agency_message = live_publish.agency_event_message(event)
        transaction.on_commit(
            partial(live_publish.publish_agency_event, agency_id=ticket.agency_id, message=agency_message)
        )
    return event


NOTE_MAX_LENGTH = 2000
BODY_MAX_LENGTH = 20000
# Lone surrogates: a JSON text can carry them, UTF-8 (the database, a reply) cannot.
_UNENCODABLE = re.compile("[\ud800-\udfff]")


def _clean_text(value: str, *, limit: int) -> str:
    """Strip a text a user typed; refuse what the database or a console message could not carry."""
    if "\x00" in value or _UNENCODABLE.search(value):
        raise InvalidInput(_("The text contains a character that is not allowed."))
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(_("The text is too long (at most %(limit)d characters).") % {"limit": limit})
    return value


def _lock(ticket: Ticket | int, expected_event_id: int | None) -> Ticket:
    """Lock the ticket row and check that the client acted on its newest version."""
    pk = ticket.pk if isinstance(ticket, Ticket) else ticket
    locked = Ticket.objects.select_for_update(of=("self",)).select_related(*_LOCK_RELATED).get(pk=pk)
    if expected_event_id is not None and locked.last_event_id != expected_event_id:
        raise StaleTicket()
    _remember_loaded(locked)
    return locked


def _require_technician(user: User) -> None:
    if not user_is_technician(user):
        raise NotAllowed(_("Only technicians can do that."))


def _require_party(user: User, ticket: Ticket) -> None:
    """The actor is a technician or a member of the ticket's agency."""
    if user_is_technician(user):
        return
    agency = user_agency(user)
    if agency is None or agency.pk != ticket.agency_id:
        raise NotAllowed()
    if not agency.active:
        raise AgencySuspended()


def _clock_policy(ticket: Ticket) -> ClockPolicy:
    return sla_policy_for(priority=ticket.priority, agency_id=ticket.agency_id, service_id=ticket.service_id)


def _clock_of(ticket: Ticket) -> Clock:
    """The ticket's SLA clock as escalation.clock counts it. Call before a status change: a resolved ticket's clock
    stopped when it was resolved."""
    # A ticket opened before the clock had a warning instant has none until its clock is next counted.
    return Clock(
        response_due_at=ticket.response_due_at or ticket.opened_at,
        resolution_due_at=ticket.resolution_due_at or ticket.opened_at,
        resolution_warning_at=ticket.resolution_warning_at or ticket.opened_at,
        responded_at=ticket.responded_at,
        paused_at=ticket.sla_paused_at,
        stopped_at=ticket.resolved_at if ticket.status == Status.RESOLVED else None,
        pauses=pauses_from_json(ticket.sla_pauses),
    )


_CLOCK_FIELDS = {
    "response_due_at": "response_due_at",
    "resolution_due_at": "resolution_due_at",
    "resolution_warning_at": "resolution_warning_at",
    "responded_at": "responded_at",
    "paused_at": "sla_paused_at",
}


def _clock_set(ticket: Ticket, *, before: Clock, after: Clock, event_after: dict[str, Any]) -> None:
    """Store what changed of the clock on the ticket (the caller saves it) and say so in the `sla` entry of the
    change's event."""
    for name, field in _CLOCK_FIELDS.items():
        if getattr(after, name) != getattr(before, name):
            setattr(ticket, field, getattr(after, name))
    if after.pauses != before.pauses:
        ticket.sla_pauses = pauses_to_json(after.pauses)
    record = clock_record(before=before, after=after)
    if record:
        event_after["sla"] = record


def _clock_follow_status(ticket: Ticket, clock: Clock, *, current: str, target: str, now: dt.datetime) -> Clock:
    """The clock after a status change: waiting pauses it, resolving or cancelling stops it, leaving "waiting"
    resumes it, reopening continues it; acknowledging or starting work meets the response target."""
    if target == Status.WAITING:
        clock = clock_pause(clock=clock, now=now)
    elif target in (Status.RESOLVED, Status.CANCELLED):
        clock = clock_stop(clock=clock, now=now)
    elif current == Status.RESOLVED and target == Status.IN_PROGRESS:
        clock = clock_reopen(clock=clock, policy=_clock_policy(ticket), opened_at=ticket.opened_at, now=now)
    elif current == Status.WAITING:
        clock = clock_resume(clock=clock, policy=_clock_policy(ticket), opened_at=ticket.opened_at, now=now)
    if target in (Status.ACKNOWLEDGED, Status.IN_PROGRESS):
        clock = clock_respond(clock=clock, now=now)
    return clock


def _set_status(ticket: Ticket, target: str, now: dt.datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a guarded status change, its timestamps and its effect on the SLA clock; return the event's `before`
    and `after` for it (`after["sla"]` when the clock changed)."""
    transition_guard(ticket.status, target)
    clock = _clock_of(ticket)
    before: dict[str, Any] = {"status": ticket.status}
    after: dict[str, Any] = {"status": target}
    following = _clock_follow_status(ticket, clock, current=ticket.status, target=target, now=now)
    _clock_set(ticket, before=clock, after=following, event_after=after)
    ticket.status = target
    if target in (Status.ACKNOWLEDGED, Status.IN_PROGRESS) and ticket.acknowledged_at is None:
        ticket.acknowledged_at = now
    if target == Status.RESOLVED:
        ticket.resolved_at = now
    if target == Status.CLOSED:
        ticket.closed_at = now
    if target == Status.IN_PROGRESS and before["status"] == Status.RESOLVED:
        ticket.resolved_at = None
    return before, after


@transaction.atomic
def ticket_open(
    *,
    service: Service,
    subject: str,
    description: str = "",
    impact: int,
    urgency: int,
    channel: str = Channel.WEB,
    requester: User | None = None,
    requester_name: str = "",
    actor: User | None = None,
    agency: Agency | None = None,
    caller_phone: str = "",
    contact_phone: str = "",
    attachments: Iterable[UploadedFile] = (),
    now: dt.datetime | None = None,
) -> Ticket:
    """Open a ticket with its number, priority and SLA deadlines, and write its `opened` event.

    The agency is the requester's own unless given (a caller on the hotline names no user). A technician who opens
    a ticket for someone else (a call, a visit at the desk, an e-mail) is its `actor`: the event names them, and the
    person it is for, a member of the agency or a `requester_name`, is its requester."""
    now = now or timezone.now()
    subject = _clean_text(subject, limit=Ticket._meta.get_field("subject").max_length or 200)
    description = _clean_text(description, limit=BODY_MAX_LENGTH)
    requester_name = _clean_text(requester_name, limit=Ticket._meta.get_field("requester_name").max_length or 200)
    if not subject:
        raise InvalidInput(_("A subject is required."))
    if not service.active:
        raise InvalidInput(_("That service is not available."))
    requester_agency = user_agency(requester) if requester is not None else None
    agency = agency or requester_agency
    if agency is None:
        raise InvalidInput(_("The ticket must belong to an agency."))
    if not agency.active:
        raise AgencySuspended()
    on_behalf = actor is not None and actor != requester
    if on_behalf and actor is not None:
        _require_technician(actor)
    # Whoever opens it, a ticket's requester is a member of its agency (its notifications count on it).
    if requester is not None and (requester_agency is None or requester_agency.pk != agency.pk):
        raise InvalidInput(_("The requester is not a member of that agency."))
    if on_behalf and requester is None and not requester_name:
        raise InvalidInput(_("Name the person the ticket is for."))
    actor = actor or requester
    priority = priority_for(impact=impact, urgency=urgency)
    clock = clock_start(
        policy=sla_policy_for(priority=priority, agency_id=agency.pk, service_id=service.pk), opened_at=now
    )
    ticket = Ticket.objects.create(
        number=ticket_numbers_take()[0],
        agency=agency,
        service=service,
        team=service.team,
        requester=requester,
        requester_name=requester_name,
        caller_phone=caller_phone,
        contact_phone=contact_phone,
        channel=channel,
        subject=subject,
        description=description,
        impact=impact,
        urgency=urgency,
        priority=priority,
        opened_at=now,
        response_due_at=clock.response_due_at,
        resolution_due_at=clock.resolution_due_at,
        resolution_warning_at=clock.resolution_warning_at,
    )
    _remember_loaded(ticket)
    names = [_attachment_save(ticket=ticket, upload=upload, user=actor, now=now).name for upload in attachments]
    after: dict[str, Any] = {
        "status": ticket.status,
        "priority": priority,
        "subject": subject,
        "attachments": names,
        "sla": clock_record(before=None, after=clock),
    }
    if on_behalf:
        after["requester"] = user_record(requester) if requester is not None else {"id": None, "name": requester_name}
    _record(ticket, kind=TicketEvent.Kind.OPENED, actor=actor, channel=channel, after=after, now=now)
    return ticket


def _attachment_save(
    *, ticket: Ticket, upload: UploadedFile, user: User | None, now: dt.datetime, comment: Comment | None = None
) -> Attachment:
    content_type = upload.content_type or mimetypes.guess_type(upload.name or "")[0] or "application/octet-stream"
    return Attachment.objects.create(
        ticket=ticket,
        comment=comment,
        file=upload,
        name=upload.name or "attachment",
        size=upload.size or 0,
        content_type=content_type,
        uploaded_by=user,
        created_at=now,
    )


@transaction.atomic
def ticket_comment(
    *,
    ticket: Ticket,
    author: User,
    body: str,
    internal: bool = False,
    channel: str = Channel.WEB,
    attachments: Iterable[UploadedFile] = (),
    expected_event_id: int | None = None,
    now: dt.datetime | None = None,
) -> Comment:
    """Add a public reply or an internal note. A requester's answer to a ticket waiting on them resumes work and its
    SLA clock; a technician's first public reply meets the response target."""
    now = now or timezone.now()
    ticket = _lock(ticket, expected_event_id)
    _require_party(author, ticket)
    body = _clean_text(body, limit=BODY_MAX_LENGTH)
    if not body:
        raise InvalidInput(_("The comment is empty."))
    technician = user_is_technician(author)
    if internal and not technician:
        raise NotAllowed(_("Only technicians can write internal notes."))
    if not ticket.is_open and ticket.status != Status.RESOLVED:
        raise InvalidInput(_("This ticket is finished; open a new one."))
    comment = Comment.objects.create(
        ticket=ticket, author=author, channel=channel, body=body, internal=internal, created_at=now
    )
    names = [
        _attachment_save(ticket=ticket, upload=upload, user=author, now=now, comment=comment).name
        for upload in attachments
    ]
    before: dict[str, Any] = {}
    after: dict[str, Any] = {"comment_id": comment.pk, "internal": internal, "attachments": names}
    if not technician and ticket.status == Status.WAITING:
        before, changed = _set_status(ticket, Status.IN_PROGRESS, now)
        after.update(changed)
    elif technician and not internal:
        clock = _clock_of(ticket)
        _clock_set(ticket, before=clock, after=clock_respond(clock=clock, now=now), event_after=after)
    _record(
        ticket,
        kind=TicketEvent.Kind.COMMENTED,
        actor=author,
        channel=channel,
        before=before,
        after=after,
        public=not internal,
        now=now,
    )
    return comment


@transaction.atomic
def ticket_recording_attach(
    *,
    ticket_id: int,
    upload: UploadedFile,
    note: str,
    actor: User | None = None,
    channel: str = Channel.PHONE,
    now: dt.datetime | None = None,
) -> Attachment:
    """Attach the recording of a call (the caller's description or voicemail) with a short public note saying what
    it is; whatever the ticket's state, since the recording belongs to what already happened."""
    now = now or timezone.now()
    ticket = _lock(ticket_id, None)
    comment = Comment.objects.create(
        ticket=ticket, author=actor, channel=channel, body=_clean_text(note, limit=NOTE_MAX_LENGTH), created_at=now
    )
    attachment = _attachment_save(ticket=ticket, upload=upload, user=actor, now=now, comment=comment)
    _record(
        ticket,
        kind=TicketEvent.Kind.COMMENTED,
        actor=actor,
        channel=channel,
        after={"comment_id": comment.pk, "internal": False, "attachments": [attachment.name]},
        now=now,
    )
    return attachment


@transaction.atomic
def ticket_acknowledge(
    *,
    ticket: Ticket,
    actor: User,
    channel: str = Channel.CONSOLE,
    expected_event_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    now = now or timezone.now()
    ticket = _lock(ticket, expected_event_id)
    _require_technician(actor)
    before, after = _set_status(ticket, Status.ACKNOWLEDGED, now)
    _record(
        ticket,
        kind=TicketEvent.Kind.ACKNOWLEDGED,
        actor=actor,
        channel=channel,
        before=before,
        after=after,
        now=now,
    )
    return ticket


@transaction.atomic
def ticket_claim(
    *,
    ticket: Ticket,
    technician: User,
    channel: str = Channel.CONSOLE,
    expected_event_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Take the ticket: assign it to oneself and start work. Of two racing claims, the second to get the row lock
    sees the first one's assignee and fails with AlreadyClaimed. A finished ticket cannot be taken."""
    now = now or timezone.now()
    ticket = _lock(ticket, None)
    _require_technician(technician)
    holder = ticket.assignee
    if holder is not None and holder.pk != technician.pk:
        raise AlreadyClaimed(
            _("%(name)s has already taken this ticket.") % {"name": user_display_name(holder)}
        )
    if expected_event_id is not None and ticket.last_event_id != expected_event_id:
        raise StaleTicket()
    if not ticket.is_open:
        raise NotAllowed(_("This ticket is no longer open."))
    if holder is not None and ticket.status not in (Status.NEW, Status.ACKNOWLEDGED):
        raise InvalidInput(_("You already have this ticket."))
    before: dict[str, Any] = {"assignee": user_record(ticket.assignee)}
    after: dict[str, Any] = {"assignee": user_record(technician)}
    if ticket.status in (Status.NEW, Status.ACKNOWLEDGED):
        status_before, status_after = _set_status(ticket, Status.IN_PROGRESS, now)
        before.update(status_before)
        after.update(status_after)
    ticket.assignee = technician
    _record(ticket, kind=TicketEvent.Kind.ASSIGNED, actor=technician, channel=channel, before=before, after=after,
            now=now)
    return ticket


@transaction.atomic
def ticket_assign(
    *,
    ticket: Ticket,
    actor: User,
    assignee: User | None,
    channel: str = Channel.CONSOLE,
    expected_event_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Give the ticket to another technician (or back to the queue with `assignee=None`)."""
    now = now or timezone.now()
    ticket = _lock(ticket, expected_event_id)
    _require_technician(actor)
    if assignee is not None and not user_is_technician(assignee):
        raise InvalidInput(_("Tickets can only be assigned to technicians."))
    if not ticket.is_open:
        raise NotAllowed(_("This ticket is no longer open."))
    if ticket.assignee_id == (assignee.pk if assignee is not None else None):
        raise InvalidInput(_("The ticket is already assigned that way."))
    before = {"assignee": user_record(ticket.assignee)}
    ticket.assignee = assignee
    _record(
        ticket,
        kind=TicketEvent.Kind.ASSIGNED,
        actor=actor,
        channel=channel,
        before=before,
        after={"assignee": user_record(assignee)},
        now=now,
    )
    return ticket


_STATUS_EVENT_KINDS: dict[str, str] = {
    Status.RESOLVED: TicketEvent.Kind.RESOLVED,
    Status.CLOSED: TicketEvent.Kind.CLOSED,
    Status.CANCELLED: TicketEvent.Kind.CANCELLED,
    Status.ACKNOWLEDGED: TicketEvent.Kind.ACKNOWLEDGED,
}


@transaction.atomic
def ticket_set_status(
    *,
    ticket: Ticket,
    actor: User,
    status: str,
    note: str = "",
    channel: str = Channel.CONSOLE,
    expected_event_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Move a ticket along its lifecycle, as far as the lifecycle lets the actor's side: technicians work the
    ticket; agency staff confirm a fix (close), reopen it, or cancel their own agency's open ticket."""
    now = now or timezone.now()
    ticket = _lock(ticket, expected_event_id)
    _require_party(actor, ticket)
    if status not in Status.values:
        raise InvalidInput(_("Unknown status."))
    reopening = ticket.status == Status.RESOLVED and status == Status.IN_PROGRESS
    transition_guard(ticket.status, status, mover=TECHNICIAN if user_is_technician(actor) else REQUESTER)
    note = _clean_text(note, limit=NOTE_MAX_LENGTH)
    before, after = _set_status(ticket, status, now)
    if note:
        after["note"] = note
    kind = TicketEvent.Kind.REOPENED if reopening else _STATUS_EVENT_KINDS.get(status, TicketEvent.Kind.STATUS_CHANGED)
    _record(ticket, kind=kind, actor=actor, channel=channel, before=before, after=after, now=now)
    return ticket


def ticket_resolve(*, ticket: Ticket, actor: User, note: str = "", **kwargs: Any) -> Ticket:
    return ticket_set_status(ticket=ticket, actor=actor, status=Status.RESOLVED, note=note, **kwargs)


def ticket_close(*, ticket: Ticket, actor: User, **kwargs: Any) -> Ticket:
    """The requester confirms the fix."""
    return ticket_set_status(ticket=ticket, actor=actor, status=Status.CLOSED, **kwargs)


def ticket_reopen(*, ticket: Ticket, actor: User, note: str = "", **kwargs: Any) -> Ticket:
    return ticket_set_status(ticket=ticket, actor=actor, status=Status.IN_PROGRESS, note=note, **kwargs)


def ticket_cancel(*, ticket: Ticket, actor: User, note: str = "", **kwargs: Any) -> Ticket:
    return ticket_set_status(ticket=ticket, actor=actor, status=Status.CANCELLED, note=note, **kwargs)


@transaction.atomic
def ticket_set_priority(
    *,
    ticket: Ticket,
    actor: User,
    priority: int,
    reason: str,
    channel: str = Channel.CONSOLE,
    expected_event_id: int | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Override the matrix priority, with a reason for the audit trail. The SLA deadlines follow the new priority
    from the moment the ticket was opened, less the time the clock was paused; a paused clock takes the new
    targets when it resumes."""
    now = now or timezone.now()
    ticket = _lock(ticket, expected_event_id)
    _require_technician(actor)
    if priority not in Priority.values:
        raise InvalidInput(_("Unknown priority."))
    reason = _clean_text(reason, limit=NOTE_MAX_LENGTH)
    if not reason:
        raise InvalidInput(_("Say why the priority changes."))
    if not ticket.is_open:
        raise NotAllowed(_("This ticket is no longer open."))
    if priority == ticket.priority:
        raise InvalidInput(_("The ticket already has that priority."))
    before = {"priority": ticket.priority}
    after: dict[str, Any] = {"priority": priority, "reason": reason}
    ticket.priority = priority
    clock = _clock_of(ticket)
    retargeted = clock_retarget(clock=clock, policy=_clock_policy(ticket), opened_at=ticket.opened_at)
    _clock_set(ticket, before=clock, after=retargeted, event_after=after)
    _record(
        ticket,
        kind=TicketEvent.Kind.PRIORITY_CHANGED,
        actor=actor,
        channel=channel,
        before=before,
        after=after,
        now=now,
    )
    return ticket


@transaction.atomic
def ticket_escalation_record(
    *, ticket_id: int, kind: str, details: dict[str, Any], now: dt.datetime, actor: User | None = None
) -> TicketEvent:
    """Write one escalation event (a page, an escalation, an SLA warning or breach, a page attempt) that the
    escalation engine or the outbox decided: for technicians only, from the system, or from `actor` when a person
    asked for it (the hotline's "escalate now")."""
    if kind not in ESCALATION_EVENT_KINDS:
        raise ValueError(f"{kind!r} is not an escalation event kind")
    ticket = _lock(ticket_id, None)
    return _record(ticket, kind=kind, actor=actor, channel=Channel.SYSTEM, after=details, public=False, now=now)


@dataclass(frozen=True)
class EscalationRecord:
    """One escalation event to write with `ticket_escalation_record_many`."""

    ticket_id: int
    kind: str
    details: dict[str, Any]
    actor: User | None = None


@transaction.atomic(savepoint=False)
def ticket_escalation_record_many(*, records: list[EscalationRecord], now: dt.datetime) -> list[TicketEvent]:
    """Write a batch of escalation events, one per record and in their order: the events `ticket_escalation_record`
    writes, with one insert for all of them and one broadcast after commit, so that the escalation worker's cost per
    page does not grow with its batch. Locks the tickets in id order. (Escalation events schedule nothing:
    `escalation_on_event` ignores them.)"""
    if not records:
        return []
    unknown = {record.kind for record in records} - ESCALATION_EVENT_KINDS
    if unknown:
        raise ValueError(f"{sorted(unknown)!r} are not escalation event kinds")
    ticket_ids = sorted({record.ticket_id for record in records})
    tickets = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=ticket_ids)
        .order_by("pk")
        .only("pk", "last_event_id", "updated_at")
    }
    events = TicketEvent.objects.bulk_create(
        TicketEvent(
            ticket_id=record.ticket_id,
            kind=record.kind,
            actor=record.actor,
            channel=Channel.SYSTEM,
            after=record.details,
            public=False,
            created_at=now,
        )
        for record in records
    )
    changed_at = timezone.now()
    for event in events:
        tickets[event.ticket_id].last_event_id = event.pk
        tickets[event.ticket_id].updated_at = changed_at
    Ticket.objects.bulk_update(list(tickets.values()), ["last_event_id", "updated_at"])
    transaction.on_commit(partial(publish.publish_ticket_events, event_ids=[event.pk for event in events]))
    return events


def _autoclose_at(quiet_since: dt.datetime, days: int) -> dt.datetime:
    """The end of the `days`-th whole working day (government week, Qatar's holidays) after `quiet_since`'s day."""
    calendar = WORKING_WEEK
    day = quiet_since.astimezone(calendar.tz).date()
    counted = 0
    while counted < days:
        day += dt.timedelta(days=1)
        counted += calendar.is_working_day(day)
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=calendar.tz)


def ticket_autoclose_due(*, now: dt.datetime) -> int:
    """Close, as the helpdesk, every resolved ticket left unanswered for HELPDESK_AUTOCLOSE_WORKING_DAYS whole working
    days after its last public event (the fix, or a reply since). Return how many closed. The escalation worker
    calls it on every pass; each ticket closes in a transaction of its own."""
    days = settings.HELPDESK_AUTOCLOSE_WORKING_DAYS
    # A working day is at least a calendar day: a ticket quiet for fewer days cannot be due.
    candidates = (
        Ticket.objects.filter(status=Status.RESOLVED)
        .annotate(quiet_since=Max("events__created_at", filter=Q(events__public=True)))
        .filter(quiet_since__lte=now - dt.timedelta(days=days))
        .values_list("pk", "quiet_since")
    )
    due = [pk for pk, quiet_since in candidates if _autoclose_at(quiet_since, days) <= now]
    return sum(_autoclose(ticket_id=pk, days=days, now=now) for pk in due)


@transaction.atomic
def _autoclose(*, ticket_id: int, days: int, now: dt.datetime) -> bool:
    ticket = _lock(ticket_id, None)
    quiet_since = ticket.events.filter(public=True).aggregate(latest=Max("created_at"))["latest"]
    # Answered, reopened or closed since the worker looked.
    if ticket.status != Status.RESOLVED or quiet_since is None or _autoclose_at(quiet_since, days) > now:
        return False
    transition_guard(ticket.status, Status.CLOSED, mover=SYSTEM)
    before, after = _set_status(ticket, Status.CLOSED, now)
    after["unanswered_working_days"] = days
    _record(ticket, kind=TicketEvent.Kind.CLOSED, actor=None, channel=Channel.SYSTEM, before=before, after=after,
            now=now)
    return True
