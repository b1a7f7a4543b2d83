"""The one place that writes to the channel layer. It sends what its callers built and knows nothing of the apps.
Callers publish after commit; a publish is best effort and bounded in time, because a console that misses a message
asks for it again from the event table, while a user whose request waits on a hung Redis retries and doubles it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.conf import settings

logger = logging.getLogger(__name__)


async def _send_within(layer: BaseChannelLayer, group: str, messages: list[dict[str, Any]], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        for message in messages:
            await layer.group_send(group, message)


def group_send(group: str, message: dict[str, Any], *, what: str = "") -> None:
    """Send `message` to every socket in `group`, waiting at most `HELPDESK_PUBLISH_TIMEOUT_SECONDS`; a message the
    layer does not take in time, or refuses, is logged (naming it by `what`) and dropped."""
    group_send_many(group, [message], what=what or message.get("type", "a message"))


def group_send_many(group: str, messages: list[dict[str, Any]], *, what: str) -> None:
    """Send `messages`, in order, to every socket in `group` in one trip, waiting at most
    `HELPDESK_PUBLISH_TIMEOUT_SECONDS` for all of them; what the layer does not take in time, or refuses, is logged
    and dropped."""
    layer = get_channel_layer()
    if layer is None or not messages:
        return
    seconds = settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS
    try:
        async_to_sync(_send_within)(layer, group, messages, seconds)
    except TimeoutError:
        logger.warning("Could not publish %s to the channel layer within %s s", what, seconds)
    except Exception:
        # The channel layer is only the fast path: consoles resync events and presence from the database, and a
        # socket whose session ended is closed at its next heartbeat.
        logger.warning("Could not publish %s to the channel layer", what, exc_info=True)
