"""ASGI middleware of the project, wrapped around the applications in asgi.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import ParseResult

from channels.security.websocket import OriginValidator
from django.conf import settings


def trusted_origins() -> list[str]:
    """The origins pages of this site are served from: its public URL and the CSRF trusted origins. Django writes a
    subdomain wildcard as "https://*.example.gov.qa", Channels as "https://.example.gov.qa"."""
    trusted = [origin.replace("://*.", "://.") for origin in settings.CSRF_TRUSTED_ORIGINS]
    return [settings.HELPDESK_PUBLIC_URL, *trusted]


class PublicOriginValidator(OriginValidator):
    """Opens a socket only for a page of this site: the Origin's scheme, host and port must all match a trusted
    origin (Channels' AllowedHostsOriginValidator compares the host alone, so any port or scheme of it passed)."""

    def __init__(self, application: Any) -> None:
        super().__init__(application, [])

    def validate_origin(self, parsed_origin: ParseResult | None) -> bool:
        return any(self.match_allowed_origin(parsed_origin, pattern) for pattern in trusted_origins())
