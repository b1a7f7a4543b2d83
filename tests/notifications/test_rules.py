"""Who is told what: each rule, the actor left out, a rolled-back change queues nothing, a burst is one message,
delivery retries and never sends twice."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from escalation.models import ContactProfile
from hotline.backends import LocmemBackend, PhoneSendError
from notifications.delivery import notifications_deliver_due
from notifications.models import Notification
from notifications.services import preference_update, watcher_add
from tests.escalation.test_outbox import HangingBackend
from tests.factories import staff_of
from tickets import services
from tickets.models import Level, Status

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=5)
MOBILE = "+97455123456"


@pytest.fixture(autouse=True)
def _notify_settings(settings):
    settings.HELPDESK_NOTIFY_DELAY_SECONDS = 30
    settings.HELPDESK_NOTIFY_RETRY_SECONDS = 10
    settings.HELPDESK_NOTIFY_MAX_ATTEMPTS = 3
    settings.HELPDESK_PUBLIC_URL = "https://helpdesk.example.gov.qa"


def open_ticket(service, staff, *, now=NOW, **kwargs):
    values = {"impact": Level.MEDIUM, "urgency": Level.MEDIUM, **kwargs}
    return services.ticket_open(service=service, requester=staff, subject="Printer offline", now=now, **values)


def queued(**filters) -> list[tuple[str, str, list[str]]]:
    return [
        (n.recipient.username, n.channel, n.kinds)
        for n in Notification.objects.filter(**filters).select_related("recipient").order_by("id")
    ]


def sms_only(user, *, language):
    preference_update(user=user, channels={"opened": "sms"}, sms_for_urgent=False, language=language, mobile=MOBILE)


def deliver(now=LATER) -> int:
    return notifications_deliver_due(now=now, limit=50)


@pytest.mark.django_db
def test_opening_tells_the_requester_by_email_with_the_number(service, staff):
    ticket = open_ticket(service, staff)
    assert queued() == [("staff", "email", ["opened"])]
    assert deliver() == 1
    (message,) = mail.outbox
    assert message.to == [staff.email]
    assert message.subject.startswith(f"[{ticket.reference}] Your ticket is open: Printer offline")
    assert f"https://helpdesk.example.gov.qa/tickets/{ticket.number}/" in message.body


@pytest.mark.django_db
def test_opening_on_behalf_of_nobody_tells_nobody(service, agency):
    services.ticket_open(
        service=service, agency=agency, subject="Call", impact=Level.LOW, urgency=Level.LOW, channel="phone", now=NOW
    )
    assert queued() == []


@pytest.mark.django_db
def test_requester_side_rules_and_technician_side_rules(service, staff, technician):
    ticket = open_ticket(service, staff)
    Notification.objects.all().delete()
    services.ticket_claim(ticket=ticket, technician=technician, now=NOW)
    # Claiming is the technician's own act: nobody is told.
    assert queued() == []
    services.ticket_comment(ticket=ticket, author=technician, body="Which floor?", now=NOW)
    services.ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, now=NOW)
    assert queued() == [("staff", "email", ["reply", "waiting"])]
    Notification.objects.all().delete()
    services.ticket_comment(ticket=ticket, author=staff, body="Third floor.", now=NOW)
    assert queued() == [("tech", "email", ["agency_reply"])]
    Notification.objects.all().delete()
    services.ticket_resolve(ticket=ticket, actor=technician, note="Cable replaced", now=NOW)
    assert queued() == [("staff", "email", ["resolved"])]
    Notification.objects.all().delete()
    services.ticket_reopen(ticket=ticket, actor=staff, note="Still offline", now=NOW)
    assert queued() == [("tech", "email", ["reopened"])]
    Notification.objects.all().delete()
    services.ticket_cancel(ticket=ticket, actor=technician, note="Duplicate", now=NOW)
    assert queued() == [("staff", "email", ["cancelled"])]


@pytest.mark.django_db
def test_internal_note_tells_nobody(service, staff, technician):
    ticket = open_ticket(service, staff)
    Notification.objects.all().delete()
    services.ticket_comment(ticket=ticket, author=technician, body="Looks like the switch", internal=True, now=NOW)
    assert queued() == []


@pytest.mark.django_db
def test_assignment_tells_the_new_assignee_not_the_actor(service, staff, technician, other_technician):
    ticket = open_ticket(service, staff)
    Notification.objects.all().delete()
    services.ticket_assign(ticket=ticket, actor=technician, assignee=other_technician, now=NOW)
    assert queued() == [("tech2", "email", ["assigned"])]


@pytest.mark.django_db
def test_closing_tells_watchers_but_not_the_requester_who_closed(service, staff, agency, technician):
    colleague = staff_of(agency, username="colleague")
    ticket = open_ticket(service, staff)
    watcher_add(ticket=ticket, actor=staff, user=colleague, now=NOW)
    services.ticket_claim(ticket=ticket, technician=technician, now=NOW)
    services.ticket_resolve(ticket=ticket, actor=technician, now=NOW)
    Notification.objects.all().delete()
    services.ticket_close(ticket=ticket, actor=staff, now=NOW)
    assert queued() == [("colleague", "email", ["closed"])]


@pytest.mark.django_db
def test_a_rolled_back_change_notifies_nobody(service, staff, technician):
    ticket = open_ticket(service, staff)
    Notification.objects.all().delete()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.ticket_comment(ticket=ticket, author=technician, body="Fixed?", now=NOW)
        raise RuntimeError("rolled back")
    assert queued() == []
    assert deliver() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_a_burst_is_one_message_that_waits_for_the_rest(service, staff, technician):
    ticket = open_ticket(service, staff)
    services.ticket_claim(ticket=ticket, technician=technician, now=NOW + dt.timedelta(seconds=2))
    services.ticket_comment(ticket=ticket, author=technician, body="On my way.", now=NOW + dt.timedelta(seconds=5))
    services.ticket_resolve(ticket=ticket, actor=technician, note="Done", now=NOW + dt.timedelta(seconds=9))
    assert queued() == [("staff", "email", ["opened", "reply", "resolved"])]
    assert deliver(now=NOW + dt.timedelta(seconds=20)) == 0
    assert deliver(now=NOW + dt.timedelta(seconds=31)) == 1
    (message,) = mail.outbox
    assert "Updates on your ticket" in message.subject
    assert "On my way." in message.body
    assert "Confirm the fix" in message.alternatives[0].content
    assert f"/tickets/{ticket.number}/#confirm-heading" in message.body
    # Once tried, a row takes no more events: the next change makes a new message.
    services.ticket_comment(ticket=ticket, author=technician, body="Anything else?", now=LATER)
    assert queued(state=Notification.State.PENDING) == [("staff", "email", ["reply"])]


@pytest.mark.django_db
def test_the_recipients_language_arabic(service, staff, technician):
    ContactProfile.objects.create(user=staff, language="ar")
    ticket = open_ticket(service, staff)
    deliver()
    (message,) = mail.outbox
    assert f"[{ticket.reference}] تذكرتك مفتوحة" in message.subject
    html = message.alternatives[0].content
    assert 'dir="rtl"' in html and 'lang="ar"' in html


@pytest.mark.django_db
def test_sms_for_urgent_tickets_by_default_and_when_chosen(service, staff, technician):
    preference_update(user=staff, channels={}, sms_for_urgent=True, language="en", mobile="+97455123456")
    open_ticket(service, staff, impact=Level.HIGH, urgency=Level.HIGH)
    open_ticket(service, staff)
    assert sorted(channel for _name, channel, _kinds in queued()) == ["email", "email", "sms"]
    deliver()
    (sms,) = LocmemBackend.sent
    assert sms.to == "+97455123456" and sms.channel == "sms" and sms.language == "en"
    assert sms.body.startswith("HD-") and "Your ticket is open" in sms.body and len(sms.body) < 200
    Notification.objects.all().delete()
    sms_only(staff, language="ar")
    open_ticket(service, staff)
    assert queued() == [("staff", "sms", ["opened"])]
    preference_update(user=staff, channels={"opened": "none"}, sms_for_urgent=True, language="ar", mobile=MOBILE)
    Notification.objects.all().delete()
    open_ticket(service, staff, impact=Level.HIGH, urgency=Level.HIGH)
    assert queued() == []


@pytest.mark.django_db
def test_a_failed_sms_retries_with_backoff_and_is_sent_once(service, staff):
    sms_only(staff, language="en")
    open_ticket(service, staff)
    LocmemBackend.failures.append(PhoneSendError("provider down"))
    assert deliver(now=LATER) == 1
    notification = Notification.objects.get()
    assert notification.state == "pending" and notification.attempts == 1
    retry_in = notification.next_attempt_at - LATER
    assert dt.timedelta(seconds=10) <= retry_in < dt.timedelta(seconds=11)
    assert deliver(now=LATER + dt.timedelta(seconds=5)) == 0
    assert deliver(now=LATER + dt.timedelta(seconds=11)) == 1
    assert len(LocmemBackend.sent) == 1
    assert deliver(now=LATER + dt.timedelta(hours=1)) == 0
    assert len(LocmemBackend.sent) == 1
    notification.refresh_from_db()
    assert notification.state == "sent"


@pytest.mark.django_db
def test_a_hung_sms_provider_costs_one_bounded_attempt_and_the_sms_is_retried(service, staff, settings):
    settings.HELPDESK_PHONE_BACKEND = "tests.escalation.test_outbox.HangingBackend"
    settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS = 0.05
    sms_only(staff, language="en")
    open_ticket(service, staff)
    HangingBackend.release.clear()
    try:
        assert deliver(now=LATER) == 1
    finally:
        HangingBackend.release.set()
    notification = Notification.objects.get()
    assert notification.state == "pending" and notification.attempts == 1
    assert notification.last_error == "no answer from the phone provider within 0.05 s"
    assert dt.timedelta(seconds=10) <= notification.next_attempt_at - LATER < dt.timedelta(seconds=11)


@pytest.mark.django_db
def test_a_permanent_failure_is_not_retried(service, staff):
    sms_only(staff, language="en")
    open_ticket(service, staff)
    LocmemBackend.failures.append(PhoneSendError("invalid number", retryable=False))
    deliver()
    assert deliver(now=LATER + dt.timedelta(hours=1)) == 0
    assert Notification.objects.get().state == "failed"
    assert LocmemBackend.sent == []


@pytest.mark.django_db
def test_retries_stop_after_the_last_attempt(service, staff, settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.notifications.failing_mail.FailingBackend"}}
    open_ticket(service, staff)
    for minutes in (5, 10, 20):
        deliver(now=NOW + dt.timedelta(minutes=minutes))
    notification = Notification.objects.get()
    assert (notification.state, notification.attempts) == ("failed", 3)
    assert "refused" in notification.last_error


@pytest.mark.django_db
def test_a_watcher_who_left_the_agency_is_no_longer_told(service, staff, agency, other_agency, technician):
    colleague = staff_of(agency, username="colleague")
    ticket = open_ticket(service, staff)
    watcher_add(ticket=ticket, actor=staff, user=colleague, now=NOW)
    staff_of(other_agency, username="colleague")
    Notification.objects.all().delete()
    services.ticket_claim(ticket=ticket, technician=technician, now=NOW)
    services.ticket_comment(ticket=ticket, author=technician, body="Checking.", now=NOW)
    assert queued() == [("staff", "email", ["reply"])]


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_notification_once(service, staff):
    for _ in range(12):
        open_ticket(service, staff)
    start = threading.Barrier(2, timeout=30)

    def worker() -> int:
        try:
            start.wait()
            return deliver()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        tried = sum(pool.map(lambda _: worker(), range(2)))
    assert tried == 12
    subjects = sorted(message.subject for message in mail.outbox)
    assert len(subjects) == 12 == len(set(subjects))
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_the_mobile_number_is_read_only_for_a_text_message(service, staff):
    ContactProfile.objects.update_or_create(user=staff, defaults={"mobile": MOBILE})
    with CaptureQueriesContext(connection) as routine:
        open_ticket(service, staff, impact=Level.LOW, urgency=Level.LOW)
    with CaptureQueriesContext(connection) as urgent:
        open_ticket(service, staff, impact=Level.HIGH, urgency=Level.HIGH)
    assert queued(kinds=["opened"]) == [
        ("staff", "email", ["opened"]),
        ("staff", "email", ["opened"]),
        ("staff", "sms", ["opened"]),
    ]

    def profile_reads(captured) -> int:
        return sum('FROM "escalation_contactprofile"' in query["sql"] for query in captured.captured_queries)

    # A routine ticket is told by e-mail only: nobody's mobile number is asked for.
    assert profile_reads(routine) == 0
    assert profile_reads(urgent) >= 1
