"""The page outbox on the real database: a page leaves once, after its transaction commits, through the phone backend;
failures retry with backoff, and every attempt shows on the ticket for technicians."""

from __future__ import annotations

import datetime as dt
import itertools
import threading

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction

from escalation.models import ContactProfile, Page
from escalation.outbox import outbox_deliver_due, outbox_next_attempt_at, page_enqueue, page_text
from hotline.backends import LocmemBackend, OutboundMessage, PhoneSendError, SendResult
from tickets.models import Level, TicketEvent

NOW = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
MOBILE = "+97455123456"


@pytest.fixture(autouse=True)
def _outbox_settings(settings):
    settings.HELPDESK_PAGE_MAX_ATTEMPTS = 4
    settings.HELPDESK_PAGE_RETRY_SECONDS = 10
    settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS = 5


@pytest.fixture
def p1(make_ticket):
    return make_ticket(subject="Core router down", impact=Level.HIGH, urgency=Level.HIGH)


def enqueue_sms(ticket, recipient, *, now=NOW, language="en", to=MOBILE):
    return page_enqueue(
        ticket_id=ticket.pk,
        recipient=recipient,
        channel=Page.Channel.SMS,
        body=page_text(ticket=ticket, channel=Page.Channel.SMS, language=language),
        language=language,
        step="step 1 of 3",
        now=now,
        to=to,
    )


def attempts_on(ticket) -> list[dict]:
    return [
        event.after
        for event in TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.PAGE_ATTEMPT).order_by("id")
    ]


@pytest.mark.django_db
def test_page_text_names_the_ticket_and_how_to_acknowledge_in_the_recipients_language(p1):
    english = page_text(ticket=p1, channel=Page.Channel.SMS, language="en")
    assert english == (
        f"HD-{p1.number} P1 critical, Government Network: Core router down\nReply ACK {p1.number} to acknowledge."
    )
    arabic = page_text(ticket=p1, channel=Page.Channel.SMS, language="ar")
    assert f"HD-{p1.number}" in arabic
    assert "P1 حرجة" in arabic
    assert "الشبكة الحكومية" in arabic
    assert "Core router down" in arabic
    assert f"ACK {p1.number}" in arabic
    assert "للإقرار" in arabic
    call = page_text(ticket=p1, channel=Page.Channel.VOICE, language="en")
    assert call == f"HD-{p1.number} P1 critical, Government Network: Core router down"


@pytest.mark.django_db
def test_an_sms_page_leaves_once_through_the_backend_and_shows_on_the_ticket_for_technicians(p1, technician):
    page = enqueue_sms(p1, technician)
    assert page.state == Page.State.PENDING
    assert LocmemBackend.sent == []

    assert outbox_deliver_due(now=NOW) == 1

    assert LocmemBackend.sent == [
        OutboundMessage(
            channel="sms", to=MOBILE, body=page.body, language="en", reference=f"HD-{p1.number}", page_id=page.pk
        )
    ]
    page.refresh_from_db()
    assert (page.state, page.attempts, page.provider_id, page.next_attempt_at) == ("sent", 1, "locmem-1", None)
    assert page.sent_at is not None and page.sent_at - NOW < dt.timedelta(seconds=1)
    (event,) = TicketEvent.objects.filter(ticket=p1, kind=TicketEvent.Kind.PAGE_ATTEMPT)
    assert event.public is False
    assert event.actor is None
    assert event.after["outcome"] == "sent"
    assert event.after["attempt"] == 1
    assert event.after["recipient"]["id"] == technician.pk
    assert event.after["to"] == "+974******56"
    assert event.after["step"] == "step 1 of 3"  # which page of the chain this attempt was
    p1.refresh_from_db()
    assert p1.last_event_id == event.pk


@pytest.mark.django_db
def test_a_backend_that_fails_twice_then_succeeds_sends_once_with_growing_delays(p1, technician):
    LocmemBackend.failures.extend([PhoneSendError("provider busy"), PhoneSendError("provider busy")])
    page = enqueue_sms(p1, technician)

    assert outbox_deliver_due(now=NOW) == 1
    page.refresh_from_db()
    first_retry = page.next_attempt_at
    assert NOW + dt.timedelta(seconds=10) <= first_retry < NOW + dt.timedelta(seconds=11)
    assert (page.state, page.attempts, page.last_error) == ("pending", 1, "provider busy")
    assert outbox_deliver_due(now=first_retry - dt.timedelta(seconds=1)) == 0

    assert outbox_deliver_due(now=first_retry) == 1
    page.refresh_from_db()
    second_retry = page.next_attempt_at
    assert first_retry + dt.timedelta(seconds=20) <= second_retry < first_retry + dt.timedelta(seconds=21)
    assert outbox_next_attempt_at() == second_retry

    assert outbox_deliver_due(now=second_retry) == 1
    assert [message.page_id for message in LocmemBackend.sent] == [page.pk]
    page.refresh_from_db()
    assert (page.state, page.attempts, page.last_error) == ("sent", 3, "")
    assert [(a["attempt"], a["outcome"]) for a in attempts_on(p1)] == [(1, "retry"), (2, "retry"), (3, "sent")]
    assert attempts_on(p1)[0]["error"] == "provider busy"


@pytest.mark.django_db
def test_a_rolled_back_step_sends_nothing(p1, technician):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_sms(p1, technician)
        raise RuntimeError("the escalation step failed")

    assert outbox_deliver_due(now=NOW + dt.timedelta(hours=1)) == 0
    assert LocmemBackend.sent == []
    assert not Page.objects.exists()


@pytest.mark.django_db
def test_a_sent_page_is_never_sent_again(p1, technician):
    enqueue_sms(p1, technician)
    assert outbox_deliver_due(now=NOW) == 1
    for later in (NOW, NOW + dt.timedelta(minutes=5), NOW + dt.timedelta(days=2)):
        assert outbox_deliver_due(now=later) == 0
    assert len(LocmemBackend.sent) == 1
    assert outbox_next_attempt_at() is None


@pytest.mark.django_db
def test_a_non_retryable_error_fails_the_page_at_once(p1, technician):
    LocmemBackend.failures.append(PhoneSendError("not a mobile number", retryable=False))
    page = enqueue_sms(p1, technician)

    assert outbox_deliver_due(now=NOW) == 1
    assert outbox_deliver_due(now=NOW + dt.timedelta(days=1)) == 0

    page.refresh_from_db()
    assert (page.state, page.attempts, page.next_attempt_at, page.last_error) == (
        "failed",
        1,
        None,
        "not a mobile number",
    )
    assert LocmemBackend.sent == []
    assert [(a["outcome"], a["error"]) for a in attempts_on(p1)] == [("failed", "not a mobile number")]


@pytest.mark.django_db
def test_a_page_fails_after_the_last_allowed_attempt(p1, technician, settings):
    settings.HELPDESK_PAGE_MAX_ATTEMPTS = 2
    LocmemBackend.failures.extend([PhoneSendError("busy")] * 3)
    page = enqueue_sms(p1, technician)

    assert outbox_deliver_due(now=NOW) == 1
    assert outbox_deliver_due(now=NOW + dt.timedelta(minutes=1)) == 1
    assert outbox_deliver_due(now=NOW + dt.timedelta(days=1)) == 0

    page.refresh_from_db()
    assert (page.state, page.attempts) == ("failed", 2)
    assert [a["outcome"] for a in attempts_on(p1)] == ["retry", "failed"]
    assert len(LocmemBackend.failures) == 1


@pytest.mark.django_db
def test_a_recipient_without_a_mobile_number_fails_without_calling_the_backend(p1, technician):
    LocmemBackend.failures.append(PhoneSendError("the backend must not be called"))
    page = enqueue_sms(p1, technician, to="")

    assert outbox_deliver_due(now=NOW) == 1

    page.refresh_from_db()
    assert page.state == "failed"
    assert len(LocmemBackend.failures) == 1
    assert attempts_on(p1)[0]["error"] == "the recipient has no mobile number"


@pytest.mark.django_db
def test_a_page_goes_to_the_mobile_number_of_the_recipients_contact_profile(p1, technician, other_technician):
    ContactProfile.objects.create(user=technician, mobile="+97455000111", language="ar")
    profiled = page_enqueue(
        ticket_id=p1.pk, recipient=technician, channel="voice", body="x", language="ar", step="", now=NOW
    )
    unreachable = page_enqueue(
        ticket_id=p1.pk, recipient=other_technician, channel="sms", body="x", language="en", step="", now=NOW
    )
    assert (profiled.to, unreachable.to) == ("+97455000111", "")

    assert outbox_deliver_due(now=NOW) == 2
    assert [(message.channel, message.to) for message in LocmemBackend.sent] == [("voice", "+97455000111")]
    unreachable.refresh_from_db()
    assert (unreachable.state, unreachable.last_error) == ("failed", "the recipient has no mobile number")


@pytest.mark.django_db
def test_a_console_page_is_sent_at_once_and_never_goes_to_the_phone(p1, technician):
    page = page_enqueue(
        ticket_id=p1.pk,
        recipient=technician,
        channel=Page.Channel.CONSOLE,
        body=page_text(ticket=p1, channel=Page.Channel.CONSOLE, language="en"),
        language="en",
        step="step 1 of 3",
        now=NOW,
    )
    assert (page.state, page.sent_at, page.to, page.next_attempt_at) == ("sent", NOW, "", None)
    assert outbox_deliver_due(now=NOW + dt.timedelta(hours=1)) == 0
    assert LocmemBackend.sent == []
    assert attempts_on(p1) == []


@pytest.mark.django_db
def test_an_unknown_channel_is_refused(p1, technician):
    with pytest.raises(ValueError, match="unknown page channel 'fax'"):
        page_enqueue(ticket_id=p1.pk, recipient=technician, channel="fax", body="x", language="en", step="", now=NOW)


@pytest.mark.django_db
def test_pages_leave_in_due_order_and_a_pass_takes_at_most_its_limit(p1, technician):
    late = enqueue_sms(p1, technician, now=NOW + dt.timedelta(seconds=30))
    early = enqueue_sms(p1, technician, now=NOW)
    middle = enqueue_sms(p1, technician, now=NOW + dt.timedelta(seconds=10))

    assert outbox_deliver_due(now=NOW + dt.timedelta(minutes=1), limit=2) == 2
    assert outbox_deliver_due(now=NOW + dt.timedelta(minutes=1), limit=2) == 1
    assert [message.page_id for message in LocmemBackend.sent] == [early.pk, middle.pk, late.pk]


class HangingBackend(LocmemBackend):
    """A provider that never answers until the test lets it go."""

    release = threading.Event()

    def send(self, message: OutboundMessage) -> SendResult:
        self.release.wait(10)
        return super().send(message)


class BrokenBackend(LocmemBackend):
    def send(self, message: OutboundMessage) -> SendResult:
        raise ConnectionResetError("peer reset")


@pytest.mark.django_db
def test_a_hung_provider_costs_one_bounded_attempt_and_the_page_is_retried(p1, technician, settings):
    settings.HELPDESK_PHONE_BACKEND = "tests.escalation.test_outbox.HangingBackend"
    settings.HELPDESK_PAGE_SEND_TIMEOUT_SECONDS = 0.05
    HangingBackend.release.clear()  # set by an earlier run in the same process
    page = enqueue_sms(p1, technician)
    HangingBackend.release.clear()
    try:
        assert outbox_deliver_due(now=NOW) == 1
    finally:
        HangingBackend.release.set()
    page.refresh_from_db()
    assert page.state == "pending"
    assert page.last_error == "no answer from the phone provider within 0.05 s"
    assert attempts_on(p1)[0]["outcome"] == "retry"


@pytest.mark.django_db
def test_an_unexpected_backend_error_is_retried(p1, technician, settings):
    settings.HELPDESK_PHONE_BACKEND = "tests.escalation.test_outbox.BrokenBackend"
    page = enqueue_sms(p1, technician)
    assert outbox_deliver_due(now=NOW) == 1
    page.refresh_from_db()
    assert (page.state, page.last_error) == ("pending", "ConnectionResetError: peer reset")


@pytest.mark.django_db
def test_a_page_taken_by_a_worker_that_died_mid_send_is_sent_after_its_send_deadline(p1, technician, monkeypatch):
    """The crash window the outbox documents: the worker took the page, then died before writing the outcome."""
    from escalation import outbox

    def killed(backend, page):
        raise SystemExit("killed")

    page = enqueue_sms(p1, technician)
    monkeypatch.setattr(outbox, "_send", killed)
    with pytest.raises(SystemExit):
        outbox_deliver_due(now=NOW)
    monkeypatch.undo()
    page.refresh_from_db()
    assert (page.state, page.attempts) == ("pending", 1)

    assert outbox_deliver_due(now=NOW + dt.timedelta(seconds=30)) == 0
    assert outbox_deliver_due(now=page.next_attempt_at) == 1
    page.refresh_from_db()
    assert (page.state, page.attempts) == ("sent", 2)
    assert len(LocmemBackend.sent) == 1


@pytest.mark.django_db
def test_a_page_taken_late_in_a_pass_gets_its_whole_send_time_before_another_worker_may_take_it(
    p1, technician, monkeypatch
):
    """The deadline counts from when the page is taken: a page whose turn comes after a slow send in the same pass
    is not taken over by another worker while it is still being sent."""
    from escalation import outbox

    first = enqueue_sms(p1, technician)
    second = enqueue_sms(p1, technician, now=NOW + dt.timedelta(seconds=1))
    # The first page's send takes 3.5 s.
    monkeypatch.setattr(outbox.time, "monotonic", lambda: 103.5 if LocmemBackend.sent else 100.0)
    real_send = outbox._send

    def killed_on_the_second(backend, page):
        if page.pk == second.pk:
            raise SystemExit("killed")
        return real_send(backend, page)

    monkeypatch.setattr(outbox, "_send", killed_on_the_second)
    with pytest.raises(SystemExit):
        outbox_deliver_due(now=NOW + dt.timedelta(seconds=1))
    monkeypatch.undo()
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, second.state, second.attempts) == ("sent", "pending", 1)
    # Taken 3.5 s into the pass: 5 s to send, 60 s to write the outcome.
    assert second.next_attempt_at == NOW + dt.timedelta(seconds=1 + 3.5 + 5 + 60)


@pytest.mark.django_db
def test_a_pass_tries_at_most_fifty_pages_unless_told(p1, technician):
    for second in range(51):
        enqueue_sms(p1, technician, now=NOW + dt.timedelta(seconds=second))
    assert outbox_deliver_due(now=NOW + dt.timedelta(minutes=1)) == 50
    assert Page.objects.filter(state="pending").count() == 1


@pytest.mark.django_db
def test_a_page_to_nobody_has_no_number_and_fails_without_calling_the_backend(p1):
    page = page_enqueue(ticket_id=p1.pk, recipient=None, channel="sms", body="x", language="en", step="", now=NOW)
    assert page.to == ""
    assert outbox_deliver_due(now=NOW) == 1
    page.refresh_from_db()
    assert (page.state, page.last_error) == ("failed", "the recipient has no mobile number")
    assert LocmemBackend.sent == []


class RendezvousBackend(LocmemBackend):
    """The first two sends wait for each other (for less than a send's deadline). A pass has one send in flight at a
    time, so the test goes on only if both passes are sending at once."""

    barrier = threading.Barrier(2)
    arrivals = itertools.count()

    def send(self, message: OutboundMessage) -> SendResult:
        if next(self.arrivals) < 2:
            self.barrier.wait(2)
        return super().send(message)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_delivery_passes_send_each_page_once(p1, technician, settings):
    settings.HELPDESK_PHONE_BACKEND = "tests.escalation.test_outbox.RendezvousBackend"
    pages = [enqueue_sms(p1, technician, now=NOW + dt.timedelta(seconds=i)) for i in range(20)]
    errors: list[BaseException] = []

    def deliver() -> None:
        try:
            outbox_deliver_due(now=NOW + dt.timedelta(minutes=1))
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=deliver, name=f"worker-{n}") for n in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)

    assert errors == []
    sent_ids = [message.page_id for message in LocmemBackend.sent]
    assert sorted(sent_ids) == sorted(page.pk for page in pages)
    assert set(Page.objects.values_list("state", flat=True)) == {"sent"}
    assert len(attempts_on(p1)) == 20


@pytest.mark.django_db
def test_each_attempt_shows_on_the_ticket_for_technicians_only_in_their_language(p1, technician, staff, client):
    technician.first_name, technician.last_name = "Aisha", "Al-Kuwari"
    technician.save()
    LocmemBackend.failures.append(PhoneSendError("provider busy"))
    enqueue_sms(p1, technician)
    outbox_deliver_due(now=NOW)
    outbox_deliver_due(now=NOW + dt.timedelta(minutes=1))

    client.force_login(technician)
    panel = client.get(f"/console/tickets/{p1.number}/", headers={"accept-language": "en"}).json()
    sentences = [item["sentence"] for item in panel["timeline"]]
    assert sentences[-2:] == [
        "Page by SMS to Aisha Al-Kuwari failed (attempt 1), will retry: provider busy",
        "Page by SMS to Aisha Al-Kuwari sent (attempt 2).",
    ]
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "ar"
    arabic = client.get(f"/console/tickets/{p1.number}/").json()
    assert arabic["timeline"][-1]["sentence"] == "أُرسل النداء عبر الرسائل النصية إلى Aisha Al-Kuwari (المحاولة 2)."

    del client.cookies[django_settings.LANGUAGE_COOKIE_NAME]
    client.force_login(staff)
    agency_page = client.get(f"/tickets/{p1.number}/", headers={"accept-language": "en"}).content.decode()
    assert "Page by SMS" not in agency_page
    assert "provider busy" not in agency_page
