"""Per-number limits on the hotline (new calls, SMS, wrong PINs per agency code), counted by security.ratelimit so
that every process shares them when REDIS_URL is set."""

from __future__ import annotations

from django.conf import settings

from security.ratelimit import rate_count


def rate_allowed(*, kind: str, key: str, now: float | None = None) -> bool:
    """Count one more `kind` ("call", "sms", "pin") for `key` and say whether it is within the limit."""
    limit, window = settings.HELPDESK_HOTLINE_RATE_LIMITS[kind]
    return rate_count(kind=f"hotline-{kind}", key=key, window=window, now=now) <= limit
