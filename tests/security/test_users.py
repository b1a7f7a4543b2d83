"""The event log names who did what, forever: users with history are protected from deletion and the admin offers
deactivation instead, so the log reads the same after any admin action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db.models import ProtectedError
from django.urls import reverse

from tests.factories import UserFactory
from tickets.services import ticket_claim, ticket_comment, ticket_resolve


@pytest.fixture
def manager_client(client, db):
    client.force_login(UserFactory(username="duty-manager", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def worked(make_ticket, technician):
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    ticket_comment(ticket=ticket, author=technician, body="Found the faulty port.")
    return ticket_resolve(ticket=ticket, actor=technician, note="Port replaced.")


def timeline(client, user, ticket) -> list[str]:
    client.force_login(user)
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    return [line.strip() for line in html.splitlines() if "timeline__" in line]


@pytest.mark.django_db
def test_a_user_with_history_cannot_be_deleted(worked, technician, staff):
    for user in (technician, staff):
        with pytest.raises(ProtectedError):
            user.delete()
    assert worked.events.filter(actor=technician).count() == 3


@pytest.mark.django_db
def test_the_admin_offers_deactivation_and_the_log_reads_the_same(worked, technician, staff, manager_client, client):
    before = timeline(client, staff, worked)
    assert any(technician.get_full_name() in line for line in before)
    manager_client.force_login(User.objects.get(username="duty-manager"))

    delete_url = reverse("admin:auth_user_delete", args=[technician.pk])
    assert manager_client.get(delete_url).status_code == 403
    assert manager_client.post(delete_url, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:auth_user_changelist")
    page = manager_client.get(changelist).content.decode()
    assert 'value="deactivate"' in page
    assert 'value="delete_selected"' not in page
    assert manager_client.post(changelist, {"action": "delete_selected", "_selected_action": [technician.pk],
                                            "post": "yes"}).status_code in (200, 302)
    response = manager_client.post(changelist, {"action": "deactivate", "_selected_action": [technician.pk, staff.pk]},
                                   follow=True)
    assert "Users deactivated: 2." in response.content.decode()

    technician.refresh_from_db()
    assert technician.is_active is False
    assert User.objects.filter(pk=staff.pk).exists()
    staff.is_active = True
    staff.save()
    assert timeline(client, staff, worked) == before


@pytest.mark.django_db
def test_a_user_without_history_can_still_be_deleted(manager_client, agency):
    mistaken = UserFactory(username="typo-account")
    delete_url = reverse("admin:auth_user_delete", args=[mistaken.pk])
    assert manager_client.get(delete_url).status_code == 200
    manager_client.post(delete_url, {"post": "yes"})
    assert not User.objects.filter(username="typo-account").exists()
