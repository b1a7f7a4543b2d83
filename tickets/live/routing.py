"""The agency pages' WebSocket route, mounted by helpdesk/routing.py."""

from __future__ import annotations

from django.urls import path

from tickets.live.consumers import AgencyTicketsConsumer

websocket_urlpatterns = [
    path("ws/tickets/", AgencyTicketsConsumer.as_asgi()),
]
