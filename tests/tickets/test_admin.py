from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse
from django.utils.html import escape

from tests.factories import UserFactory
from tickets.models import AgencyMembership, Ticket, TicketEvent
from tickets.services import ticket_comment


@pytest.fixture
def manager(db):
    return UserFactory(username="duty-manager", is_staff=True, is_superuser=True)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


@pytest.mark.django_db
def test_every_ticket_model_is_registered():
    models = apps.get_app_config("tickets").get_models()
    missing = [model.__name__ for model in models if not admin.site.is_registered(model)]
    assert missing == []


@pytest.mark.django_db
def test_every_changelist_and_change_page_opens(manager_client, make_ticket, technician, staff):
    ticket = make_ticket()
    ticket_comment(ticket=ticket, author=technician, body="Checking the core switch.", internal=True)
    for model in apps.get_app_config("tickets").get_models():
        changelist = manager_client.get(admin_url(model, "changelist"))
        assert changelist.status_code == 200, model.__name__
        count = model.objects.count()
        opts = model._meta
        # The count under the list, as the admin words it: "1 ticket", "2 ticket events", "0 agencies".
        counted = f"{count} {opts.verbose_name if count == 1 else opts.verbose_name_plural}"
        assert counted in changelist.content.decode(), model.__name__
        obj = model.objects.first()
        if obj is not None:
            change = manager_client.get(admin_url(model, "change", obj.pk))
            assert change.status_code == 200, model.__name__
            assert f"<h2>{escape(str(obj))}</h2>" in change.content.decode(), model.__name__


@pytest.mark.django_db
def test_ticket_page_shows_comments_and_events_but_cannot_be_changed(manager_client, make_ticket, technician):
    ticket = make_ticket(subject="Tawtheeq login loops")
    ticket_comment(ticket=ticket, author=technician, body="Certificate expired on the IdP.", internal=True)
    url = admin_url(Ticket, "change", ticket.pk)

    page = manager_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tawtheeq login loops" in html
    assert "Certificate expired on the IdP." in html
    assert 'name="_save"' not in html

    response = manager_client.post(url, {"subject": "Edited in admin", "status": "closed"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.subject == "Tawtheeq login loops"
    assert ticket.status == "new"
    assert manager_client.get(admin_url(Ticket, "add")).status_code == 403
    assert manager_client.post(admin_url(Ticket, "delete", ticket.pk), {"post": "yes"}).status_code == 403
    assert Ticket.objects.filter(pk=ticket.pk).exists()


@pytest.mark.django_db
def test_ticket_events_cannot_be_added_changed_or_deleted(manager_client, make_ticket):
    event = TicketEvent.objects.get(ticket=make_ticket())
    assert manager_client.get(admin_url(TicketEvent, "add")).status_code == 403
    assert manager_client.post(admin_url(TicketEvent, "change", event.pk), {"kind": "closed"}).status_code == 403
    assert manager_client.post(admin_url(TicketEvent, "delete", event.pk), {"post": "yes"}).status_code == 403
    changelist = manager_client.post(
        admin_url(TicketEvent, "changelist"), {"action": "delete_selected", "_selected_action": [event.pk]}
    )
    assert changelist.status_code in (200, 302)
    event.refresh_from_db()
    assert event.kind == "opened"


@pytest.mark.django_db
def test_ticket_search_finds_the_reference_users_quote(manager_client, make_ticket):
    wanted = make_ticket(subject="Mail relay rejects attachments")
    other = make_ticket(subject="VPN drops every hour")
    url = admin_url(Ticket, "changelist")

    by_reference = manager_client.get(url, {"q": f"HD-{wanted.number}"}).context["cl"].result_list
    assert list(by_reference) == [wanted]
    by_digits = manager_client.get(url, {"q": str(other.number)}).context["cl"].result_list
    assert list(by_digits) == [other]
    by_words = manager_client.get(url, {"q": "relay"}).context["cl"].result_list
    assert list(by_words) == [wanted]


@pytest.mark.django_db
def test_team_and_user_fields_autocomplete(manager_client, team, staff):
    autocomplete = reverse("admin:autocomplete")
    teams = manager_client.get(
        autocomplete, {"app_label": "tickets", "model_name": "service", "field_name": "team", "term": "Network"}
    ).json()
    assert [item["text"] for item in teams["results"]] == [str(team)]
    users = manager_client.get(
        autocomplete, {"app_label": "tickets", "model_name": "team", "field_name": "members", "term": "staff"}
    ).json()
    assert str(staff.pk) in [item["id"] for item in users["results"]]


@pytest.mark.django_db
def test_agency_staff_are_added_on_the_agency_page(manager_client, agency):
    newcomer = UserFactory(username="newcomer")
    prefix = "memberships"
    response = manager_client.post(
        admin_url(type(agency), "change", agency.pk),
        {
            "code": agency.code,
            "name_en": agency.name_en,
            "name_ar": agency.name_ar,
            "active": "on",
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-0-user": str(newcomer.pk),
            f"{prefix}-0-phone": "+974 4400 0000",
            f"{prefix}-0-agency": str(agency.pk),
        },
    )
    assert response.status_code == 302
    membership = AgencyMembership.objects.get(user=newcomer)
    assert membership.agency == agency
    assert membership.phone == "+97444000000"  # kept in E.164, the form the hotline recognises callers by


@pytest.mark.django_db
def test_agency_staff_cannot_open_the_admin(client, staff):
    client.force_login(staff)
    response = client.get(admin_url(Ticket, "changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
