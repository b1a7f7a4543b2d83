"""Arabic details of the agency pages: people named in the page's language, phone numbers grouped and kept left to
right, sizes and times in the language's format and isolated from the text around them, lists sorted by the name in
the page's language."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template.defaultfilters import filesizeformat
from django.utils import translation

from tests.factories import ServiceFactory
from tickets.models import ArabicName
from tickets.phones import phone_display, phone_e164
from tickets.selectors import user_display_name
from tickets.services import ticket_claim

PNG = b"\x89PNG\r\n\x1a\n" + bytes(32)


def page_in(client, user, path: str, language: str) -> str:
    client.force_login(user)
    client.cookies["django_language"] = language
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_user_is_named_in_arabic_on_arabic_pages_and_in_english_otherwise(staff):
    staff.first_name, staff.last_name = "Aisha", "Al-Mohannadi"
    staff.save()
    with translation.override("ar"):
        assert user_display_name(staff) == "Aisha Al-Mohannadi"
    ArabicName.objects.create(user=staff, name="عائشة المهندي")
    staff.refresh_from_db()
    with translation.override("ar"):
        assert user_display_name(staff) == "عائشة المهندي"
    with translation.override("en"):
        assert user_display_name(staff) == "Aisha Al-Mohannadi"


@pytest.mark.django_db
def test_ticket_page_names_requester_and_assignee_in_the_pages_language(client, make_ticket, staff, technician):
    technician.first_name, technician.last_name = "Khalid", "Al-Naimi"
    technician.save()
    ArabicName.objects.create(user=technician, name="خالد النعيمي")
    ArabicName.objects.create(user=staff, name="عائشة المهندي")
    ticket = make_ticket()
    ticket_claim(ticket=ticket, technician=technician)

    arabic = page_in(client, staff, f"/tickets/{ticket.number}/", "ar")
    assert "خالد النعيمي" in arabic and "عائشة المهندي" in arabic
    assert "تولّى خالد النعيمي التذكرة." in arabic
    assert "Khalid Al-Naimi" not in arabic

    english = page_in(client, staff, f"/tickets/{ticket.number}/", "en")
    assert "Khalid Al-Naimi took the ticket." in english
    assert "خالد النعيمي" not in english


@pytest.mark.django_db
def test_phone_numbers_are_grouped_and_kept_left_to_right(client, make_ticket, staff):
    ticket = make_ticket(contact_phone="+97444000000")
    html = page_in(client, staff, f"/tickets/{ticket.number}/", "ar")
    assert '<a class="phone" dir="ltr" href="tel:+97444000000">+974 4400 0000</a>' in html
    assert f'<span class="ticket-ref" dir="ltr">HD-{ticket.number}</span>' in html
    assert phone_display("not a number") == "not a number"


@pytest.mark.django_db
def test_a_callers_number_on_a_phone_ticket_is_grouped_and_left_to_right(client, make_ticket, staff):
    ticket = make_ticket(requester=None, caller_phone="+97455123456", agency=staff.agency_membership.agency)
    html = page_in(client, staff, f"/tickets/{ticket.number}/", "ar")
    assert '<span class="phone" dir="ltr">+974 5512 3456</span>' in html


@pytest.mark.parametrize(
    ("language", "size", "shown"),
    [
        ("en", 10 * 1024 * 1024, "10.0\xa0MB"),
        ("ar", 10 * 1024 * 1024, "10.0\xa0ميغابايت"),
        ("ar", 1_572_864, "1.5\xa0ميغابايت"),
        ("ar", 2048, "2.0\xa0كيلوبايت"),
        ("ar", 12, "12\xa0بايت"),
    ],
)
def test_sizes_follow_the_active_language(language, size, shown):
    with translation.override(language):
        assert filesizeformat(size) == shown


@pytest.mark.django_db
def test_attachment_sizes_are_isolated_and_in_arabic_units(client, make_ticket, staff):
    upload = SimpleUploadedFile("screen.png", PNG + bytes(2048), content_type="image/png")
    ticket = make_ticket(attachments=[upload])
    html = page_in(client, staff, f"/tickets/{ticket.number}/", "ar")
    assert '<bdi class="size">2.0\xa0كيلوبايت</bdi>' in html
    assert "م.ب" not in html and "ك.ب" not in html


@pytest.mark.django_db
def test_times_use_the_arabic_comma_on_arabic_pages(client, make_ticket, staff):
    ticket = make_ticket(now=dt.datetime(2026, 11, 29, 5, 30, tzinfo=dt.UTC))
    arabic = page_in(client, staff, f"/tickets/{ticket.number}/", "ar")
    assert re.search(r"<time datetime=\"[^\"]+\">29 نوفمبر 2026، 08:30</time>", arabic)
    english = page_in(client, staff, f"/tickets/{ticket.number}/", "en")
    assert "29 Nov 2026, 08:30" in english


@pytest.mark.django_db
def test_services_are_sorted_by_their_name_in_the_pages_language(client, staff, team):
    ServiceFactory(code="sms", name_en="SMS Gateway", name_ar="بوابة الرسائل النصية", team=team)
    ServiceFactory(code="cloud", name_en="Government Cloud", name_ar="سحابة الحكومة", team=team)
    ServiceFactory(code="o365", name_en="Office 365", name_ar="أوفيس 365", team=team)

    def options(html: str) -> list[str]:
        select = re.search(r'<select name="service".*?</select>', html, re.S).group(0)
        return [name for value, name in re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', select)]

    english = options(page_in(client, staff, "/tickets/new/", "en"))
    assert english == ["Government Cloud", "Office 365", "SMS Gateway"]
    arabic = options(page_in(client, staff, "/tickets/new/", "ar"))
    assert arabic == ["أوفيس 365", "بوابة الرسائل النصية", "سحابة الحكومة"]
    assert options(page_in(client, staff, "/tickets/", "ar")) == arabic


@pytest.mark.django_db
def test_the_event_log_records_the_accounts_own_name_whatever_the_writers_language(make_ticket, technician):
    technician.first_name, technician.last_name = "Khalid", "Al-Naimi"
    technician.save()
    ArabicName.objects.create(user=technician, name="خالد النعيمي")
    technician.refresh_from_db()
    ticket = make_ticket()
    with translation.override("ar"):
        ticket_claim(ticket=ticket, technician=technician)
    event = ticket.events.order_by("-id").first()
    assert event.after["assignee"] == {"id": technician.pk, "name": "Khalid Al-Naimi"}


@pytest.mark.django_db
def test_phone_examples_in_arabic_texts_are_isolated_left_to_right(client, staff):
    """A number inside an Arabic sentence is wrapped in LEFT-TO-RIGHT ISOLATE ... POP DIRECTIONAL ISOLATE, so it
    never shows as "0000 4400 974+"."""
    form = page_in(client, staff, "/tickets/new/", "ar")
    assert "مثل \u2066+974 4400 0000\u2069." in form
    settings_page = page_in(client, staff, "/settings/", "ar")
    assert "\u2066+974 5512 3456\u2069" in settings_page
    assert 'type="tel"' in settings_page and 'dir="ltr"' in settings_page
    with translation.override("ar"), pytest.raises(ValueError, match="\u2066\\+974 4412 3456\u2069"):
        phone_e164("12")
