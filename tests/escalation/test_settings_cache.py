"""A process keeps the chains and SLA policies it read until the settings a ticket copies change: whoever changes
them, through the admin, a command or a bare `queryset.update`, the next ticket copies the new settings."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.db.utils import ConnectionHandler
from django.utils import timezone

from escalation.models import (
    BusinessCalendar,
    ClosureDate,
    EscalationChain,
    EscalationStep,
    SettingsRevision,
    SlaPolicy,
    Target,
    WorkingHours,
)
from escalation.policies import sla_policy_for
from escalation.services import chain_for_team
from escalation.settings_cache import settings_revision
from escalation.settings_triggers import NAME, settings_triggers_ensure
from tests.escalation.conftest import MINUTE

HOUR = dt.timedelta(hours=1)


pytestmark = pytest.mark.django_db


def renews(change) -> bool:
    before = settings_revision()
    change()
    return settings_revision() != before


def test_every_write_to_the_settings_renews_the_revision_and_nothing_else_does(chain, bob, agency):
    step = chain.steps.get(position=1)
    calendar = BusinessCalendar.objects.get(code="working-week")
    steps = EscalationStep.objects.filter(pk=step.pk)
    changes = {
        "chain": lambda: EscalationChain.objects.filter(pk=chain.pk).update(breach_repeat=2 * HOUR),
        "step added": lambda: EscalationStep.objects.create(chain=chain, position=9, target=Target.ONCALL_PRIMARY),
        "step changed": lambda: steps.update(delay=7 * MINUTE),
        "step removed": lambda: EscalationStep.objects.filter(position=9).delete(),
        "policy added": lambda: SlaPolicy.objects.create(
            priority=3, agency=agency, first_response=HOUR, resolution=2 * HOUR, calendar=calendar
        ),
        "policy changed": lambda: SlaPolicy.objects.filter(agency=agency).update(first_response=2 * HOUR),
        "calendar": lambda: BusinessCalendar.objects.filter(pk=calendar.pk).update(time_zone="Asia/Riyadh"),
        "hours": lambda: WorkingHours.objects.filter(calendar=calendar).update(opens=dt.time(8)),
        "closure": lambda: ClosureDate.objects.create(calendar=calendar, date=dt.date(2026, 12, 20)),
        "a named person's name": lambda: User.objects.filter(pk=bob.pk).update(first_name="Robert"),
    }
    assert [name for name, change in changes.items() if not renews(change)] == []
    unrelated = {
        "a login": lambda: User.objects.filter(pk=bob.pk).update(last_login=timezone.now()),
        "a user's e-mail": lambda: User.objects.filter(pk=bob.pk).update(email="bob@example.gov.qa"),
    }
    assert [name for name, change in unrelated.items() if renews(change)] == []


def test_a_chain_is_read_once_until_a_bare_update_changes_it(chain, django_assert_num_queries):
    first = chain_for_team(team_id=chain.team_id)
    with django_assert_num_queries(1):
        assert chain_for_team(team_id=chain.team_id) == first
    # No model save, no signal: only the database knows.
    EscalationStep.objects.filter(chain=chain, position=1).update(delay=11 * MINUTE)
    assert chain_for_team(team_id=chain.team_id).steps[0].delay == 11 * MINUTE


def test_a_policy_is_read_once_until_a_bare_update_changes_it(agency, service, django_assert_num_queries):
    calendar = BusinessCalendar.objects.get(code="24x7")
    SlaPolicy.objects.create(priority=3, agency=agency, first_response=HOUR, resolution=6 * HOUR, calendar=calendar)
    first = sla_policy_for(priority=3, agency_id=agency.pk, service_id=service.pk)
    assert first.first_response == HOUR
    with django_assert_num_queries(1):
        assert sla_policy_for(priority=3, agency_id=agency.pk, service_id=service.pk) == first
    SlaPolicy.objects.filter(agency=agency).update(first_response=3 * HOUR)
    assert sla_policy_for(priority=3, agency_id=agency.pk, service_id=service.pk).first_response == 3 * HOUR


def test_without_the_revision_row_every_lookup_reads_the_settings(chain, django_assert_num_queries):
    SettingsRevision.objects.all().delete()
    chain_for_team(team_id=chain.team_id)
    with django_assert_num_queries(3):
        chain_for_team(team_id=chain.team_id)


def test_every_migrate_makes_again_a_trigger_that_a_migration_dropped():
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER {NAME} ON escalation_workinghours")
    hours = WorkingHours.objects.filter(calendar__code="working-week")
    assert not renews(lambda: hours.update(opens=dt.time(8)))
    emit_post_migrate_signal(verbosity=0, interactive=False, db=connection.alias)
    assert renews(lambda: hours.update(opens=dt.time(9)))


def test_on_sqlite_a_table_that_a_migration_rebuilds_gets_its_triggers_back(tmp_path):
    """SQLite drops a table's triggers when a migration rebuilds the table, as most field changes do."""
    databases = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": tmp_path / "db"}}
    sqlite = ConnectionHandler(databases)["default"]
    with sqlite.schema_editor() as editor:
        for model in (SettingsRevision, User, BusinessCalendar, WorkingHours, ClosureDate, SlaPolicy,
                      EscalationChain, EscalationStep):
            editor.create_model(model)
    settings_triggers_ensure(connection=sqlite)

    def triggers() -> int:
        with sqlite.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'")
            return cursor.fetchone()[0]

    def revision() -> str:
        with sqlite.cursor() as cursor:
            cursor.execute("SELECT value FROM escalation_settingsrevision WHERE id = 1")
            return cursor.fetchone()[0]

    made = triggers()
    assert made == 19  # three for each of six tables, and the users' names
    old = WorkingHours._meta.get_field("opens")
    new = copy.deepcopy(old)
    new.null = True
    with sqlite.schema_editor() as editor:
        editor.alter_field(WorkingHours, old, new)
    assert triggers() == made - 3
    settings_triggers_ensure(connection=sqlite)
    assert triggers() == made
    before = revision()
    with sqlite.cursor() as cursor:
        cursor.execute("INSERT INTO escalation_businesscalendar (name_en, name_ar, code, always_open, time_zone,"
                       " holiday_country, revision) VALUES ('c', 'c', 'c', 0, 'UTC', '', 'x')")
        cursor.execute("INSERT INTO escalation_workinghours (calendar_id, weekday, opens, closes)"
                       " VALUES (1, 0, '07:00', '14:00')")
    assert revision() != before
    sqlite.close()
