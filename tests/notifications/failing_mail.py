"""A mail backend whose server never accepts a message."""

from __future__ import annotations

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("connection refused")
