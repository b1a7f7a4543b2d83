"""The live console's WebSocket route, mounted by helpdesk/routing.py."""

from __future__ import annotations

from django.urls import path

from tickets.console.consumers import ConsoleConsumer

websocket_urlpatterns = [
    path("ws/console/", ConsoleConsumer.as_asgi()),
]
