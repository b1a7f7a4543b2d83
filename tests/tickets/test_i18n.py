"""Arabic and English: the page direction, the translated text, the language switch and a complete catalogue."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from tickets.services import ticket_claim

ARABIC_LETTERS = re.compile(r"[\u0600-\u06ff]")


def visible_text(html: str) -> str:
    body = html.split("<body", 1)[1]
    return re.sub(r"<[^>]+>", " ", body)


@pytest.mark.django_db
def test_arabic_page_is_right_to_left_with_arabic_labels(client, staff, service):
    client.force_login(staff)
    html = client.get("/tickets/new/", headers={"accept-language": "ar"}).content.decode()

    assert '<html lang="ar" dir="rtl">' in html
    for label in ("الخدمة", "الأثر", "الاستعجال", "الموضوع", "الوصف", "هاتف التواصل", "المرفقات", "فتح التذكرة"):
        assert label in html
    text = visible_text(html)
    for english in ("Service", "Impact", "Urgency", "Subject", "Description", "Open the ticket", "Log out"):
        assert english not in text
    assert "English" in text


@pytest.mark.django_db
def test_english_page_is_left_to_right(client, staff, service):
    client.force_login(staff)
    html = client.get("/tickets/new/", headers={"accept-language": "en"}).content.decode()
    assert '<html lang="en" dir="ltr">' in html
    assert "Report a problem" in html
    assert "العربية" in html
    assert not ARABIC_LETTERS.search(visible_text(html).replace("العربية", ""))


@pytest.mark.django_db
def test_language_switch_changes_the_page(client, staff, service):
    client.force_login(staff)
    assert 'dir="ltr"' in client.get("/tickets/new/").content.decode()

    switched = client.post("/i18n/setlang/", {"language": "ar", "next": "/tickets/new/"}, follow=True)
    assert switched.redirect_chain == [("/tickets/new/", 302)]
    assert 'dir="rtl"' in switched.content.decode()
    assert "الإبلاغ عن مشكلة" in switched.content.decode()
    assert 'dir="rtl"' in client.get("/tickets/").content.decode()

    back = client.post("/i18n/setlang/", {"language": "en", "next": "/tickets/"}, follow=True)
    assert 'dir="ltr"' in back.content.decode()
    assert "Tickets of Ministry of Public Health" in back.content.decode()


@pytest.mark.django_db
def test_form_errors_are_in_arabic(client, staff, service):
    client.force_login(staff)
    response = client.post(
        "/tickets/new/",
        {"service": service.pk, "impact": 1, "urgency": 1, "subject": "", "description": "x", "contact_phone": "abc"},
        headers={"accept-language": "ar"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "لم تُرسل التذكرة" in html
    assert "هذا الحقل مطلوب" in html
    # The example number is isolated left to right inside the Arabic sentence.
    assert "أدخل رقم هاتف صحيحًا، مثل \u2066+974 4412 3456\u2069." in html


@pytest.mark.django_db
def test_ticket_page_in_arabic_tells_the_timeline_and_dates_in_arabic(client, make_ticket, staff, technician):
    technician.first_name, technician.last_name = "عائشة", "الكواري"
    technician.save()
    ticket = make_ticket(now=dt.datetime(2026, 11, 29, 8, 30, tzinfo=ZoneInfo("Asia/Qatar")))
    ticket_claim(ticket=ticket, technician=technician)
    client.force_login(staff)
    html = client.get(f"/tickets/{ticket.number}/", headers={"accept-language": "ar"}).content.decode()

    assert "تولّى عائشة الكواري التذكرة." in html
    assert "عبر الموقع الإلكتروني" in html
    assert "قيد المعالجة" in html
    assert "P3 متوسطة" in html
    assert "الشبكة الحكومية" in html
    assert "وزارة الصحة العامة" in html
    assert "نوفمبر" in html
    assert "08:30" in html


def po_entries(path: Path) -> list[tuple[str, list[str], bool]]:
    """(msgid, msgstrs, fuzzy) for every entry of a .po file, header excluded."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            strs = [value for name, value in fields.items() if name.startswith("msgstr")]
            entries.append((fields["msgid"], strs, "#, fuzzy" in block or ", fuzzy" in block))
    return entries


def test_every_string_of_the_arabic_catalogue_is_translated():
    entries = po_entries(Path(settings.BASE_DIR) / "locale" / "ar" / "LC_MESSAGES" / "django.po")
    assert len(entries) > 200
    untranslated = [msgid for msgid, strs, fuzzy in entries if fuzzy or not all(strs)]
    assert untranslated == []
    placeholders = re.compile(r"%\(\w+\)[sd]")
    mismatched = [
        msgid
        for msgid, strs, _fuzzy in entries
        if len(strs) == 1 and sorted(placeholders.findall(msgid)) != sorted(placeholders.findall(strs[0]))
    ]
    assert mismatched == []
