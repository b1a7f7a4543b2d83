"""Fixtures of the hotline tests: Twilio's settings, an agency with a staff member whose number is on file, the
service catalogue, and a clean rate limiter."""

from __future__ import annotations

import io

import pytest
import requests
from requests.adapters import BaseAdapter

from escalation.models import ContactProfile
from hotline import twilio_api
from hotline.backends import TwilioBackend
from security.ratelimit import rate_reset
from tests.factories import AgencyFactory, ServiceFactory, technician_of
from tests.hotline.twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    HOTLINE_NUMBER,
    PUBLIC_URL,
    FakeTwilioHttp,
    call_resource,
    message_resource,
)
from tickets.models import AgencyMembership

STAFF_PHONE = "+97455123456"
OTHER_STAFF_PHONE = "+97455000111"
ALICE_MOBILE = "+97455000001"


@pytest.fixture(autouse=True)
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_KEY_SID = ""
    settings.TWILIO_API_KEY_SECRET = ""
    settings.TWILIO_FROM_NUMBER = HOTLINE_NUMBER
    settings.HELPDESK_PUBLIC_URL = PUBLIC_URL
    rate_reset()
    yield settings
    rate_reset()


class NoNetwork(BaseAdapter):
    def send(self, request, **kwargs):
        raise requests.ConnectionError(f"tests do not reach {request.url}")

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def no_twilio_network(monkeypatch):
    """Nothing reaches Twilio: a test that fetches a recording mounts its own fake adapter."""
    session = requests.Session()
    session.mount("https://", NoNetwork())
    session.mount("http://", NoNetwork())
    monkeypatch.setattr(twilio_api, "_session", session)


AUDIO = b"ID3\x03\x00\x00\x00fake mp3 audio of the caller"


class FakeTwilioMedia(BaseAdapter):
    """Answers a recording's media URL like api.twilio.com, and remembers every request."""

    def __init__(self, status: int = 200) -> None:
        super().__init__()
        self.status = status
        self.requests: list[requests.PreparedRequest] = []

    def send(self, request, **kwargs):
        self.requests.append(request)
        response = requests.Response()
        response.status_code = self.status
        response.raw = io.BytesIO(AUDIO if self.status == 200 else b"{}")
        response.headers["Content-Type"] = "audio/mpeg"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def media(monkeypatch):
    """Twilio's media host, serving every recording's audio."""
    adapter = FakeTwilioMedia()
    session = requests.Session()
    session.mount("https://", adapter)
    monkeypatch.setattr(twilio_api, "_session", session)
    return adapter


@pytest.fixture
def caller(staff):
    """The agency staff member calling, with their mobile on file."""
    AgencyMembership.objects.filter(user=staff).update(phone=STAFF_PHONE)
    staff.first_name, staff.last_name = "Aisha", "Al-Mohannadi"
    staff.save()
    return staff


@pytest.fixture
def other_caller(other_staff):
    AgencyMembership.objects.filter(user=other_staff).update(phone=OTHER_STAFF_PHONE)
    return other_staff


@pytest.fixture
def catalogue(service, team):
    """Three services, numbered on the hotline in the order of their English names."""
    cloud = ServiceFactory(code="gov-cloud", name_en="Government Cloud", name_ar="السحابة الحكومية", team=team)
    office = ServiceFactory(code="office-365", name_en="Office 365", name_ar="أوفيس 365", team=team)
    return [cloud, service, office]


@pytest.fixture
def pin_agency(db):
    agency = AgencyFactory(code="mm", name_en="Ministry of Municipality", name_ar="وزارة البلدية")
    agency.hotline_code = "4321"
    agency.set_hotline_pin("2468")
    agency.save()
    return agency


class InjectedTwilio(TwilioBackend):
    """The Twilio backend as the outbox builds it (no arguments), talking to the fake API of the running test."""

    http: FakeTwilioHttp

    def __init__(self) -> None:
        super().__init__(http_client=self.http)


@pytest.fixture
def fake_twilio(settings):
    """Pages leave through the Twilio backend, whose HTTP client is a fake of Twilio's REST API."""
    InjectedTwilio.http = FakeTwilioHttp([(201, message_resource()), (201, call_resource())] * 3)
    settings.HELPDESK_PHONE_BACKEND = "tests.hotline.conftest.InjectedTwilio"
    return InjectedTwilio.http


@pytest.fixture
def alice(team):
    """An on-call technician of the team, paged in Arabic on her mobile."""
    alice = technician_of(team, username="alice", first_name="Alice", last_name="Al-Marri")
    ContactProfile.objects.create(user=alice, mobile=ALICE_MOBILE, language="ar", page_by_sms=True, page_by_voice=True)
    return alice
