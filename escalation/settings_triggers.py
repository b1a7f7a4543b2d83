"""The database triggers that renew the settings revision (escalation.models.revision) at every write to the settings
a ticket copies when it opens. Migration 0005 makes them, and every `migrate` makes again any that are missing
(`post_migrate`, escalation.apps): on SQLite, a migration that rebuilds a table (most field changes do) drops the
table's triggers with it, and a process would then keep serving the settings it read before."""

from __future__ import annotations

import uuid
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.conf import settings
from django.db.backends.base.base import BaseDatabaseWrapper

# The tables whose rows a ticket copies when it opens (its chain, its SLA policy with the calendar), by model.
SETTINGS_MODELS = [
    ("escalation", "EscalationChain"),
    ("escalation", "EscalationStep"),
    ("escalation", "SlaPolicy"),
    ("escalation", "BusinessCalendar"),
    ("escalation", "WorkingHours"),
    ("escalation", "ClosureDate"),
]
# A chain copies the names of the people it names.
USER_NAME_COLUMNS = "first_name, last_name, username"
NAME = "escalation_settings_renew"
OPERATIONS = ("insert", "update", "delete")


def _tables(apps: Apps) -> tuple[Any, list[str], str]:
    revision = apps.get_model("escalation", "SettingsRevision")
    tables = [apps.get_model(app, model)._meta.db_table for app, model in SETTINGS_MODELS]
    return revision, tables, apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table


def settings_triggers_ensure(*, connection: BaseDatabaseWrapper, apps: Apps = global_apps) -> None:
    """Make the revision row and the triggers where they are missing. Other databases than PostgreSQL and SQLite
    get neither: without the row, processes read the settings each time."""
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        return
    revision, tables, users = _tables(apps)
    table = revision._meta.db_table
    value = revision._meta.get_field("value").get_db_prep_value(uuid.uuid4(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, value) SELECT 1, %s WHERE NOT EXISTS (SELECT 1 FROM {table} WHERE id = 1)",
            [value],
        )
        if vendor == "postgresql":
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"UPDATE {table} SET value = gen_random_uuid(); RETURN NULL; END $$"
            )
            cursor.execute("SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = %s", [NAME])
            present = {row[0] for row in cursor.fetchall()}
            for settings_table in tables:
                if settings_table not in present:
                    cursor.execute(
                        f"CREATE TRIGGER {NAME} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {settings_table} "
                        f"FOR EACH STATEMENT EXECUTE FUNCTION {NAME}()"
                    )
            if users not in present:
                cursor.execute(
                    f"CREATE TRIGGER {NAME} AFTER UPDATE OF {USER_NAME_COLUMNS} ON {users} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {NAME}()"
                )
        else:
            renew = f"UPDATE {table} SET value = lower(hex(randomblob(16)));"
            for settings_table in tables:
                for operation in OPERATIONS:
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {NAME}_{settings_table}_{operation} "
                        f"AFTER {operation.upper()} ON {settings_table} BEGIN {renew} END"
                    )
            cursor.execute(
                f"CREATE TRIGGER IF NOT EXISTS {NAME}_{users} AFTER UPDATE OF {USER_NAME_COLUMNS} ON {users} "
                f"BEGIN {renew} END"
            )


def settings_triggers_drop(*, connection: BaseDatabaseWrapper, apps: Apps = global_apps) -> None:
    _revision, tables, users = _tables(apps)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in [*tables, users]:
                cursor.execute(f"DROP TRIGGER IF EXISTS {NAME} ON {table}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {NAME}()")
        elif connection.vendor == "sqlite":
            for table in tables:
                for operation in OPERATIONS:
                    cursor.execute(f"DROP TRIGGER IF EXISTS {NAME}_{table}_{operation}")
            cursor.execute(f"DROP TRIGGER IF EXISTS {NAME}_{users}")
