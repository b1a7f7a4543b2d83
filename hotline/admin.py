"""The hotline's records in the admin, read-only: calls that changed something (and the recordings Twilio made,
including voicemails of calls that opened no ticket, for the duty manager to call back), SMS received with the
reply they got, and what numbers asked for (language, STOP)."""

from __future__ import annotations

from django.contrib import admin

from hotline.models import CallRecording, HotlineCall, InboundSms, PhonePreference
from tickets.admin import ReadOnlyMixin


class CallRecordingInline(ReadOnlyMixin, admin.TabularInline):
    model = CallRecording
    extra = 0
    fields = ["recording_sid", "seconds", "attachment", "created_at"]


@admin.register(HotlineCall)
class HotlineCallAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["call_sid", "from_number", "language", "ticket", "outcome", "created_at"]
    list_filter = ["outcome", "language"]
    list_select_related = ["ticket"]
    search_fields = ["=call_sid", "from_number", "=ticket__number"]
    date_hierarchy = "created_at"
    inlines = [CallRecordingInline]


@admin.register(CallRecording)
class CallRecordingAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["recording_sid", "call", "seconds", "attachment", "created_at"]
    list_filter = [("attachment", admin.EmptyFieldListFilter)]
    list_select_related = ["call", "attachment"]
    search_fields = ["=recording_sid", "=call__call_sid", "call__from_number"]


@admin.register(InboundSms)
class InboundSmsAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["message_sid", "from_number", "body", "language", "received_at"]
    list_filter = ["language"]
    search_fields = ["=message_sid", "from_number", "body"]
    date_hierarchy = "received_at"


@admin.register(PhonePreference)
class PhonePreferenceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["phone", "language", "sms_opt_out", "updated_at"]
    list_filter = ["language", "sms_opt_out"]
    search_fields = ["phone"]
