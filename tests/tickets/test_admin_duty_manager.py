"""The admin as a duty manager sees it: titled as the helpdesk in both languages with the language switch, the
internal tables kept to superusers, ticket events told as the timeline tells them, and a new user onboarded on one
screen (account, Arabic name, agency or teams, contact numbers)."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from escalation.models import ContactProfile
from tests.factories import UserFactory
from tickets.models import AgencyMembership, ArabicName, ConsolePresence, TicketNumberCounter
from tickets.services import ticket_claim

COUNTER_URL = reverse("admin:tickets_ticketnumbercounter_changelist")
PRESENCE_URL = reverse("admin:tickets_consolepresence_changelist")


@pytest.fixture
def duty_manager(db):
    """Staff with every permission, but not a superuser."""
    user = UserFactory(username="duty-manager", is_staff=True)
    user.user_permissions.set(Permission.objects.all())
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "header", "switch"),
    [("en", "Government IT Helpdesk administration", "العربية"), ("ar", "إدارة مكتب الدعم الفني الحكومي", "English")],
)
def test_the_admin_is_titled_as_the_helpdesk_with_a_language_switch(client, duty_manager, language, header, switch):
    client.cookies["django_language"] = language
    login = client.get(reverse("admin:login")).content.decode()
    assert header in login and "Django administration" not in login

    client.force_login(duty_manager)
    index = client.get(reverse("admin:index")).content.decode()
    assert f'<div id="site-name"><a href="/admin/">{header}</a></div>' in index
    assert re.search(
        rf'<form class="admin-lang-switch" action="/i18n/setlang/" method="post">.*?>{switch}</button>', index, re.S
    )
    assert f'<html lang="{language}" dir="{"rtl" if language == "ar" else "ltr"}">' in index


@pytest.mark.django_db
def test_internal_tables_are_hidden_from_everyone_but_superusers(client, duty_manager, superuser):
    client.force_login(duty_manager)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Ticket number counters" not in index and "Console presences" not in index
    assert "Tickets" in index and "Agencies" in index
    assert client.get(COUNTER_URL).status_code == 403
    assert client.get(PRESENCE_URL).status_code == 403

    client.force_login(superuser)
    index = client.get(reverse("admin:index")).content.decode()
    assert "Ticket number counters" in index and "Console presences" in index
    assert client.get(COUNTER_URL).status_code == 200
    assert client.get(PRESENCE_URL).status_code == 200
    assert TicketNumberCounter._meta.model_name in COUNTER_URL and ConsolePresence._meta.model_name in PRESENCE_URL


@pytest.mark.django_db
def test_ticket_events_read_as_the_timeline_sentences(client, duty_manager, make_ticket, staff, technician):
    staff.first_name, staff.last_name = "Omar", "Haddad"
    staff.save()
    technician.first_name, technician.last_name = "Aisha", "Al-Kuwari"
    technician.save()
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)
    client.force_login(duty_manager)

    page = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "Omar Haddad opened the ticket via Web." in page
    assert "Aisha Al-Kuwari took the ticket." in page
    events = client.get(reverse("admin:tickets_ticketevent_changelist")).content.decode()
    assert "Aisha Al-Kuwari took the ticket." in events

    client.cookies["django_language"] = "ar"
    arabic = client.get(reverse("admin:tickets_ticket_change", args=[ticket.pk])).content.decode()
    assert "تولّى Aisha Al-Kuwari التذكرة." in arabic


def management(prefix: str, initial: int = 0) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "1",
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


@pytest.mark.django_db
def test_a_user_is_onboarded_on_one_screen(client, superuser, agency, team):
    client.force_login(superuser)
    url = reverse("admin:auth_user_add")
    page = client.get(url)
    assert page.status_code == 200
    formsets = page.context["inline_admin_formsets"]
    prefixes = {formset.formset.model.__name__: formset.formset.prefix for formset in formsets}
    assert set(prefixes) == {"ArabicName", "AgencyMembership", "Team_members", "ContactProfile"}
    html = page.content.decode()
    for label in ("First name", "Last name", "Email address", "Arabic name", "Agency", "Mobile number"):
        assert label in html, label

    names, membership, teams, contact = (
        prefixes["ArabicName"],
        prefixes["AgencyMembership"],
        prefixes["Team_members"],
        prefixes["ContactProfile"],
    )
    data = {
        "username": "new.tech",
        "first_name": "Hessa",
        "last_name": "Al-Misnad",
        "email": "hessa@example.gov.qa",
        "usable_password": "true",
        "password1": "a-long-enough-passphrase",
        "password2": "a-long-enough-passphrase",
        **management(names),
        f"{names}-0-name": "حصة المسند",
        **management(membership),
        f"{membership}-0-agency": "",
        f"{membership}-0-phone": "",
        **management(teams),
        f"{teams}-0-team": str(team.pk),
        **management(contact),
        f"{contact}-0-mobile": "5501 2345",
        f"{contact}-0-language": "ar",
        f"{contact}-0-page_by_sms": "on",
        f"{contact}-0-page_by_voice": "on",
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context and [
        formset.formset.errors for formset in response.context["inline_admin_formsets"]
    ]
    user = User.objects.get(username="new.tech")
    assert user.get_full_name() == "Hessa Al-Misnad"
    assert ArabicName.objects.get(user=user).name == "حصة المسند"
    assert list(user.teams.all()) == [team]
    assert ContactProfile.objects.get(user=user).mobile == "+97455012345"
    assert not AgencyMembership.objects.filter(user=user).exists()

    staff_data = {
        **data,
        "username": "new.staff",
        f"{teams}-0-team": "",
        f"{contact}-0-mobile": "",
        f"{membership}-0-agency": str(agency.pk),
        f"{membership}-0-phone": "4400 1234",
    }
    assert client.post(url, staff_data).status_code == 302
    member = AgencyMembership.objects.get(user__username="new.staff")
    assert (member.agency, member.phone) == (agency, "+97444001234")
