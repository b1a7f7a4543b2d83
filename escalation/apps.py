from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.db import connections
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

from escalation.settings_triggers import settings_triggers_ensure


def _settings_triggers(*, using: str, apps: Apps = global_apps, **kwargs: Any) -> None:
    """After every migrate (and flush), make again any trigger of the settings revision that a migration dropped, and
    the row."""
    try:
        apps.get_model("escalation", "SettingsRevision")
    except LookupError:
        # Migrated back to before the revision existed.
        return
    settings_triggers_ensure(connection=connections[using], apps=apps)


class EscalationConfig(AppConfig):
    name = "escalation"
    verbose_name = _("Escalation")

    def ready(self) -> None:
        post_migrate.connect(_settings_triggers, sender=self, dispatch_uid="escalation.settings_triggers")
