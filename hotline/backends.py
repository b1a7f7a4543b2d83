"""Phone backends: how an SMS or a voice call leaves the helpdesk, chosen by `HELPDESK_PHONE_BACKEND` (a dotted path,
like Django's `EMAIL_BACKEND`). `console` logs each message (development), `locmem` keeps them in memory (tests);
the real one talks to Twilio. The escalation worker delivers its outbox through `phone_backend()`; nothing else
sends."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

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


@cache
def _backend_class(path: str) -> type[BasePhoneBackend]:
    return import_string(path)


def phone_backend() -> BasePhoneBackend:
    return _backend_class(settings.HELPDESK_PHONE_BACKEND)()
