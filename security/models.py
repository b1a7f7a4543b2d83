"""The security audit trail: logins, failed logins, lockouts, password changes and admin changes, with who, when and
from where. Append-only, like the ticket event log; the duty manager reads it in the admin."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import AppendOnlyModel


class SecurityEvent(AppendOnlyModel):
    class Kind(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logged out")
        LOCKOUT = "lockout", _("Locked out")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        ADMIN_CHANGE = "admin_change", _("Admin change")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices, db_index=True)
    # Who did it: the person logged in, or the administrator who made the change; none for a failed login.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    # The account concerned, as typed for a failed login.
    username = models.CharField(_("account"), max_length=150, blank=True, db_index=True)
    address = models.GenericIPAddressField(_("from address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.kind} {self.username}"
