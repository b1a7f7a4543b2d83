"""The default calendars and SLA policies of DESIGN.md, as rows an administrator edits."""

from django.db import migrations


def create_defaults(apps, schema_editor):
    from escalation.policies import sla_defaults_ensure

    sla_defaults_ensure(apps=apps)


class Migration(migrations.Migration):

    dependencies = [
        ("escalation", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_defaults, migrations.RunPython.noop),
    ]
