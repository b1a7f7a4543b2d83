"""Django middleware of the tickets app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from tickets.selectors import roles_per_request


def request_roles(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable[[HttpRequest], HttpResponseBase]:
    """Whether the user is a technician, and their agency, are asked of the database once per request, however many
    views, decorators, services and templates ask."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        with roles_per_request():
            return get_response(request)

    return middleware
