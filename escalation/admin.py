"""Configuration in the Django admin: escalation chains with their steps. The worker's state (a ticket's copied
chain, its due rows) is shown read only: it changes only through the ticket services and the worker."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from escalation.models import EscalationChain, EscalationDue, EscalationStep, TicketEscalation
from tickets.admin import ReadOnlyMixin


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
