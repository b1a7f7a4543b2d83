"""WebSocket URL routes, mounted by asgi.py behind the origin check and the session auth."""

from __future__ import annotations

from tickets.console.routing import websocket_urlpatterns as console_websocket_urlpatterns
from tickets.live.routing import websocket_urlpatterns as live_websocket_urlpatterns

websocket_urlpatterns: list = [*console_websocket_urlpatterns, *live_websocket_urlpatterns]
