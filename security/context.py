"""The request being served, for the receivers that record who did something and from where when the signal does
not carry the request (a password saved by a form, an admin action)."""

from __future__ import annotations

from contextvars import ContextVar

from django.http import HttpRequest

current_request: ContextVar[HttpRequest | None] = ContextVar("security_current_request", default=None)
