"""Talking to the hotline as Twilio does: recorded payloads, requests signed with twilio's own RequestValidator, and
the TwiML answers parsed as XML."""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from twilio.http import HttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator

PUBLIC_URL = "https://helpdesk.example.gov.qa"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"  # noqa: S105 (tests only)
ACCOUNT_SID = "AC00000000000000000000000000000000"
HOTLINE_NUMBER = "+97444990000"
PAYLOADS = Path(__file__).parent / "payloads"
API = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}"
TECH_MOBILE = "+97455876543"


def payload(name: str, **overrides: str) -> dict[str, str]:
    """A recorded Twilio webhook payload, with some parameters changed."""
    values = json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))
    values.update(overrides)
    return values


def sign(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def path_of(url: str) -> str:
    """The path and query of one of our absolute URLs (what the test client requests)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def twilio_post(client, url: str, params: dict[str, str], *, signature: str | None = None, signed_as: str = ""):
    """POST as Twilio would: `url` absolute (ours) or a path; signed for `signed_as` (default: the public URL)."""
    path = path_of(url) if url.startswith("http") else url
    if signature is None:
        signature = sign(signed_as or PUBLIC_URL + path, params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    return client.post(path, params, headers=headers)


@dataclass(frozen=True)
class Said:
    text: str
    voice: str
    language: str


def parse(response: Any) -> ET.Element:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "Response"
    return root


def says(root: ET.Element) -> list[Said]:
    return [
        Said(text=element.text or "", voice=element.get("voice", ""), language=element.get("language", ""))
        for element in root.iter("Say")
    ]


def heard(root: ET.Element) -> str:
    return " ".join(said.text for said in says(root))


def verbs(root: ET.Element) -> list[str]:
    return [child.tag for child in root]


def script(root: ET.Element) -> list[str]:
    """The whole TwiML as a reviewer reads it: one line per verb (a nested one indented), its attributes in order of
    name, then what it says or where it goes."""
    lines: list[str] = []

    def walk(element: ET.Element, depth: int) -> None:
        for child in element:
            head = " ".join([child.tag, *(f"{name}={value}" for name, value in sorted(child.attrib.items()))])
            text = (child.text or "").strip()
            lines.append("  " * depth + head + (f": {text}" if text else ""))
            walk(child, depth + 1)

    walk(root, 0)
    return lines


class Call:
    """One simulated call: each step posts what the caller did to the action URL of the last answer."""

    def __init__(self, client, phone: str, *, call_sid: str = "CA5a2f0b9d6c1e4f3a8b7c6d5e4f3a2b1c") -> None:
        self.client = client
        self.phone = phone
        self.call_sid = call_sid
        self.root: ET.Element | None = None

    def _params(self, name: str, **extra: str) -> dict[str, str]:
        return payload(name, From=self.phone, Caller=self.phone, CallSid=self.call_sid, **extra)

    def start(self) -> ET.Element:
        self.root = parse(twilio_post(self.client, "/hotline/voice/", self._params("voice_incoming")))
        return self.root

    def action(self, tag: str = "Gather") -> str:
        assert self.root is not None
        element = self.root.find(tag)
        assert element is not None, f"no <{tag}> in {ET.tostring(self.root, encoding='unicode')}"
        return element.get("action", "")

    def post(self, url: str, params: dict[str, str]) -> ET.Element:
        self.root = parse(twilio_post(self.client, url, params))
        return self.root

    def press(self, digits: str) -> ET.Element:
        return self.post(self.action(), self._params("gather_digits", Digits=digits))

    def keys(self, *presses: str) -> ET.Element:
        """Press each key (or keyed number) in turn at the prompts that come; the last answer."""
        for digits in presses:
            root = self.press(digits)
        return root

    def speak(self, text: str) -> ET.Element:
        return self.post(self.action(), self._params("gather_speech", SpeechResult=text))

    def silence(self) -> ET.Element:
        """No key: Twilio carries on with the <Redirect> after the <Gather>."""
        assert self.root is not None
        redirect = self.root.find("Redirect")
        assert redirect is not None and redirect.text
        params = self._params("gather_digits")
        del params["Digits"]
        return self.post(redirect.text, params)

    def dial_ended(self, status: str) -> ET.Element:
        return self.post(self.action("Dial"), self._params("dial_action", DialCallStatus=status))

    def voicemail_done(self) -> ET.Element:
        return self.post(self.action("Record"), self._params("gather_digits", Digits="#"))


@dataclass(frozen=True)
class Sent:
    method: str
    url: str
    data: dict
    auth: tuple[str, str] | None


class FakeTwilioHttp(HttpClient):
    """Answers like Twilio's REST API, from a list of (status, body) in order, and records every request."""

    def __init__(self, answers: list[tuple[int, dict]]) -> None:
        super().__init__(logging.getLogger("tests.twilio"), is_async=False)
        self.answers = list(answers)
        self.requests: list[Sent] = []

    def request(self, method, uri, params=None, data=None, headers=None, auth=None, timeout=None,
                allow_redirects=False):
        self.requests.append(Sent(method=method, url=uri, data=dict(data or {}), auth=auth))
        status, body = self.answers.pop(0)
        return Response(status, json.dumps(body))


def message_resource(sid: str = "SM" + "a" * 32) -> dict:
    return {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued", "to": TECH_MOBILE, "from": HOTLINE_NUMBER}


def call_resource(sid: str = "CA" + "b" * 32) -> dict:
    return {"sid": sid, "account_sid": ACCOUNT_SID, "status": "queued", "to": TECH_MOBILE, "from": HOTLINE_NUMBER}
