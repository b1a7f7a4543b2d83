"""Read-only lists of the notification outbox and of watchers, for the duty manager; preferences are the users' own."""

from __future__ import annotations

from django.contrib import admin

from notifications.models import Notification, NotificationPreference, Watcher
from tickets.admin import ReadOnlyMixin


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "ticket", "recipient", "channel", "kinds", "state", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["state", "channel"]
    list_select_related = ["ticket", "recipient"]
    search_fields = ["=ticket__number", "recipient__username", "recipient__email"]
    date_hierarchy = "created_at"


@admin.register(Watcher)
class WatcherAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["ticket", "user", "added_by", "created_at"]
    list_select_related = ["ticket", "user", "added_by"]
    search_fields = ["=ticket__number", "user__username"]


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "sms_for_urgent"]
    search_fields = ["user__username"]
