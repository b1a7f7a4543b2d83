"""What `hotline_call` and `hotline_sms` share: they post to the running helpdesk as Twilio would, each request signed
with TWILIO_AUTH_TOKEN for the URL under HELPDESK_PUBLIC_URL, and read the TwiML answers."""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.management.base import CommandError
from twilio.request_validator import RequestValidator

DEFAULT_HOTLINE_NUMBER = "+97444990000"


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class SignedPoster:
    """Posts to `server` (where the app runs) what Twilio would post to the public URL, signed for that URL."""

    def __init__(self, server: str) -> None:
        if not settings.TWILIO_AUTH_TOKEN:
            raise CommandError(
                "TWILIO_AUTH_TOKEN is not set: the webhooks refuse unsigned requests. Set the same (any) value for "
                "the server and for this command, e.g. export TWILIO_AUTH_TOKEN=local-test-token"
            )
        self.public = settings.HELPDESK_PUBLIC_URL
        self.server = (server or self.public).rstrip("/")
        self.validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
        self.session = requests.Session()

    def public_url(self, path: str) -> str:
        return self.public + path

    def post(self, url: str, params: dict[str, str]) -> ET.Element | None:
        """POST to one of our public URLs; the parsed TwiML, or None for an empty answer (204)."""
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        signature = self.validator.compute_signature(self.public + path, params)
        try:
            response = self.session.post(
                self.server + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=15
            )
        except requests.RequestException as error:
            raise CommandError(f"the helpdesk at {self.server} did not answer: {error}") from error
        if response.status_code == 403:
            raise CommandError(
                "403: the signature was refused. The server and this command need the same TWILIO_AUTH_TOKEN and "
                "HELPDESK_PUBLIC_URL."
            )
        if response.status_code == 204:
            return None
        if response.status_code != 200:
            raise CommandError(f"{path} answered HTTP {response.status_code}")
        return ET.fromstring(response.content)
