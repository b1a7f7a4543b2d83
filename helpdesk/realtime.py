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

from tickets.selectors import event_message_get

logger = logging.getLogger(__name__)

CONSOLE_GROUP = "console"


def console_session_group(session_key: str) -> str:
    """The group of the console sockets opened with one login session."""
    return f"console.session.{session_key}"


async def _send_within(layer: BaseChannelLayer, group: str, message: dict[str, Any], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        await layer.group_send(group, message)


def group_send(group: str, message: dict[str, Any], *, what: str = "") -> None:
    """Send `message` to every socket in `group`, waiting at most `HELPDESK_PUBLISH_TIMEOUT_SECONDS`; a message the
    layer does not take in time, or refuses, is logged (naming it by `what`) and dropped."""
    layer = get_channel_layer()
    if layer is None:
        return
    seconds = settings.HELPDESK_PUBLISH_TIMEOUT_SECONDS
    what = what or message.get("type", "a message")
    try:
        async_to_sync(_send_within)(layer, group, message, seconds)
    except TimeoutError:
        logger.warning("Could not publish %s to the channel layer within %s s", what, seconds)
    except Exception:
        # The channel layer is only the fast path: consoles resync events and presence from the database, and a
        # socket whose session ended is closed at its next heartbeat.
        logger.warning("Could not publish %s to the channel layer", what, exc_info=True)


def publish_ticket_event(*, event_id: int) -> None:
    """Broadcast one committed ticket event to every connected technician console."""
    message = {"type": "ticket.event", **event_message_get(event_id=event_id)}
    group_send(CONSOLE_GROUP, message, what=f"ticket event {event_id}")


def publish_presence(*, state: dict[str, Any]) -> None:
    """Broadcast who is online and who views or types on which ticket to every connected technician console."""
    group_send(CONSOLE_GROUP, {**state, "type": "console.presence"}, what="console presence")


def close_session_consoles(*, session_key: str) -> None:
    """Close the console sockets opened with a session that has just logged out."""
    group_send(console_session_group(session_key), {"type": "console.close"}, what="a console close")
