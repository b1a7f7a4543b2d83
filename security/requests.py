"""Facts about an incoming request that the security features share."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def client_address(request: HttpRequest) -> str | None:
    """Where a request comes from. Behind the TLS proxy (DJANGO_BEHIND_PROXY) that is the last X-Forwarded-For
    entry, the one the proxy appended; the entries before it are the client's to forge."""
    if settings.HELPDESK_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-1].strip()
        if _valid(forwarded):
            return forwarded
    peer = request.META.get("REMOTE_ADDR", "")
    return peer if _valid(peer) else None
