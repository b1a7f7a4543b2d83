"""The project's URLs plus one view that fails, to see the server error page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from helpdesk.urls import urlpatterns as project_urlpatterns


def broken(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug")


urlpatterns = [path("broken/", broken), *project_urlpatterns]
