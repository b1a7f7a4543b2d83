"""The agency pages' socket, `/ws/tickets/`: an agency member's open ticket list and ticket pages learn of their
own agency's public events. Same design as the console: a cursor in every message, a heartbeat that carries the
newest cursor and rechecks the user's rights, a resync from a cursor, and a close on logout (the logout signal
closes every socket of the session's group)."""

from __future__ import annotations

import logging
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.utils import timezone

from helpdesk.heartbeat import ProcessHeartbeat
from tickets.console.actions import bigint_or_none
from tickets.console.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from tickets.console.publish import console_session_group, console_user_group
from tickets.console.selectors import heartbeat_seconds
from tickets.live.publish import agency_group
from tickets.live.selectors import live_agency_id, live_cursor, live_heartbeats, live_since

logger = logging.getLogger(__name__)


def _heartbeats(sockets: list[tuple[int, str, int]]) -> tuple[str, list[str | int]]:
    return timezone.now().isoformat(), live_heartbeats(sockets=sockets)


# The agency sockets of a process beat together, like the consoles: one trip to the database a period for all.
_heartbeat = ProcessHeartbeat(name="Agency socket", period=heartbeat_seconds, trip=_heartbeats)


class AgencyTicketsConsumer(AsyncJsonWebsocketConsumer):
    agency_id: int | None = None
    groups_joined: tuple[str, ...] = ()
    closed = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the socket ends (closed, crashed, its task cancelled), it leaves the heartbeat.
            await _heartbeat.leave(self)

    async def connect(self) -> None:
        user = self.scope.get("user")
        # Accepted first so the browser sees the close code and knows not to retry.
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        agency_id = await database_sync_to_async(live_agency_id)(user=user)
        if agency_id is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user, self.agency_id = user, agency_id
        self.session_key = self.scope["session"].session_key or ""
        # The session's and the user's groups are the ones logout and a password change close.
        self.groups_joined = (
            agency_group(agency_id),
            console_session_group(self.session_key),
            console_user_group(user.pk),
        )
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        cursor = await database_sync_to_async(live_cursor)(agency_id=agency_id)
        await self.send_json({"type": "hello", "cursor": cursor})
        _heartbeat.join(self)

    async def disconnect(self, code: int) -> None:
        for group in self.groups_joined:
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception:
                logger.warning("Could not leave the group %s", group, exc_info=True)

    async def close(self, code: int | bool | None = None, reason: str | None = None) -> None:
        # Closed by a heartbeat or by logout, the socket gets no more heartbeats while its disconnect comes in.
        self.closed = True
        await super().close(code=code, reason=reason)

    def beat_state(self) -> tuple[int, str, int]:
        return (self.user.pk, self.session_key, self.agency_id or 0)

    async def beat_done(self, server_time: str, outcome: str | int) -> None:
        """Close the socket as `outcome` says, or send the heartbeat with its agency's newest cursor."""
        if self.closed:
            return
        if isinstance(outcome, str):
            await self.close(code=CLOSE_UNAUTHENTICATED if outcome == "session" else CLOSE_FORBIDDEN)
            return
        await self.send_json({"type": "heartbeat", "cursor": outcome, "server_time": server_time})

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        resync = isinstance(content, dict) and content.get("type") == "resync"
        since = bigint_or_none(content.get("since")) if resync else None
        if self.agency_id is None or since is None:
            await self.send_json({"type": "error"})
            return
        await self.send_json(await database_sync_to_async(live_since)(agency_id=self.agency_id, since=since))

    async def agency_event(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {"type": "event", "cursor": message["cursor"], "ticket": message["ticket"], "kind": message["kind"]}
        )

    async def console_close(self, message: dict[str, Any]) -> None:
        """The session this socket was opened with has logged out, or its user's password changed."""
        await self.close(code=CLOSE_UNAUTHENTICATED)
