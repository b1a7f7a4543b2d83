"""Configuration in the Django admin: business calendars with their hours and closure dates, SLA policies, on-call
rotations with their members, overrides, technicians' contact profiles (and replacing a leaked calendar link),
escalation chains with their steps. The worker's state (a ticket's copied chain, its due rows), the page outbox and
the worker heartbeats are read-only: they change only through the ticket services and the worker."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from escalation.contacts import contact_profile_token_regenerate
from escalation.models import (
    BusinessCalendar,
    ClosureDate,
    ContactProfile,
    EscalationChain,
    EscalationDue,
    EscalationStep,
    OnCallOverride,
    Page,
    Rotation,
    RotationMember,
    SlaPolicy,
    TicketEscalation,
    WorkerHeartbeat,
    WorkingHours,
)
from tickets.admin import ReadOnlyMixin
from tickets.phones import phone_e164
from tickets.selectors import user_display_name


class RotationMemberInline(admin.TabularInline):
    model = RotationMember
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["position", "user"]
    ordering = ["position", "id"]


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin):
    list_display = ["team", "layer", "starts_on", "handoff_time", "time_zone", "shift_length", "member_names"]
    list_filter = ["layer", "team"]
    list_select_related = ["team"]
    autocomplete_fields = ["team"]
    fields = ["team", "layer", "starts_on", "handoff_time", "time_zone", "length", "length_days"]
    inlines = [RotationMemberInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Rotation]:
        return super().get_queryset(request).prefetch_related("members__user")

    @admin.display(description=_("shift length"))
    def shift_length(self, rotation: Rotation) -> str:
        if rotation.length == Rotation.Length.DAYS:
            days = rotation.shift_days
            return ngettext("every %(days)d day", "every %(days)d days", days) % {"days": days}
        return str(rotation.get_length_display())

    @admin.display(description=_("members"))
    def member_names(self, rotation: Rotation) -> str:
        return " → ".join(user_display_name(member.user) for member in rotation.members.all())


@admin.register(OnCallOverride)
class OnCallOverrideAdmin(admin.ModelAdmin):
    list_display = ["team", "layer", "user", "starts_at", "ends_at", "reason"]
    list_filter = ["layer", "team"]
    list_select_related = ["team", "user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "reason"]
    autocomplete_fields = ["team", "user"]
    date_hierarchy = "starts_at"
    fields = ["team", "layer", "user", "starts_at", "ends_at", "reason"]


class ContactProfileInline(admin.StackedInline):
    """How a technician is paged, on the user's own page (the onboarding screen)."""

    model = ContactProfile
    fields = ["mobile", "language", "page_by_sms", "page_by_voice"]
    max_num = 1
    extra = 1
    can_delete = False
    verbose_name_plural = _("contact profile")


@admin.register(ContactProfile)
class ContactProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "mobile", "language", "page_by_sms", "page_by_voice"]
    list_filter = ["language", "page_by_sms", "page_by_voice"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "mobile"]
    autocomplete_fields = ["user"]
    fields = ["user", "mobile", "language", "page_by_sms", "page_by_voice"]
    actions = ["regenerate_calendar_token"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[ContactProfile], search_term: str):
        """A number written any way ("5512 3456", "00974 5512 3456") finds its profile."""
        try:
            mobile = phone_e164(search_term)
        except ValueError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(mobile=mobile), False

    @admin.action(description=_("Revoke and regenerate the calendar link (the old link stops working)"))
    def regenerate_calendar_token(self, request: HttpRequest, queryset: QuerySet[ContactProfile]) -> None:
        profiles = list(queryset.select_related("user"))
        for profile in profiles:
            contact_profile_token_regenerate(user=profile.user)
        self.message_user(
            request,
            ngettext(
                "%(count)d calendar link replaced; its owner must subscribe again with the new one.",
                "%(count)d calendar links replaced; their owners must subscribe again with the new ones.",
                len(profiles),
            )
            % {"count": len(profiles)},
            messages.SUCCESS,
        )


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0
    fields = ["weekday", "opens", "closes"]


class ClosureDateInline(admin.TabularInline):
    model = ClosureDate
    extra = 1
    fields = ["date", "reason_en", "reason_ar"]


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ar", "always_open", "time_zone", "holiday_country"]
    search_fields = ["code", "name_en", "name_ar"]
    inlines = [WorkingHoursInline, ClosureDateInline]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = ["priority", "agency", "service", "first_response", "resolution", "calendar"]
    list_filter = ["priority", "calendar", "agency", "service"]
    list_select_related = ["agency", "service", "calendar"]
    autocomplete_fields = ["agency", "service"]
    ordering = ["priority", "agency__name_en", "service__name_en"]


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["position", "target", "user", "delay", "by_console", "by_sms", "by_voice", "repeat"]
    ordering = ["position"]


@admin.register(EscalationChain)
class EscalationChainAdmin(admin.ModelAdmin):
    list_display = ["team", "step_summary", "team_lead", "duty_manager", "breach_repeat"]
    list_select_related = ["team", "team_lead", "duty_manager"]
    search_fields = ["team__code", "team__name_en", "team__name_ar"]
    autocomplete_fields = ["team", "team_lead", "duty_manager"]
    fields = ["team", "team_lead", "duty_manager", "breach_repeat"]
    inlines = [EscalationStepInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EscalationChain]:
        return super().get_queryset(request).prefetch_related("steps")

    @admin.display(description=_("steps"))
    def step_summary(self, chain: EscalationChain) -> str:
        return " → ".join(f"{step.get_target_display()} ({step.delay})" for step in chain.steps.all())


@admin.register(TicketEscalation)
class TicketEscalationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["ticket", "chain_run", "watch", "created_at"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number"]


@admin.register(EscalationDue)
class EscalationDueAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["ticket", "trigger", "step", "round", "generation", "due_at", "state", "fired_at", "attempts"]
    list_filter = ["state", "trigger"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number"]
    ordering = ["-due_at"]


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
