"""The one place that writes to the channel layer. It sends what its callers built and knows nothing of the apps.
Callers publish after commit; a publish is best effort and bounded in time, because a console that misses a message
asks for it again from the event table, while a user whose request waits on a hung Redis retries and doubles it.

Inside an HTTP request served through `PublishAfterResponse` (asgi.py), a publish only queues its messages: the
middleware sends them on the event loop once the response has gone, so the request thread never waits for Redis
nor runs `async_to_sync` (which, called from a sync view's thread, now and then broke asgiref's
CurrentThreadExecutor and skipped the request's cleanup). Elsewhere (the worker, commands, sockets, tests) a publish
sends at once, from its own thread."""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)

# What the current request has published: (group, messages, what) in order; None outside a request.
_after_response: ContextVar[list[tuple[str, list[dict[str, Any]], str]] | None] = ContextVar(
    "helpdesk_publish_after_response", default=None
)


async def _deliver(layer: BaseChannelLayer, group: str, messages: list[dict[str, Any]], what: str) -> None:
    """Send `messages` to `group` within `HELPDESK_PUBLISH_TIMEOUT_SECONDS`; log and drop what the layer does not
    take in time, or refuses."""
    seconds = settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS
    try:
        async with asyncio.timeout(seconds):
            for message in messages:
                await layer.group_send(group, message)
    except TimeoutError:
        logger.warning("Could not publish %s to the channel layer within %s s", what, seconds)
    except Exception:
        # The channel layer is only the fast path: consoles resync events and presence from the database, and a
        # socket whose session ended is closed at its next heartbeat.
        logger.warning("Could not publish %s to the channel layer", what, exc_info=True)


def group_send(group: str, message: dict[str, Any], *, what: str = "") -> None:
    """Send `message` to every socket in `group`, waiting at most `HELPDESK_PUBLISH_TIMEOUT_SECONDS`; a message the
    layer does not take in time, or refuses, is logged (naming it by `what`) and dropped."""
    group_send_many(group, [message], what=what or message.get("type", "a message"))


def group_send_many(group: str, messages: list[dict[str, Any]], *, what: str) -> None:
    """Send `messages`, in order, to every socket in `group` in one trip, waiting at most
    `HELPDESK_PUBLISH_TIMEOUT_SECONDS` for all of them; what the layer does not take in time, or refuses, is logged
    and dropped. Within a request, they leave after its response."""
    if not messages:
        return
    pending = _after_response.get()
    if pending is not None:
        pending.append((group, messages, what))
        return
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(_deliver)(layer, group, messages, what)


class PublishAfterResponse:
    """ASGI middleware: what an HTTP request publishes is sent on the event loop after its response, in order, each
    batch bounded by `HELPDESK_PUBLISH_TIMEOUT_SECONDS`."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        pending: list[tuple[str, list[dict[str, Any]], str]] = []
        token = _after_response.set(pending)
        try:
            await self.application(scope, receive, send)
        finally:
            _after_response.reset(token)
            if pending and (layer := get_channel_layer()) is not None:
                for group, messages, what in pending:
                    await _deliver(layer, group, messages, what)
