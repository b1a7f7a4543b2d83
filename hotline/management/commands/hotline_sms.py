"""`python manage.py hotline_sms --from +97455123456 "STATUS 104233"`

Sends an SMS to the hotline's SMS webhook of the running helpdesk, signed as Twilio signs it, and prints the reply."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hotline.management.commands._twilio_client import DEFAULT_HOTLINE_NUMBER, SignedPoster, new_sid


class Command(BaseCommand):
    help = "Send an SMS to the hotline of the running helpdesk, signed as Twilio would, and print the reply."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="phone", required=True, help="the sender's number, e.g. +97455123456")
        parser.add_argument("body", help='the text, e.g. "STATUS 104233"')
        parser.add_argument("--server", default="", help="where the helpdesk runs (default: HELPDESK_PUBLIC_URL)")

    def handle(self, *args, **options) -> None:
        poster = SignedPoster(options["server"])
        sid = new_sid("SM")
        hotline = settings.TWILIO_FROM_NUMBER or DEFAULT_HOTLINE_NUMBER
        params = {
            "MessageSid": sid, "SmsMessageSid": sid, "SmsSid": sid, "AccountSid": settings.TWILIO_ACCOUNT_SID,
            "From": options["phone"], "To": hotline, "Body": options["body"], "NumMedia": "0", "NumSegments": "1",
            "SmsStatus": "received", "ApiVersion": "2010-04-01",
        }
        self.stdout.write(f"SMS from {options['phone']} to {hotline}: {options['body']}")
        root = poster.post(poster.public_url("/hotline/sms/"), params)
        replies = [message.text or "" for message in root.iter("Message")] if root is not None else []
        if not replies:
            self.stdout.write("(no reply)")
        for reply in replies:
            self.stdout.write(f"Reply: {reply}")
