"""The settings revision (escalation.models.revision) and the triggers that renew it on every write to the settings
a ticket copies when it opens, on PostgreSQL (one statement-level trigger a table) and on SQLite (one row-level
trigger a table and operation)."""

import uuid

from django.conf import settings
from django.db import migrations, models

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


def _tables(apps):
    revision = apps.get_model("escalation", "SettingsRevision")._meta.db_table
    tables = [apps.get_model(app, model)._meta.db_table for app, model in SETTINGS_MODELS]
    users = apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table
    return revision, tables, users


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        # No row and no triggers: processes then build what they need from the settings each time.
        return
    revision, tables, users = _tables(apps)
    apps.get_model("escalation", "SettingsRevision").objects.using(schema_editor.connection.alias).create(pk=1)
    run = schema_editor.execute
    if vendor == "postgresql":
        run(
            f"CREATE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"UPDATE {revision} SET value = gen_random_uuid(); RETURN NULL; END $$"
        )
        for table in tables:
            run(
                f"CREATE TRIGGER {NAME} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {NAME}()"
            )
        run(
            f"CREATE TRIGGER {NAME} AFTER UPDATE OF {USER_NAME_COLUMNS} ON {users} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {NAME}()"
        )
    else:
        renew = f"UPDATE {revision} SET value = lower(hex(randomblob(16)));"
        for table in tables:
            for operation in ("INSERT", "UPDATE", "DELETE"):
                run(f"CREATE TRIGGER {NAME}_{table}_{operation.lower()} AFTER {operation} ON {table} BEGIN {renew} END")
        run(f"CREATE TRIGGER {NAME}_{users} AFTER UPDATE OF {USER_NAME_COLUMNS} ON {users} BEGIN {renew} END")


def drop_triggers(apps, schema_editor):
    _revision, tables, users = _tables(apps)
    run = schema_editor.execute
    if schema_editor.connection.vendor == "postgresql":
        for table in [*tables, users]:
            run(f"DROP TRIGGER IF EXISTS {NAME} ON {table}")
        run(f"DROP FUNCTION IF EXISTS {NAME}()")
    elif schema_editor.connection.vendor == "sqlite":
        for table in tables:
            for operation in ("insert", "update", "delete"):
                run(f"DROP TRIGGER IF EXISTS {NAME}_{table}_{operation}")
        run(f"DROP TRIGGER IF EXISTS {NAME}_{users}")


class Migration(migrations.Migration):

    dependencies = [
        ('escalation', '0004_chains_and_due_rows'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='SettingsRevision',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('value', models.UUIDField(default=uuid.uuid4)),
            ],
            options={
                'verbose_name': 'settings revision',
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
