"""A ticket's notifications through a real SMTP server started by the test: headers, both parts, threading."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller

from escalation.models import ContactProfile
from notifications.delivery import notifications_deliver_due
from tickets import services
from tickets.models import Level

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": controller.port, "timeout": 5},
        }
    }
    settings.HELPDESK_PUBLIC_URL = "https://helpdesk.example.gov.qa"
    settings.DEFAULT_FROM_EMAIL = "helpdesk@example.gov.qa"
    yield inbox
    controller.stop()


@pytest.mark.django_db
def test_a_tickets_mails_leave_through_smtp_threaded_with_both_parts(smtp_inbox, service, staff, technician):
    ContactProfile.objects.create(user=staff, language="ar")
    ticket = services.ticket_open(
        service=service, requester=staff, subject="VPN down", impact=Level.MEDIUM, urgency=Level.MEDIUM, now=NOW
    )
    assert notifications_deliver_due(now=NOW + dt.timedelta(minutes=1)) == 1
    services.ticket_claim(ticket=ticket, technician=technician, now=NOW + dt.timedelta(minutes=2))
    services.ticket_comment(
        ticket=ticket, author=technician, body="Restart the client, please.", now=NOW + dt.timedelta(minutes=3)
    )
    assert notifications_deliver_due(now=NOW + dt.timedelta(minutes=5)) == 1

    assert [recipients for recipients, _content in smtp_inbox.messages] == [[staff.email], [staff.email]]
    first, second = (
        email.message_from_bytes(content, policy=email.policy.default) for _recipients, content in smtp_inbox.messages
    )
    for message in (first, second):
        assert message["Subject"].startswith(f"[{ticket.reference}] ")
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["From"] == "helpdesk@example.gov.qa"
        assert message["References"] == f"<ticket-{ticket.number}@helpdesk.example.gov.qa>"
        assert message["In-Reply-To"] == message["References"]
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert f"https://helpdesk.example.gov.qa/tickets/{ticket.number}/" in text
        assert f'href="https://helpdesk.example.gov.qa/tickets/{ticket.number}/"' in html
        assert 'dir="rtl"' in html
    assert first["Message-ID"] != second["Message-ID"]
    assert "Restart the client, please." in second.get_body(preferencelist=("plain",)).get_content()
    assert "Restart the client, please." in second.get_body(preferencelist=("html",)).get_content()
    assert "تذكرتك مفتوحة" in first["Subject"]
