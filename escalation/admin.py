"""Escalation in the Django admin. The page outbox and the worker heartbeats are read-only: pages change only as the
worker delivers them, heartbeats only as workers beat."""

from __future__ import annotations

from django.contrib import admin

from escalation.models import Page, WorkerHeartbeat
from tickets.admin import ReadOnlyMixin


@admin.register(Page)
class PageAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "ticket", "recipient", "channel", "step", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel"]
    list_select_related = ["ticket", "recipient"]
    search_fields = ["=ticket__number", "recipient__username", "=provider_id"]
    date_hierarchy = "created_at"
    fields = [
        "ticket",
        "recipient",
        "channel",
        "to",
        "language",
        "step",
        "body",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "provider_id",
        "provider_status",
        "provider_sequence",
        "provider_updated_at",
        "created_at",
        "sent_at",
    ]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "host", "pid", "last_beat_at", "last_lag"]
    fields = ["name", "host", "pid", "last_beat_at", "last_lag"]
