"""On PostgreSQL, ticket numbers come from a sequence, which continues after the counter row (and after any number
already given); on SQLite the counter row stays in use."""

from django.db import migrations

SEQUENCE = "tickets_ticket_number_seq"


def create_sequence(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"CREATE SEQUENCE IF NOT EXISTS {SEQUENCE} START 100001")
    schema_editor.execute(
        f"""SELECT setval('{SEQUENCE}', last, true) FROM (
                SELECT GREATEST(
                    (SELECT MAX(last_number) FROM tickets_ticketnumbercounter),
                    (SELECT MAX(number) FROM tickets_ticket)
                ) AS last
            ) AS given WHERE last IS NOT NULL"""
    )


def drop_sequence(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0009_ticketevent_escalation_kinds")]

    operations = [migrations.RunPython(create_sequence, drop_sequence, elidable=False)]
