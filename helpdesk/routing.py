"""WebSocket URL routes, mounted by asgi.py behind the origin check and the session auth."""

from __future__ import annotations

websocket_urlpatterns: list = []
