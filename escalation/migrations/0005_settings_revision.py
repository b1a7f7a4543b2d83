"""The settings revision (escalation.models.revision) and the triggers that renew it on every write to the settings
a ticket copies when it opens (escalation.settings_triggers), on PostgreSQL (one statement-level trigger a table) and
on SQLite (one row-level trigger a table and operation)."""

import uuid

from django.conf import settings
from django.db import migrations, models

from escalation.settings_triggers import settings_triggers_drop, settings_triggers_ensure


def create_triggers(apps, schema_editor):
    settings_triggers_ensure(connection=schema_editor.connection, apps=apps)


def drop_triggers(apps, schema_editor):
    settings_triggers_drop(connection=schema_editor.connection, apps=apps)


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
