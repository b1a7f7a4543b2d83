"""Configuration in the Django admin: agencies and their staff, teams, the service catalogue, and the parts of a
user's onboarding screen that belong to tickets (Arabic name, agency membership, teams).

Tickets and everything recorded on them are read-only here: they change only through tickets.services, so that
every change writes its event (the audit trail and the live console's replay log). Ticket events read as the same
sentences as the timeline. Internal tables (the number counter, console presence) are for superusers only.
"""

from __future__ import annotations

import re

from django import forms
from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from tickets.forms import normalize_phone
from tickets.models import (
    Agency,
    AgencyMembership,
    ArabicName,
    Attachment,
    Comment,
    ConsolePresence,
    SavedReply,
    Service,
    Team,
    Ticket,
    TicketEvent,
    TicketNumberCounter,
)
from tickets.sentences import event_sentence

admin.site.site_header = _("Government IT Helpdesk administration")
admin.site.site_title = _("Government IT Helpdesk")
admin.site.index_title = _("Configuration and records")

TICKET_REFERENCE = re.compile(r"^\s*(?:HD-?)?(\d+)\s*$", re.IGNORECASE)


class ReadOnlyMixin:
    """Viewable by whoever holds the view permission; nobody adds, changes or deletes through the admin (without the
    change permission the admin shows every field read-only)."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class SuperuserOnlyMixin:
    """An internal table: listed and opened only by superusers; a duty manager with every permission does not see
    it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class AgencyMembershipForm(forms.ModelForm):
    """The staff member's phone is stored in E.164, the form the hotline recognises callers by."""

    class Meta:
        model = AgencyMembership
        fields = ["user", "agency", "phone"]

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class AgencyMembershipInline(admin.TabularInline):
    model = AgencyMembership
    form = AgencyMembershipForm
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "phone"]


class UserAgencyMembershipInline(admin.StackedInline):
    """The agency a new or existing user works for, on the user's own page."""

    model = AgencyMembership
    form = AgencyMembershipForm
    fields = ["agency", "phone"]
    autocomplete_fields = ["agency"]
    max_num = 1
    extra = 1
    verbose_name_plural = _("agency staff membership")


class ArabicNameInline(admin.StackedInline):
    model = ArabicName
    fields = ["name"]
    max_num = 1
    extra = 1
    verbose_name_plural = _("Arabic name")


class TeamMembershipInline(admin.TabularInline):
    """The technician teams a user belongs to (membership of any team makes them a technician)."""

    model = Team.members.through
    fields = ["team"]
    autocomplete_fields = ["team"]
    extra = 1
    verbose_name = _("team membership")
    verbose_name_plural = _("team memberships")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # The through model Django makes for Team.members names its columns in English only.
        if db_field.name == "team":
            kwargs["label"] = _("team")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class AgencyAdminForm(forms.ModelForm):
    """Sets the hotline PIN without ever showing it: the field is write-only and the PIN is stored hashed."""

    new_hotline_pin = forms.RegexField(
        label=_("new hotline PIN"),
        regex=r"^[0-9]{4,8}$",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "inputmode": "numeric"}),
        error_messages={"invalid": _("Enter 4 to 8 digits.")},
        help_text=_("4 to 8 digits that callers key after the hotline code. Leave empty to keep the current PIN."),
    )

    class Meta:
        model = Agency
        fields = ["code", "name_en", "name_ar", "active", "hotline_code"]

    def clean_hotline_code(self) -> str | None:
        return self.cleaned_data["hotline_code"] or None

    def save(self, commit: bool = True) -> Agency:
        agency = super().save(commit=False)
        if self.cleaned_data.get("new_hotline_pin"):
            agency.set_hotline_pin(self.cleaned_data["new_hotline_pin"])
        if commit:
            agency.save()
        return agency


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    form = AgencyAdminForm
    list_display = ["code", "name_en", "name_ar", "hotline_code", "has_hotline_pin", "staff_count", "active"]
    list_filter = ["active"]
    search_fields = ["code", "name_en", "name_ar", "=hotline_code"]
    ordering = ["name_en"]
    inlines = [AgencyMembershipInline]

    @admin.display(description=_("hotline PIN set"), boolean=True)
    def has_hotline_pin(self, agency: Agency) -> bool:
        return bool(agency.hotline_pin)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Agency]:
        return super().get_queryset(request).annotate(staff_total=Count("memberships", distinct=True))

    @admin.display(description=_("agency staff memberships"), ordering="staff_total")
    def staff_count(self, agency: Agency) -> int:
        return agency.staff_total  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(AgencyMembership)
class AgencyMembershipAdmin(admin.ModelAdmin):
    form = AgencyMembershipForm
    list_display = ["user", "agency", "phone"]
    list_filter = ["agency"]
    list_select_related = ["user", "agency"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__code", "agency__name_en"]
    autocomplete_fields = ["user", "agency"]


@admin.register(ArabicName)
class ArabicNameAdmin(admin.ModelAdmin):
    list_display = ["user", "name"]
    list_select_related = ["user"]
    search_fields = ["name", "user__username", "user__first_name", "user__last_name"]
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ar", "member_count"]
    search_fields = ["code", "name_en", "name_ar"]
    ordering = ["name_en"]
    autocomplete_fields = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Team]:
        return super().get_queryset(request).annotate(member_total=Count("members", distinct=True))

    @admin.display(description=_("members"), ordering="member_total")
    def member_count(self, team: Team) -> int:
        return team.member_total  # type: ignore[attr-defined]  # annotated by get_queryset


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["code", "name_en", "name_ar", "team", "active"]
    list_filter = ["active", "team"]
    list_select_related = ["team"]
    search_fields = ["code", "name_en", "name_ar"]
    autocomplete_fields = ["team"]


@admin.register(SavedReply)
class SavedReplyAdmin(admin.ModelAdmin):
    """Replies technicians pick in the console's reply box; a reply without a team is shared by every team."""

    list_display = ["name_en", "name_ar", "team", "active"]
    list_filter = ["active", "team"]
    list_select_related = ["team"]
    search_fields = ["name_en", "name_ar", "body_en", "body_ar"]
    autocomplete_fields = ["team"]
    fields = ["name_en", "name_ar", "team", "body_en", "body_ar", "active"]


class CommentInline(ReadOnlyMixin, admin.TabularInline):
    model = Comment
    extra = 0
    fields = ["created_at", "author", "channel", "internal", "body"]


class AttachmentInline(ReadOnlyMixin, admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["created_at", "name", "file", "content_type", "size", "uploaded_by"]


class EventToldMixin:
    """Shows each event as the timeline tells it (tickets.sentences), not as its raw fields."""

    @admin.display(description=_("what happened"))
    def told(self, event: TicketEvent) -> str:
        return event_sentence(event)


class TicketEventInline(EventToldMixin, ReadOnlyMixin, admin.TabularInline):
    model = TicketEvent
    extra = 0
    fields = ["id", "created_at", "told", "channel", "public"]
    readonly_fields = ["told"]
    ordering = ["id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[TicketEvent]:
        return super().get_queryset(request).select_related("actor__arabic_name")


@admin.register(Ticket)
class TicketAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reference", "subject", "agency", "service", "priority", "status", "assignee", "opened_at"]
    list_display_links = ["reference", "subject"]
    list_filter = ["status", "priority", "channel", "service", "team", "agency"]
    list_select_related = ["agency", "service", "assignee"]
    search_fields = ["=number", "subject", "caller_phone", "contact_phone", "requester__username"]
    date_hierarchy = "opened_at"
    fields = [
        "number",
        "subject",
        "description",
        "agency",
        "service",
        "team",
        "requester",
        "requester_name",
        "channel",
        "caller_phone",
        "contact_phone",
        "impact",
        "urgency",
        "priority",
        "status",
        "assignee",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        "closed_at",
        "response_due_at",
        "resolution_due_at",
        "updated_at",
        "last_event_id",
    ]
    inlines = [CommentInline, AttachmentInline, TicketEventInline]

    @admin.display(description=_("ticket"), ordering="number")
    def reference(self, ticket: Ticket) -> str:
        return ticket.reference

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Ticket], search_term: str):
        """A reference as users quote it ("HD-104233") finds its ticket."""
        reference = TICKET_REFERENCE.match(search_term)
        if reference:
            return queryset.filter(number=int(reference.group(1))), False
        return super().get_search_results(request, queryset, search_term)


@admin.register(TicketEvent)
class TicketEventAdmin(EventToldMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "ticket", "told", "channel", "public", "created_at"]
    list_filter = ["kind", "channel", "public"]
    list_select_related = ["ticket", "actor__arabic_name"]
    search_fields = ["=ticket__number", "actor__username"]
    date_hierarchy = "created_at"
    fields = ["id", "ticket", "told", "kind", "actor", "channel", "public", "before", "after", "created_at"]
    readonly_fields = ["told"]


@admin.register(Comment)
class CommentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["ticket", "author", "channel", "internal", "created_at"]
    list_filter = ["internal", "channel"]
    list_select_related = ["ticket", "author"]
    search_fields = ["=ticket__number", "body", "author__username"]
    fields = ["ticket", "author", "channel", "internal", "body", "created_at"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["name", "ticket", "content_type", "size", "uploaded_by", "created_at"]
    list_filter = ["content_type"]
    list_select_related = ["ticket", "uploaded_by"]
    search_fields = ["=ticket__number", "name"]
    fields = ["ticket", "name", "file", "content_type", "size", "uploaded_by", "created_at"]


@admin.register(TicketNumberCounter)
class TicketNumberCounterAdmin(SuperuserOnlyMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["id", "last_number"]
    fields = ["last_number"]


@admin.register(ConsolePresence)
class ConsolePresenceAdmin(SuperuserOnlyMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Who has a console open right now; written by the console sockets' heartbeats."""

    list_display = ["user", "ticket_number", "typing", "last_seen", "channel_name"]
    list_filter = ["typing"]
    list_select_related = ["user"]
    search_fields = ["user__username", "=ticket_number"]
    fields = ["user", "channel_name", "ticket_number", "typing", "last_seen"]
