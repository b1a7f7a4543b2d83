"""Keeps the request at hand for the audit receivers, records what an admin request changed, and keeps a used login
session alive (idle expiry)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.admin.models import LogEntry
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from security.context import current_request
from security.services import security_admin_changes_record
from security.sessions import session_touch


class SecurityAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = timezone.now()
        token = current_request.set(request)
        try:
            response = self.get_response(request)
        finally:
            current_request.reset(token)
        match = request.resolver_match
        user = getattr(request, "user", None)
        if request.method == "POST" and match is not None and match.namespace == "admin" and user and user.pk:
            # Whatever the admin changed, it logged (bulk actions included): one audit row per entry.
            entries = LogEntry.objects.filter(user_id=user.pk, action_time__gte=started).select_related(
                "user", "content_type"
            )
            security_admin_changes_record(request=request, entries=list(entries))
        return response


class IdleSessionMiddleware:
    """A logged-in user's request renews their session, which SessionMiddleware then saves with a new expiry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session_touch(session=request.session, now=timezone.now())
        return self.get_response(request)
