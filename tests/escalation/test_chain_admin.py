"""Escalation chains configured in the admin with their steps inline; the worker's state shown read only."""

from __future__ import annotations

import pytest

from escalation.models import EscalationChain, EscalationDue, TicketEscalation
from tests.escalation.test_oncall_admin import admin_url
from tests.factories import UserFactory
from tickets.models import Level

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager_client(client, db):
    client.force_login(UserFactory(username="duty-manager", is_staff=True, is_superuser=True))
    return client


def chain_form(team, manager, steps: list[dict]) -> dict:
    form = {
        "team": team.pk,
        "team_lead": "",
        "duty_manager": manager.pk,
        "breach_repeat": "01:00:00",
        "steps-TOTAL_FORMS": len(steps),
        "steps-INITIAL_FORMS": 0,
        "steps-MIN_NUM_FORMS": 0,
        "steps-MAX_NUM_FORMS": 1000,
    }
    for index, step in enumerate(steps):
        form.update({f"steps-{index}-{name}": value for name, value in step.items()})
    return form


def test_a_chain_is_written_with_its_steps_inline(manager_client, team, technician):
    response = manager_client.post(
        admin_url(EscalationChain, "add"),
        chain_form(
            team,
            technician,
            [
                {"position": 1, "target": "oncall_primary", "delay": "00:05:00", "by_console": "on", "by_sms": "on",
                 "repeat": 1},
                {"position": 2, "target": "duty_manager", "delay": "00:10:00", "by_voice": "on", "repeat": 0},
            ],
        ),
    )
    assert response.status_code == 302
    chain = EscalationChain.objects.get(team=team)
    assert [(step.target, step.channels, step.repeat) for step in chain.steps.order_by("position")] == [
        ("oncall_primary", ["console", "sms"], 1),
        ("duty_manager", ["voice"], 0),
    ]
    listing = manager_client.get(admin_url(EscalationChain, "changelist")).content.decode()
    assert "On-call primary (0:05:00) → The duty manager (0:10:00)" in listing


def test_a_step_for_a_named_person_must_name_one_and_page_some_way(manager_client, team, technician):
    response = manager_client.post(
        admin_url(EscalationChain, "add"),
        chain_form(
            team,
            technician,
            [
                {"position": 1, "target": "user", "delay": "00:05:00", "repeat": 0},
                {"position": 2, "target": "team", "delay": "00:00:05", "by_console": "on", "repeat": 0},
            ],
        ),
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Name the person this step pages." in page
    assert "Choose at least one way to page." in page
    assert "Wait between 30 seconds and one day." in page
    assert not EscalationChain.objects.exists()


def test_the_workers_state_is_shown_and_cannot_be_changed(manager_client, make_ticket):
    make_ticket(impact=Level.HIGH, urgency=Level.HIGH)
    for model in (TicketEscalation, EscalationDue):
        assert manager_client.get(admin_url(model, "changelist")).status_code == 200
        item = model.objects.first()
        change = manager_client.get(admin_url(model, "change", item.pk))
        assert change.status_code == 200
        assert 'name="_save"' not in change.content.decode()
        assert manager_client.get(admin_url(model, "add")).status_code == 403
