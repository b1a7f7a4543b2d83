"""Configuration in the Django admin: business calendars with their hours and closure dates, SLA policies."""

from __future__ import annotations

from django.contrib import admin

from escalation.models import BusinessCalendar, ClosureDate, SlaPolicy, WorkingHours


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
