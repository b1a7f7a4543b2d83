"""Accounts in the admin. A user is onboarded on one screen: the account with its English name, the Arabic name, the
agency they work for or the technician teams they belong to, and the numbers they are reached on. Users who have acted
on tickets are deactivated, never deleted: the event log names them, and must read the same after any admin action.
Locked-out logins are unlocked here too."""

from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.contrib.admin.options import ActionLocation
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from escalation.admin import ContactProfileInline
from security.models import SecurityEvent
from tickets.admin import ArabicNameInline, ReadOnlyMixin, TeamMembershipInline, UserAgencyMembershipInline
from tickets.selectors import user_has_history

admin.site.unregister(User)


@admin.register(User)
class HelpdeskUserAdmin(UserAdmin):
    actions = ["deactivate"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "first_name", "last_name", "email", "usable_password", "password1", "password2"),
            },
        ),
    )
    inlines = [ArabicNameInline, UserAgencyMembershipInline, TeamMembershipInline, ContactProfileInline]

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> dict[str, Any]:
        actions = super().get_actions(request, action_location=action_location)
        # Deleting in bulk would stop at the first user with history; deactivation is the way out.
        actions.pop("delete_selected", None)
        return actions

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and user_has_history(obj):
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(description=gettext_lazy("Deactivate the selected users (they keep their history)"),
                  permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset.filter(is_active=True))
        for user in users:
            user.is_active = False
            user.save(update_fields=["is_active"])
            self.log_change(request, user, [{"changed": {"fields": ["is_active"]}}])
        self.message_user(request, _("Users deactivated: %(count)d.") % {"count": len(users)}, messages.SUCCESS)


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class LoginAttemptAdmin(AccessAttemptAdmin):
    """django-axes' failed logins per account and address; a locked one is unlocked by forgetting its failures."""

    actions = [*AccessAttemptAdmin.actions, "unlock"]

    @admin.action(description=gettext_lazy("Unlock: forget the failed logins of the selected rows"),
                  permissions=["delete"])
    def unlock(self, request: HttpRequest, queryset: QuerySet[AccessAttempt]) -> None:
        attempts = list(queryset)
        self.log_deletions(request, attempts)
        queryset.delete()
        self.message_user(request, _("Unlocked: %(count)d.") % {"count": len(attempts)}, messages.SUCCESS)


@admin.register(SecurityEvent)
class SecurityEventAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The audit trail, for the duty manager to read; nobody writes it here."""

    list_display = ["created_at", "kind", "username", "actor", "address"]
    list_filter = ["kind"]
    list_select_related = ["actor"]
    search_fields = ["username", "actor__username", "=address"]
    date_hierarchy = "created_at"
    fields = ["created_at", "kind", "username", "actor", "address", "user_agent", "details"]
