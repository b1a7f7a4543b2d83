"""The agency web form at /tickets/new/: what is accepted, what is refused with which error, and who may use it."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.html import escape

from tests.factories import ServiceFactory, UserFactory
from tickets.models import Attachment, Level, Ticket, TicketEvent

NEW_URL = "/tickets/new/"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def form_data(service, /, **overrides):
    data = {
        "service": str(service.pk),
        "impact": str(Level.HIGH),
        "urgency": str(Level.MEDIUM),
        "subject": "Correspondence system rejects logins",
        "description": "Since 08:00 every user gets 'invalid session'.",
        "contact_phone": "+974 4400-1234",
    }
    data.update(overrides)
    return data


def assert_nothing_created():
    assert Ticket.objects.count() == 0
    assert TicketEvent.objects.count() == 0
    assert Attachment.objects.count() == 0


@pytest.mark.django_db
def test_valid_post_opens_the_ticket_and_lands_on_its_page(client, staff, service, agency):
    client.force_login(staff)
    screenshot = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    report = SimpleUploadedFile(
        "report.docx", docx_bytes(), content_type="application/octet-stream"
    )
    response = client.post(NEW_URL, {**form_data(service), "attachments": [screenshot, report]}, follow=True)

    ticket = Ticket.objects.get()
    assert response.redirect_chain == [(f"/tickets/{ticket.number}/", 302)]
    page = response.content.decode()
    assert f"HD-{ticket.number}" in page
    assert f"Your ticket HD-{ticket.number} is open" in page
    assert "Correspondence system rejects logins" in page
    assert ticket.agency == agency
    assert ticket.requester == staff
    assert ticket.channel == "web"
    assert ticket.contact_phone == "+97444001234"
    assert ticket.priority == 2
    assert sorted(Attachment.objects.values_list("name", "content_type")) == [
        ("report.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("screen.png", "image/png"),
    ]
    assert "screen.png" in page and "report.docx" in page


@pytest.mark.django_db
def test_form_offers_active_services_in_the_active_language(client, staff, service, team):
    ServiceFactory(code="retired", name_en="Retired Fax Gateway", name_ar="بوابة الفاكس", team=team, active=False)
    client.force_login(staff)
    english = client.get(NEW_URL).content.decode()
    assert "Government Network" in english
    assert "Retired Fax Gateway" not in english
    arabic = client.get(NEW_URL, headers={"accept-language": "ar"}).content.decode()
    assert "الشبكة الحكومية" in arabic
    assert "بوابة الفاكس" not in arabic


@pytest.mark.django_db
@pytest.mark.parametrize("written", ["0097455123456", "5512 3456", "+974-5512-3456"])
def test_every_way_of_writing_a_qatar_number_is_stored_in_e164(client, staff, service, written):
    client.force_login(staff)
    assert client.post(NEW_URL, form_data(service, contact_phone=written)).status_code == 302
    assert Ticket.objects.get().contact_phone == "+97455123456"


@pytest.mark.django_db
def test_arabic_digits_in_the_phone_number_are_accepted(client, staff, service):
    client.force_login(staff)
    response = client.post(NEW_URL, form_data(service, contact_phone="+٩٧٤ ٥٥١٢-٣٤٥٦"))
    assert response.status_code == 302
    assert Ticket.objects.get().contact_phone == "+97455123456"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("service", "", "This field is required."),
        ("service", "999999", "Select a valid choice."),
        ("impact", "", "This field is required."),
        ("impact", "7", "Select a valid choice."),
        ("urgency", "", "This field is required."),
        ("urgency", "high", "Select a valid choice."),
        ("subject", "", "This field is required."),
        ("subject", "x" * 201, "Ensure this value has at most 200 characters"),
        ("description", "", "This field is required."),
        ("contact_phone", "call reception", "Enter a valid phone number, for example +974 4412 3456."),
        ("contact_phone", "12 34", "Enter a valid phone number, for example +974 4412 3456."),
        ("contact_phone", "+974 4400 12", "Enter a valid phone number, for example +974 4412 3456."),
        ("contact_phone", "+1 555 0100", "Enter a valid phone number, for example +974 4412 3456."),
    ],
)
def test_each_missing_or_invalid_field_is_refused_with_its_error(client, staff, service, field, value, message):
    client.force_login(staff)
    response = client.post(NEW_URL, form_data(service, **{field: value}))

    assert response.status_code == 400
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in errors[field][0]
    page = response.content.decode()
    assert escape(errors[field][0]) in page
    assert "The ticket was not sent" in page
    assert_nothing_created()


@pytest.mark.django_db
def test_inactive_service_is_refused(client, staff, service, team):
    retired = ServiceFactory(code="retired", team=team, active=False)
    client.force_login(staff)
    response = client.post(NEW_URL, form_data(service, service=str(retired.pk)))
    assert response.status_code == 400
    assert "service" in response.context["form"].errors
    assert_nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "content", "content_type", "message"),
    [
        ("setup.exe", b"MZ\x90\x00", "application/octet-stream", "is not an accepted type of file"),
        ("page.html", b"<html><script>alert(1)</script>", "text/html", "is not an accepted type of file"),
        ("screen.png", b"<html><script>alert(1)</script>", "image/png", "does not match its type"),
        ("notes.txt", b"plain words", "text/html", "does not match its type"),
        ("scan.pdf", PNG, "application/pdf", "does not match its type"),
        ("report.docx", b"PK\x03\x04not really a zip", "application/octet-stream", "does not match its type"),
        ("log.txt", b"binary\x00data", "text/plain", "does not match its type"),
        ("empty.txt", b"", "text/plain", "The submitted file is empty."),
    ],
)
def test_disallowed_attachments_are_refused(client, staff, service, name, content, content_type, message):
    client.force_login(staff)
    upload = SimpleUploadedFile(name, content, content_type=content_type)
    response = client.post(NEW_URL, {**form_data(service), "attachments": [upload]})

    assert response.status_code == 400
    errors = response.context["form"].errors["attachments"]
    assert any(message in error for error in errors)
    assert escape(errors[0]) in response.content.decode()
    assert_nothing_created()


@pytest.mark.django_db
def test_oversized_attachment_is_refused(client, staff, service, settings):
    settings.HELPDESK_ATTACHMENT_MAX_BYTES = 1024
    client.force_login(staff)
    upload = SimpleUploadedFile("big.png", PNG + bytes(1024), content_type="image/png")
    response = client.post(NEW_URL, {**form_data(service), "attachments": [upload]})

    assert response.status_code == 400
    [error] = response.context["form"].errors["attachments"]
    assert "“big.png” is too large" in error
    assert "the limit is 1.0\xa0KB" in error
    assert_nothing_created()


@pytest.mark.django_db
def test_too_many_attachments_are_refused(client, staff, service, settings):
    settings.HELPDESK_ATTACHMENT_MAX_FILES = 2
    client.force_login(staff)
    uploads = [SimpleUploadedFile(f"shot{n}.png", PNG, content_type="image/png") for n in range(3)]
    response = client.post(NEW_URL, {**form_data(service), "attachments": uploads})

    assert response.status_code == 400
    assert response.context["form"].errors["attachments"] == ["Attach at most 2 files (you chose 3)."]
    assert_nothing_created()


@pytest.mark.django_db
def test_html_in_subject_and_description_is_shown_escaped(client, staff, service):
    client.force_login(staff)
    subject = '<script>alert("x")</script> VPN down'
    response = client.post(
        NEW_URL, form_data(service, subject=subject, description="<b>first</b>\nsecond line"), follow=True
    )
    detail = response.content.decode()
    listing = client.get("/tickets/").content.decode()

    for page in (detail, listing):
        assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; VPN down" in page
        assert "<script>alert" not in page
    assert "&lt;b&gt;first&lt;/b&gt;<br>second line" in detail


@pytest.mark.django_db
def test_technician_gets_a_clear_403_and_creates_nothing(client, technician, service):
    client.force_login(technician)
    assert client.get(NEW_URL).status_code == 403
    response = client.post(NEW_URL, form_data(service))
    assert response.status_code == 403
    assert "this form is for agency IT staff" in response.content.decode()
    assert_nothing_created()


@pytest.mark.django_db
def test_user_without_agency_gets_a_clear_403(client, service):
    client.force_login(UserFactory(username="nobody"))
    response = client.post(NEW_URL, form_data(service))
    assert response.status_code == 403
    assert "not linked to an agency" in response.content.decode()
    assert_nothing_created()


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(client, service):
    response = client.post(NEW_URL, form_data(service))
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next={NEW_URL}"
    assert_nothing_created()


@pytest.mark.django_db
def test_home_sends_each_kind_of_user_to_their_page(client, staff, technician):
    assert client.get("/")["Location"].startswith("/accounts/login/")
    client.force_login(staff)
    assert client.get("/")["Location"] == "/tickets/"
    client.force_login(technician)
    assert client.get("/")["Location"] == "/console/"


@pytest.mark.django_db
def test_login_page_logs_staff_in(client, staff):
    from tests.factories import PASSWORD

    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert 'name="password"' in page.content.decode()
    wrong = client.post("/accounts/login/", {"username": "staff", "password": "nope"})
    assert wrong.status_code == 200
    assert "Please enter a correct username and password" in wrong.content.decode()
    response = client.post("/accounts/login/", {"username": "staff", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1] == ("/tickets/", 302)
