"""`python manage.py hotline_call --from +97455123456 --press 2,1,2,1 --say "The network is down"`

Walks the hotline's IVR against the running helpdesk as a phone call would: each request is signed as Twilio signs
it, and the command prints what the caller hears and what they do. Keys are taken from --press in order (one entry
per prompt; an empty entry is silence), speech from --say. With --page N it answers the voice page N instead, as the
on-call technician (--machine: as their voicemail)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import deque

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hotline.management.commands._twilio_client import DEFAULT_HOTLINE_NUMBER, SignedPoster, new_sid

MAX_STEPS = 60


class Command(BaseCommand):
    help = "Walk the hotline IVR against the running helpdesk, signing each request as Twilio would."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="phone", required=True, help="the caller's number, e.g. +97455123456")
        parser.add_argument("--press", default="", help="keys for the prompts in order, e.g. 2,1,2,1 (empty = silence)")
        parser.add_argument("--say", action="append", default=[], help="what the caller says when asked to speak")
        parser.add_argument("--dial", default="no-answer", choices=["no-answer", "busy", "completed"],
                            help="how a <Dial> to the on-call engineer ends (default: no-answer)")
        parser.add_argument("--page", type=int, help="answer the voice page with this id, as the technician")
        parser.add_argument("--machine", action="store_true", help="with --page: an answering machine answers")
        parser.add_argument("--server", default="", help="where the helpdesk runs (default: HELPDESK_PUBLIC_URL)")

    def handle(self, *args, **options) -> None:
        poster = SignedPoster(options["server"])
        hotline = settings.TWILIO_FROM_NUMBER or DEFAULT_HOTLINE_NUMBER
        self.presses = deque(options["press"].split(",")) if options["press"] else deque()
        self.speech = deque(options["say"])
        self.dial_status = options["dial"]
        call_sid = new_sid("CA")
        if options["page"]:
            base = {"CallSid": call_sid, "AccountSid": settings.TWILIO_ACCOUNT_SID, "From": hotline,
                    "To": options["phone"], "Direction": "outbound-api", "CallStatus": "in-progress",
                    "AnsweredBy": "machine_start" if options["machine"] else "human"}
            url = poster.public_url(f"/hotline/voice/page/{options['page']}/")
            answerer = "an answering machine" if options["machine"] else "the technician"
            self.stdout.write(f"Page {options['page']} rings {options['phone']} from {hotline}; {answerer} answers")
        else:
            base = {"CallSid": call_sid, "AccountSid": settings.TWILIO_ACCOUNT_SID, "From": options["phone"],
                    "Caller": options["phone"], "To": hotline, "Called": hotline, "Direction": "inbound",
                    "CallStatus": "ringing"}
            url = poster.public_url("/hotline/voice/")
            self.stdout.write(f"Calling {hotline} from {options['phone']} (CallSid {call_sid})")
        extra: dict[str, str] = {}
        for _step in range(MAX_STEPS):
            root = poster.post(url, {**base, **extra})
            base["CallStatus"] = "in-progress"
            if root is None:
                self.stdout.write("  (no answer: the call ends)")
                return
            following = self._play(root)
            if following is None:
                return
            url, extra = following
        self.stdout.write(f"  (stopped after {MAX_STEPS} steps)")

    def _say(self, element: ET.Element) -> None:
        self.stdout.write(f"  [{element.get('voice', '')} {element.get('language', '')}] {element.text or ''}")

    def _play(self, root: ET.Element) -> tuple[str, dict[str, str]] | None:
        """Print one TwiML answer; the next request the call makes, or None when it ends."""
        for verb in root:
            if verb.tag == "Say":
                self._say(verb)
            elif verb.tag == "Start":
                self.stdout.write("  (the call's recording starts)")
            elif verb.tag == "Stop":
                self.stdout.write("  (the call's recording stops)")
            elif verb.tag == "Gather":
                for say in verb.iter("Say"):
                    self._say(say)
                if verb.get("input") == "speech":
                    if self.speech:
                        said = self.speech.popleft()
                        self.stdout.write(f'  > the caller says: "{said}"')
                        return verb.get("action", ""), {"SpeechResult": said, "Confidence": "0.91"}
                    self.stdout.write("  > (the caller says nothing)")
                    continue
                key = self.presses.popleft() if self.presses else ""
                if key:
                    self.stdout.write(f"  > the caller presses {key}")
                    return verb.get("action", ""), {"Digits": key}
                self.stdout.write("  > (no key)")
            elif verb.tag == "Redirect":
                return verb.text or "", {}
            elif verb.tag == "Dial":
                number = verb.findtext("Number", "")
                self.stdout.write(f"  (dialling {number} for up to {verb.get('timeout')} s: {self.dial_status})")
                return verb.get("action", ""), {"DialCallStatus": self.dial_status, "DialCallSid": new_sid("CA")}
            elif verb.tag == "Record":
                self.stdout.write("  (beep: the caller leaves a voicemail and presses #; Twilio reports the recording"
                                  " to /hotline/recording/ after the call)")
                return verb.get("action", ""), {"Digits": "#", "RecordingDuration": "6",
                                                 "RecordingSid": new_sid("RE")}
            elif verb.tag == "Hangup":
                self.stdout.write("  (the call ends)")
                return None
        self.stdout.write("  (no more instructions: the call ends)")
        return None
