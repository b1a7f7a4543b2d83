"""Tickets acknowledged before the SLA clock recorded responses met their response target when acknowledged."""

from django.db import migrations
from django.db.models import F


def backfill(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    Ticket.objects.filter(responded_at__isnull=True, acknowledged_at__isnull=False).update(
        responded_at=F("acknowledged_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tickets", "0004_ticket_clock"),
    ]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
