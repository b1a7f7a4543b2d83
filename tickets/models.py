"""Agencies, the service catalogue, teams, tickets, their comments, attachments and the append-only event log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class BilingualName(models.Model):
    """Names stored in both languages; `name` follows the active language."""

    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)

    class Meta:
        abstract = True

    @property
    def name(self) -> str:
        return self.name_ar if (get_language() or "en").startswith("ar") else self.name_en

    def __str__(self) -> str:
        return self.name


class Agency(BilingualName):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    active = models.BooleanField(_("active"), default=True)
    # A hotline caller whose number is not on file keys the agency's code, then its PIN (kept hashed, like a password).
    hotline_code = models.CharField(
        _("hotline code"),
        max_length=8,
        unique=True,
        null=True,
        blank=True,
        validators=[RegexValidator(r"^[0-9]{3,8}$", _("Enter 3 to 8 digits."))],
        help_text=_("Digits a caller keys on the hotline to name this agency."),
    )
    hotline_pin = models.CharField(_("hotline PIN"), max_length=128, blank=True, editable=False)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name_en"]

    def set_hotline_pin(self, raw_pin: str) -> None:
        self.hotline_pin = make_password(raw_pin)

    def check_hotline_pin(self, raw_pin: str) -> bool:
        return bool(self.hotline_pin) and check_password(raw_pin, self.hotline_pin)


class AgencyMembership(models.Model):
    """Makes a user a member of an agency's IT staff. A user belongs to at most one agency."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agency_membership", verbose_name=_("user")
    )
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("agency"))
    phone = models.CharField(_("phone"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("agency staff membership")
        verbose_name_plural = _("agency staff memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.agency.code}"


class ArabicName(models.Model):
    """A person's name in Arabic, shown on Arabic pages; the account's first and last name are the English one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arabic_name", verbose_name=_("user")
    )
    name = models.CharField(_("name (Arabic)"), max_length=150)

    class Meta:
        verbose_name = _("Arabic name")
        verbose_name_plural = _("Arabic names")

    def __str__(self) -> str:
        return self.name


class Team(BilingualName):
    """A team of technicians. Membership of any team makes a user a technician."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="teams", blank=True, verbose_name=_("members")
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name_en"]


class SavedReply(BilingualName):
    """A reply technicians pick in the console and edit before sending, written in both languages. A reply of a team
    is offered to its members; a reply without a team is shared by everyone."""

    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_replies",
        verbose_name=_("team"),
        help_text=_("Leave empty to share the reply with every team."),
    )
    body_en = models.TextField(_("text (English)"))
    body_ar = models.TextField(_("text (Arabic)"))
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("saved reply")
        verbose_name_plural = _("saved replies")
        ordering = ["name_en"]


class Service(BilingualName):
    """A shared government service in the catalogue; its team answers its tickets."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="services", verbose_name=_("team"))
    description_en = models.TextField(_("description (English)"), blank=True)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name_en"]


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    API = "api", _("API")
    CONSOLE = "console", _("Console")
    WALK_IN = "walk_in", _("Walk-in")
    EMAIL = "email", _("E-mail")
    SYSTEM = "system", _("System")


class Level(models.IntegerChoices):
    """Impact and urgency share one three-step scale."""

    HIGH = 1, _("High")
    MEDIUM = 2, _("Medium")
    LOW = 3, _("Low")


class Priority(models.IntegerChoices):
    P1 = 1, _("P1 critical")
    P2 = 2, _("P2 high")
    P3 = 3, _("P3 medium")
    P4 = 4, _("P4 low")


class Status(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_PROGRESS = "in_progress", _("In progress")
    WAITING = "waiting", _("Waiting on requester")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING)


class TicketNumberCounter(models.Model):
    """One row holding the last ticket number handed out on SQLite, incremented under its row lock. PostgreSQL uses
    the sequence `tickets_ticket_number_seq` instead, which started after this row's number."""

    last_number = models.BigIntegerField(_("last number"), default=100000)

    class Meta:
        verbose_name = _("ticket number counter")
        verbose_name_plural = _("ticket number counters")


class Ticket(models.Model):
    number = models.BigIntegerField(_("number"), unique=True, editable=False)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("agency"))
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("service"))
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="tickets", verbose_name=_("team"))
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="requested_tickets",
        verbose_name=_("requester"),
    )
    # A requester who is not a user (a caller, a visitor at the desk) is known by name and contact phone.
    requester_name = models.CharField(_("requester name"), max_length=200, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=32, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    impact = models.PositiveSmallIntegerField(_("impact"), choices=Level.choices, default=Level.MEDIUM)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Level.choices, default=Level.MEDIUM)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, db_index=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW, db_index=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        verbose_name=_("assignee"),
    )
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    response_due_at = models.DateTimeField(_("first response due"), null=True, blank=True, db_index=True)
    resolution_due_at = models.DateTimeField(_("resolution due"), null=True, blank=True, db_index=True)
    # The SLA clock (escalation.clock). While `sla_paused_at` is set the due times keep their last value and mean
    # nothing; `sla_pauses` lists the closed pauses as [start, end] ISO pairs, a cache of what the events record.
    resolution_warning_at = models.DateTimeField(_("resolution warning"), null=True, blank=True, db_index=True)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    sla_paused_at = models.DateTimeField(_("SLA clock paused at"), null=True, blank=True)
    sla_pauses = models.JSONField(_("SLA clock pauses"), default=list, blank=True)
    # The id of this ticket's newest event: the version a client's action is checked against.
    last_event_id = models.BigIntegerField(_("last event"), default=0)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-opened_at", "-number"]
        indexes = [models.Index(fields=["agency", "-opened_at"])]

    def __str__(self) -> str:
        return f"{self.reference}: {self.subject}"

    @property
    def reference(self) -> str:
        return f"HD-{self.number}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    # The labels straight from the choices' enum: `get_FOO_display` builds a dict of all the choices at each call,
    # twice a row on a list page.
    @property
    def status_label(self) -> str:
        return str(Status(self.status).label)

    @property
    def priority_label(self) -> str:
        return str(Priority(self.priority).label)

    @property
    def channel_label(self) -> str:
        return str(Channel(self.channel).label)


class AppendOnlyModel(models.Model):
    """A record written once: saving it again or deleting it raises."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise ValueError(f"{self._meta.object_name} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(f"{self._meta.object_name} rows are append-only.")


class TicketEvent(AppendOnlyModel):
    """One change to a ticket. Append-only: its id is the global cursor the live console replays from. The people
    it names are protected from deletion (they are deactivated instead), so the log reads the same forever."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("Opened")
        COMMENTED = "commented", _("Commented")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")
        ASSIGNED = "assigned", _("Assigned")
        STATUS_CHANGED = "status_changed", _("Status changed")
        PRIORITY_CHANGED = "priority_changed", _("Priority changed")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        CANCELLED = "cancelled", _("Cancelled")
        # Written by the escalation worker through `tickets.services.ticket_escalation_record`; technicians only.
        PAGED = "paged", _("Paged")
        ESCALATED = "escalated", _("Escalated")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACHED = "sla_breached", _("SLA breached")
        PAGE_ATTEMPT = "page_attempt", _("Page attempt")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events", verbose_name=_("ticket"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    before = models.JSONField(_("before"), default=dict, blank=True)
    after = models.JSONField(_("after"), default=dict, blank=True)
    # Whether agency staff see this event on their timeline (internal notes are hidden from them).
    public = models.BooleanField(_("public"), default=True)
    created_at = models.DateTimeField(_("created at"), db_index=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.ticket_id}"


class Comment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="comments", verbose_name=_("ticket"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("author")
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.WEB)
    body = models.TextField(_("text"))
    internal = models.BooleanField(_("internal note"), default=False)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.body[:40]}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.ticket.number}/{filename}"


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("ticket"))
    # The comment the file was sent with, if any: a file sent with an internal note is as internal as the note.
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("comment"),
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("content type"), max_length=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class ConsolePresence(models.Model):
    """One open console socket: who is online and which ticket they are viewing or typing on. Every daphne process
    writes its own sockets here, so all processes agree; a row not refreshed by its heartbeat for a few periods
    belongs to a dead process and is ignored, then swept."""

    channel_name = models.CharField(_("channel name"), max_length=200, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    ticket_number = models.BigIntegerField(_("viewing ticket"), null=True, blank=True)
    typing = models.BooleanField(_("typing"), default=False)
    last_seen = models.DateTimeField(_("last seen"), db_index=True)

    class Meta:
        verbose_name = _("console presence")
        verbose_name_plural = _("console presences")

    def __str__(self) -> str:
        return f"{self.user_id} on {self.channel_name}"
