"""The Twilio account as the hotline uses it: the REST client (SMS, calls), the recordings, and the URLs Twilio
calls back. Credentials come from the environment: an API key pair when one is set, else the account SID and auth
token. Nothing here runs in tests without an injected HTTP client."""

from __future__ import annotations

import re

import requests
from django.conf import settings
from django.urls import reverse
from twilio.http import HttpClient
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
RECORDING_MAX_BYTES = 20 * 1024 * 1024
API_BASE = "https://api.twilio.com"


class TwilioNotConfigured(Exception):
    pass


def _credentials() -> tuple[str, str]:
    """(username, password) for the REST API."""
    if not settings.TWILIO_ACCOUNT_SID:
        raise TwilioNotConfigured("TWILIO_ACCOUNT_SID is not set")
    if settings.TWILIO_API_KEY_SID and settings.TWILIO_API_KEY_SECRET:
        return settings.TWILIO_API_KEY_SID, settings.TWILIO_API_KEY_SECRET
    if not settings.TWILIO_AUTH_TOKEN:
        raise TwilioNotConfigured("set TWILIO_AUTH_TOKEN or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET")
    return settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN


def twilio_client(*, http_client: HttpClient | None = None) -> Client:
    username, password = _credentials()
    return Client(
        username=username,
        password=password,
        account_sid=settings.TWILIO_ACCOUNT_SID,
        http_client=http_client or TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS),
    )


def public_url(name: str, **kwargs: object) -> str:
    """The absolute URL Twilio calls (and signs) for one of our views."""
    return settings.HELPDESK_PUBLIC_URL + reverse(name, kwargs=kwargs or None)


# Replaced in tests by a session with a fake adapter; nothing else reads recordings.
_session = requests.Session()


def recording_download(*, recording_sid: str) -> bytes:
    """The MP3 of one of the account's recordings, fetched with the account's credentials (recordings are never
    linked publicly). Raises requests.RequestException or ValueError when it cannot be had."""
    if not RECORDING_SID.match(recording_sid):
        raise ValueError("not a recording SID")
    url = f"{API_BASE}/2010-04-01/Accounts/{settings.TWILIO_ACCOUNT_SID}/Recordings/{recording_sid}.mp3"
    with _session.get(
        url, auth=_credentials(), timeout=settings.TWILIO_TIMEOUT_SECONDS, stream=True, allow_redirects=True
    ) as response:
        response.raise_for_status()
        chunks = []
        size = 0
        for chunk in response.iter_content(chunk_size=64 * 1024):
            size += len(chunk)
            if size > RECORDING_MAX_BYTES:
                raise ValueError("the recording is larger than the attachment limit")
            chunks.append(chunk)
    return b"".join(chunks)
