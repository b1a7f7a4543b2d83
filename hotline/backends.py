"""Phone backends: how an SMS or a voice call leaves the helpdesk, chosen by `HELPDESK_PHONE_BACKEND` (a dotted path,
like Django's `EMAIL_BACKEND`). `console` logs each message (development), `locmem` keeps them in memory (tests),
`twilio` sends through Twilio's REST API (production). The escalation worker delivers its outbox through
`phone_backend()`, and the hotline its courtesy SMS."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache

import requests
from django.conf import settings
from django.utils.module_loading import import_string
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http import HttpClient
from twilio.rest import Client

from hotline.twilio_api import TwilioNotConfigured, public_url, twilio_client

logger = logging.getLogger(__name__)

SMS = "sms"
VOICE = "voice"


@dataclass(frozen=True)
class OutboundMessage:
    """One SMS or call to one phone. `reference` names the ticket (`HD-<number>`); `page_id` is the outbox row, which
    a voice backend uses to build the URL of the call's script (no ticket text leaves in a third-party URL)."""

    channel: str
    to: str
    body: str
    language: str
    reference: str
    page_id: int | None = None


@dataclass(frozen=True)
class SendResult:
    provider_id: str


class PhoneSendError(Exception):
    """A send that failed. `retryable` is False when trying again cannot help (an invalid number, say)."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


def mask_phone(number: str) -> str:
    """A phone number fit for a log line: the country code and the last two digits."""
    digits = number.strip()
    if len(digits) <= 6:
        return "*" * len(digits)
    return f"{digits[:4]}{'*' * (len(digits) - 6)}{digits[-2:]}"


class BasePhoneBackend:
    def send(self, message: OutboundMessage) -> SendResult:
        """Send one message, within a bounded time; raise PhoneSendError when it did not leave."""
        raise NotImplementedError


class ConsoleBackend(BasePhoneBackend):
    """Development: writes each message to the log instead of sending it."""

    def send(self, message: OutboundMessage) -> SendResult:
        logger.warning(
            "%s to %s about %s (%s): %s",
            message.channel.upper(),
            mask_phone(message.to),
            message.reference,
            message.language,
            message.body,
        )
        return SendResult(provider_id=f"console-{message.channel}-{message.page_id or 0}")


class LocmemBackend(BasePhoneBackend):
    """Tests: keeps every sent message in `LocmemBackend.sent`. A test makes the next sends fail by putting
    PhoneSendError instances in `LocmemBackend.failures`; each send takes one off the front and raises it."""

    sent: list[OutboundMessage] = []
    failures: list[PhoneSendError] = []
    _lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendResult:
        with self._lock:
            if self.failures:
                raise self.failures.pop(0)
            self.sent.append(message)
            return SendResult(provider_id=f"locmem-{len(self.sent)}")

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            cls.sent.clear()
            cls.failures.clear()


class TwilioBackend(BasePhoneBackend):
    """Production: an SMS through the Messages API; a voice page through the Calls API, whose script Twilio fetches
    from our own signed webhook (`/hotline/voice/page/<page id>/`: the ticket's text never travels in a URL), with
    answering-machine detection so that a voicemail greeting is not taken for the technician. Delivery states come
    back to `/hotline/status/`. A 5xx or a refused connection is tried once more at once, then reported as retryable
    to the outbox; a 4xx (an invalid number; a number that sent STOP, which Twilio refuses with 21610) is not
    retryable. It reads no database: the outbox calls it from a thread of its own. `http_client` is injected in
    tests (twilio's own HttpClient interface); by default twilio's client with TWILIO_TIMEOUT_SECONDS."""

    attempts = 2
    call_timeout_seconds = 30
    call_events = ("initiated", "ringing", "answered", "completed")

    def __init__(self, *, http_client: HttpClient | None = None) -> None:
        self.http_client = http_client

    def send(self, message: OutboundMessage) -> SendResult:
        if not settings.TWILIO_FROM_NUMBER:
            raise PhoneSendError("TWILIO_FROM_NUMBER is not set", retryable=False)
        if message.channel == VOICE and message.page_id is None:
            raise PhoneSendError("a voice page needs its page id", retryable=False)
        try:
            client = twilio_client(http_client=self.http_client)
        except TwilioNotConfigured as missing:
            raise PhoneSendError(str(missing), retryable=False) from missing
        attempt = 1
        while True:
            try:
                return SendResult(provider_id=self._create(client, message))
            except TwilioRestException as error:
                retryable = error.status >= 500 or error.status == 429
                if not retryable or attempt >= self.attempts:
                    raise PhoneSendError(
                        f"Twilio answered {error.status} (code {error.code}) to the {message.channel} about "
                        f"{message.reference}",
                        retryable=retryable,
                    ) from error
            except requests.ConnectionError as error:
                # Refused or dropped before any answer: nothing was created, so trying again cannot send twice.
                if attempt >= self.attempts:
                    raise PhoneSendError(f"Twilio could not be reached: {error}") from error
            except (requests.RequestException, TwilioException) as error:
                # A read timeout: Twilio may have created it, so the outbox decides when to try again.
                raise PhoneSendError(f"Twilio did not answer in time: {error}") from error
            logger.warning("Twilio failed the %s about %s; trying once more", message.channel, message.reference)
            attempt += 1

    def _create(self, client: Client, message: OutboundMessage) -> str:
        """Create the message or call; its Twilio SID."""
        status_url = public_url("hotline:status")
        if message.channel == SMS:
            sent = client.messages.create(
                to=message.to, from_=settings.TWILIO_FROM_NUMBER, body=message.body, status_callback=status_url
            )
            return str(sent.sid)
        call = client.calls.create(
            to=message.to,
            from_=settings.TWILIO_FROM_NUMBER,
            url=public_url("hotline:page", page_id=message.page_id),
            method="POST",
            machine_detection="Enable",
            timeout=self.call_timeout_seconds,
            status_callback=status_url,
            status_callback_method="POST",
            status_callback_event=list(self.call_events),
        )
        return str(call.sid)


@cache
def _backend_class(path: str) -> type[BasePhoneBackend]:
    return import_string(path)


def phone_backend() -> BasePhoneBackend:
    return _backend_class(settings.HELPDESK_PHONE_BACKEND)()


def send_within(backend: BasePhoneBackend, message: OutboundMessage, *, timeout: float) -> SendResult:
    """Send through the backend, waiting at most `timeout` seconds whatever the backend does. A send still running
    then counts as a retryable failure (should the provider accept it after all, the outbox sends it once more: the
    narrow duplicate the outboxes accept rather than a lost page). Any other error is a retryable PhoneSendError."""
    outcome: list[SendResult | BaseException] = []

    def run() -> None:
        try:
            outcome.append(backend.send(message))
        except BaseException as error:
            outcome.append(error)

    sender = threading.Thread(target=run, name=f"send-{message.reference}", daemon=True)
    sender.start()
    sender.join(timeout)
    answer = outcome[0] if outcome else None
    if answer is None:
        raise PhoneSendError(f"no answer from the phone provider within {timeout:g} s")
    if isinstance(answer, PhoneSendError):
        raise answer
    if isinstance(answer, BaseException):
        logger.error("%s: the phone backend failed", message.reference, exc_info=answer)
        raise PhoneSendError(f"{answer.__class__.__name__}: {answer}") from answer
    return answer
