"""Password reset by e-mail, end to end in English and Arabic: the request, the mail, the link, the new password;
the same answer for an unknown address; a rate limit that sends nothing more and says nothing more."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from security import ratelimit
from security.ratelimit import rate_reset
from tests.factories import PASSWORD, staff_of


@pytest.fixture(autouse=True)
def _reset_settings(settings):
    settings.HELPDESK_PUBLIC_URL = "https://helpdesk.example.gov.qa"
    settings.HELPDESK_PASSWORD_RESET_PER_EMAIL = 2
    settings.HELPDESK_PASSWORD_RESET_PER_CLIENT = 4
    rate_reset()
    yield
    rate_reset()


def log_in(username: str, password: str):
    """Through the login form: 302 when the password is right, the form again when it is not."""
    return Client().post("/accounts/login/", {"username": username, "password": password})


def reset_link(message) -> str:
    match = re.search(r"https://helpdesk\.example\.gov\.qa(/accounts/reset/[^/\s]+/[^/\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "direction", "subject", "done", "changed", "used"),
    [
        ("en", "ltr", "Reset your helpdesk password", "Check your e-mail", "Your new password is set.",
         "no longer valid"),
        ("ar", "rtl", "إعادة تعيين كلمة مرور مكتب الدعم", "تحقّق من بريدك الإلكتروني", "تم تعيين كلمة المرور الجديدة.",
         "لم يعد هذا الرابط صالحًا"),
    ],
)
@pytest.mark.django_db
def test_password_reset_end_to_end(language, direction, subject, done, changed, used, staff):
    browser = Client(headers={"accept-language": language})
    login = browser.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in login
    response = browser.post("/accounts/password_reset/", {"email": staff.email.upper()}, follow=True)
    assert done in response.content.decode()
    (message,) = mail.outbox
    assert message.to == [staff.email] and message.subject == subject
    assert f'dir="{direction}"' in message.alternatives[0].content
    page = browser.get(reset_link(message), follow=True)
    assert page.status_code == 200 and 'name="new_password1"' in page.content.decode()
    new = "a-fresh-Passphrase-42"
    finished = browser.post(page.redirect_chain[-1][0], {"new_password1": new, "new_password2": new}, follow=True)
    assert changed in finished.content.decode()
    assert log_in(staff.username, new).status_code == 302
    assert log_in(staff.username, PASSWORD).status_code == 200
    # The link works once.
    again = Client(headers={"accept-language": language}).get(reset_link(message), follow=True)
    assert used in again.content.decode()


@pytest.mark.django_db
def test_an_unknown_address_gets_the_same_answer_and_no_mail(client, staff):
    known = client.post("/accounts/password_reset/", {"email": staff.email})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.gov.qa"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    assert [message.to for message in mail.outbox] == [[staff.email]]


@pytest.mark.django_db
def test_requests_over_the_limit_send_nothing_and_look_the_same(client, staff, agency):
    answers = {client.post("/accounts/password_reset/", {"email": staff.email})["Location"] for _ in range(5)}
    assert answers == {"/accounts/password_reset/done/"}
    assert len(mail.outbox) == 2
    # The client's own limit holds for other addresses too: after four requests, a known address gets no mail.
    colleague = staff_of(agency, username="colleague", email="colleague@example.gov.qa")
    other = Client(REMOTE_ADDR="10.0.0.9")
    for n in range(4):
        other.post("/accounts/password_reset/", {"email": f"x{n}@example.gov.qa"})
    answer = other.post("/accounts/password_reset/", {"email": colleague.email})
    assert answer["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 2
    # From another client the colleague does get the mail.
    Client(REMOTE_ADDR="10.0.0.10").post("/accounts/password_reset/", {"email": colleague.email})
    assert [message.to for message in mail.outbox][-1] == [colleague.email]


@pytest.mark.django_db
def test_the_limit_is_shared_by_every_process_through_redis(client, staff, require_redis_layer):
    for _ in range(2):
        client.post("/accounts/password_reset/", {"email": staff.email})
    assert len(mail.outbox) == 2
    # Another server process has none of this process's memory, only the shared Redis.
    ratelimit._local_counts.clear()
    client.post("/accounts/password_reset/", {"email": staff.email})
    assert len(mail.outbox) == 2
