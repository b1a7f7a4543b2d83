"""The escalation worker's state: per ticket, the chain it copied when it opened; per due action, one row that fires
exactly once.

A due row is unique on (ticket, trigger, step, round, generation): a step of a chain run, a repeat of it, an SLA
warning or breach of one resolution watch can each be written once, and the worker that locks a row (SKIP LOCKED)
marks it done in the transaction that writes its event, so no crash or second worker fires it twice.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import Ticket, TicketEvent


class TicketEscalation(models.Model):
    """One per ticket, created when it opens. Changed only under the ticket's row lock."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, related_name="escalation", verbose_name=_("ticket")
    )
    # The team's chain as it was when the ticket opened (`escalation.rules.Chain.as_json`).
    chain = models.JSONField(_("chain"))
    # Numbers of the chain's runs and of the resolution watches; due rows of an older one no longer fire.
    chain_run = models.PositiveIntegerField(_("chain run"), default=0)
    watch = models.PositiveIntegerField(_("resolution watch"), default=1)
    # What the console shows about the last page: whom, which step, when the next step fires
    # (`escalation.rules.Paging.as_json`). It changes only together with an event on the ticket.
    paging = models.JSONField(_("paging"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("ticket escalation")
        verbose_name_plural = _("ticket escalations")

    def __str__(self) -> str:
        return f"{self.ticket_id}"


class Trigger(models.TextChoices):
    STEP = "step", _("Chain step")
    RESPONSE_BREACH = "response_breach", _("Response target missed")
    RESOLUTION_WARNING = "resolution_warning", _("Three quarters of the resolution time used")
    RESOLUTION_BREACH = "resolution_breach", _("Resolution target missed")


class DueState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


class EscalationDue(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+", verbose_name=_("ticket"))
    trigger = models.CharField(_("trigger"), max_length=32, choices=Trigger.choices)
    # The chain step's index (0 for the SLA triggers), the repeat round, and the chain run (steps) or resolution
    # watch (SLA triggers) the row belongs to.
    step = models.PositiveSmallIntegerField(_("step"), default=0)
    round = models.PositiveIntegerField(_("round"), default=0)
    generation = models.PositiveIntegerField(_("generation"))
    due_at = models.DateTimeField(_("due at"))
    state = models.CharField(_("state"), max_length=16, choices=DueState.choices, default=DueState.PENDING)
    fired_at = models.DateTimeField(_("fired at"), null=True, blank=True)
    event = models.ForeignKey(
        TicketEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("event")
    )
    attempts = models.PositiveSmallIntegerField(_("failed attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("escalation due row")
        verbose_name_plural = _("escalation due rows")
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "trigger", "step", "round", "generation"], name="escalation_due_once"
            )
        ]
        indexes = [
            models.Index(fields=["due_at", "id"], condition=Q(state="pending"), name="escalation_due_pending"),
            models.Index(fields=["ticket", "state"], name="escalation_due_ticket"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.trigger} {self.step}/{self.round}/{self.generation} at {self.due_at}"
