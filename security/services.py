"""Writing the security audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

from security.models import SecurityEvent
from security.requests import client_address


def security_event_record(
    *,
    kind: str,
    request: HttpRequest | None,
    actor: User | AnonymousUser | None = None,
    username: str = "",
    details: dict[str, Any] | None = None,
) -> SecurityEvent:
    """Record one security event; the address and browser come from the request (none outside a request, as for a
    management command)."""
    return SecurityEvent.objects.create(
        kind=kind,
        actor=actor if isinstance(actor, User) else None,
        username=username[:150],
        address=client_address(request) if request is not None else None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:255] if request is not None else "",
        details=details or {},
    )


def security_admin_changes_record(*, request: HttpRequest, entries: list[LogEntry]) -> None:
    """Record the changes the admin logged while serving `request`, with where they came from."""
    for entry in entries:
        security_event_record(
            kind=SecurityEvent.Kind.ADMIN_CHANGE,
            request=request,
            actor=entry.user,
            username=entry.user.get_username(),
            details={
                "action": {ADDITION: "added", CHANGE: "changed", DELETION: "deleted"}.get(
                    entry.action_flag, str(entry.action_flag)
                ),
                "object_type": f"{entry.content_type.app_label}.{entry.content_type.model}"
                if entry.content_type
                else "",
                "object_id": entry.object_id,
                "object": entry.object_repr,
                "change": entry.get_change_message(),
            },
        )
