"""The live console socket, `/ws/console/`. Thin: it checks who connects, joins the console group, and passes
every command to a selector or to the one action adapter; the handlers only send JSON."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from helpdesk.heartbeat import ProcessHeartbeat
from security.sessions import session_touch_by_key
from tickets.console import presence
from tickets.console.actions import bigint_or_none, console_action
from tickets.console.inbound import RESYNC_COST, MessageBudget, Verdict, message_decode
from tickets.console.publish import CONSOLE_GROUP, console_session_group, console_user_group
from tickets.console.queue import console_snapshot, dumps
from tickets.console.selectors import (
    console_access_lost,
    console_me,
    console_missed,
    console_resync,
    heartbeat_seconds,
)
from tickets.selectors import event_cursor_latest

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_MANY_MESSAGES = 4429


def scope_language(scope: dict[str, Any]) -> str:
    """The language the user chose (the language cookie), else the browser's, else the site default."""
    cookie = scope.get("cookies", {}).get(settings.LANGUAGE_COOKIE_NAME)
    candidates = [cookie] if cookie else []
    headers = dict(scope.get("headers", []))
    accept = headers.get(b"accept-language", b"").decode("latin-1")
    candidates += [part.split(";")[0].strip() for part in accept.split(",") if part.strip()]
    for candidate in candidates:
        with contextlib.suppress(LookupError):
            return translation.get_supported_language_variant(candidate)
    return settings.LANGUAGE_CODE


class _LastEncoded:
    """The JSON of the last broadcast of one kind. A broadcast reaches every socket of the process in turn, so the
    first one encodes it and the others reuse the text."""

    def __init__(self) -> None:
        self.key: Any = None
        self.encoded = ""

    def text(self, key: Any, encode: Callable[[], str]) -> str:
        if key is None or key != self.key:
            self.encoded = encode()
            self.key = key
        return self.encoded


_last_event = _LastEncoded()
_last_presence = _LastEncoded()


async def _dispatch_in_order(
    sources: list[Callable[[], Awaitable[dict[str, Any]]]], dispatch: Callable[[dict[str, Any]], Awaitable[None]]
) -> None:
    """What Channels' await_many_dispatch does, for less work per message: the messages of the sources (the socket
    and the channel layer) are dispatched one at a time, in the order they come in. Each source is read by a task
    that lasts as long as the socket; Channels' started a task and an asyncio.wait for every message, a tenth of
    the work of sending one ticket's event to a thousand consoles."""
    inbox: asyncio.Queue[tuple[dict[str, Any] | None, Exception | None]] = asyncio.Queue()

    async def pump(source: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        try:
            while True:
                inbox.put_nowait((await source(), None))
        except Exception as error:
            inbox.put_nowait((None, error))

    pumps = [asyncio.ensure_future(pump(source)) for source in sources]
    try:
        while True:
            message, error = await inbox.get()
            if error is not None:
                raise error
            await dispatch(cast(dict[str, Any], message))
    finally:
        for task in pumps:
            task.cancel()
        for task in pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@dataclass(frozen=True)
class _Beat:
    """What a heartbeat needs of one socket, read on the event loop before the trip to the database."""

    channel_name: str
    user: Any
    session_key: str
    me: dict[str, Any]
    checked: int
    previous: int
    delivered: frozenset[int]


@dataclass(frozen=True)
class _Shared:
    """What one heartbeat found for all the sockets: the newest cursor, the heartbeat message, and whether what the
    presence shows changed."""

    cursor: int
    text: str
    presence_changed: bool


def _heartbeats(beats: list[_Beat]) -> tuple[_Shared, list[list[str] | str]]:
    """One heartbeat of sockets: refresh their presence, and for each socket find what it missed up to the previous
    heartbeat's cursor, or instead why it must close when its session or its user's rights are gone; then read the
    newest cursor. A few queries however many sockets beat."""
    lost = console_access_lost(sockets=[(beat.user.pk, beat.session_key) for beat in beats])
    staying = [beat for beat, why in zip(beats, lost, strict=True) if why is None]
    presence_changed = presence.presence_touch(sockets={beat.channel_name: beat.user for beat in staying})
    missed = iter(console_missed(windows=[(beat.checked, beat.previous, beat.delivered, beat.me) for beat in staying]))
    outcomes: list[list[str] | str] = [why if why is not None else next(missed) for why in lost]
    cursor = event_cursor_latest()
    text = dumps({"type": "heartbeat", "cursor": cursor, "server_time": timezone.now().isoformat()})
    return _Shared(cursor=cursor, text=text, presence_changed=presence_changed), outcomes


def _announce_presence(shared: _Shared) -> None:
    if shared.presence_changed:
        presence.presence_announce()


_heartbeat = ProcessHeartbeat(
    name="Console", period=heartbeat_seconds, trip=_heartbeats, after=_announce_presence
)


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    me: dict[str, Any] | None = None
    session_key = ""
    session_group = ""
    joined = False
    left = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # Channels' AsyncConsumer.__call__, with its await_many_dispatch replaced by `_dispatch_in_order`.
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        self.channel_name = await self.channel_layer.new_channel()
        self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
        self.base_send = send
        try:
            await _dispatch_in_order([receive, self.channel_receive], self.dispatch)
        except StopConsumer:
            pass
        finally:
            # However the socket ends (closed, crashed, its task cancelled), its heartbeat and presence end with it.
            await self._leave()

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels' own dispatch first hops to the database thread to close stale connections, for every message. A
        # broadcast reaches every socket of the process at once, so those hops queued up behind each other and
        # dominated fan-out latency. Every database call here goes through database_sync_to_async, which closes
        # stale connections itself, so the hop is skipped.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        self.delivered: set[int] = set()
        self.budget = MessageBudget()
        user = self.scope.get("user")
        # Accepted first so the browser sees the close code and knows not to retry.
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.language = scope_language(self.scope)
        self.me = await database_sync_to_async(console_me)(user=user)
        if self.me is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(CONSOLE_GROUP, self.channel_name)
        self.session_key = self.scope["session"].session_key or ""
        self.session_group = console_session_group(self.session_key)
        await self.channel_layer.group_add(self.session_group, self.channel_name)
        await self.channel_layer.group_add(console_user_group(user.pk), self.channel_name)
        self.joined = True
        snapshot = await database_sync_to_async(console_snapshot)(me=self.me)
        # Gap repair: events up to `checked` are known delivered; `previous` is the last heartbeat's cursor.
        self.checked = self.previous = snapshot.cursor
        for text in snapshot.texts:
            await self.send(text_data=text)
        await database_sync_to_async(presence.presence_join)(channel_name=self.channel_name, user=user)
        presence.presence_announce()
        _heartbeat.join(self)

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _leave(self) -> None:
        if self.left:
            return
        self.left = True
        await _heartbeat.leave(self)
        if not self.joined:
            return
        try:
            await self.channel_layer.group_discard(CONSOLE_GROUP, self.channel_name)
            await self.channel_layer.group_discard(self.session_group, self.channel_name)
            await self.channel_layer.group_discard(console_user_group(self.user.pk), self.channel_name)
        except Exception:
            logger.warning("Could not leave the console group", exc_info=True)
        try:
            left = await database_sync_to_async(presence.presence_leave)(channel_name=self.channel_name)
        except Exception:
            # The row stops being refreshed, so the next sweep removes it.
            logger.warning("Could not remove the console presence", exc_info=True)
            return
        if left:
            presence.presence_announce()

    def beat_state(self) -> _Beat:
        return _Beat(
            channel_name=self.channel_name,
            user=self.user,
            session_key=self.session_key,
            me=self.me or {},
            checked=self.checked,
            previous=self.previous,
            delivered=frozenset(self.delivered),
        )

    async def beat_done(self, shared: _Shared, outcome: list[str] | str) -> None:
        """Close the socket as `outcome` says, or send what it missed and the heartbeat."""
        if self.left:
            return
        if isinstance(outcome, str):
            await self.close(code=CLOSE_UNAUTHENTICATED if outcome == "session" else CLOSE_FORBIDDEN)
            return
        for message in outcome:
            await self.send(text_data=message)
        self.checked = max(self.checked, self.previous)
        self.delivered = {event_id for event_id in self.delivered if event_id > self.checked}
        self.previous = max(self.previous, shared.cursor)
        await self.send(text_data=shared.text)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not await self._within_budget(1):
            return
        content = message_decode(text_data)
        if content is None:
            await self._error(None)
            return
        try:
            await self.receive_json(content)
        except Exception:
            # One bad message must not end the socket (its heartbeat and presence would outlive it).
            logger.exception("Console message failed: %.200s", text_data)
            await self._error(content.get("type"))

    async def receive_json(self, content: dict[str, Any], **kwargs: Any) -> None:
        if self.me is None:
            return
        kind = content.get("type")
        if kind == "resync":
            await self._resync(content)
        elif kind == "action":
            await self._action(content)
        elif kind in ("view", "typing"):
            await self._presence(kind, content)
        else:
            await self._error(kind)

    async def _error(self, kind: Any, message: str | None = None) -> None:
        with translation.override(getattr(self, "language", settings.LANGUAGE_CODE)):
            text = _(message or "The console did not understand that message.")
        await self.send_json({"type": "error", "about": kind if isinstance(kind, str) else None, "error": text})

    async def _within_budget(self, cost: float) -> bool:
        verdict = self.budget.spend(cost)
        if verdict is Verdict.WARN:
            await self._error("rate", gettext_noop("Too many messages: the console ignores them for a moment."))
        elif verdict is Verdict.CLOSE:
            await self.close(code=CLOSE_TOO_MANY_MESSAGES)
        return verdict is Verdict.ACCEPT

    async def _resync(self, content: dict[str, Any]) -> None:
        # The message itself has paid one.
        if not await self._within_budget(RESYNC_COST - 1):
            return
        since = bigint_or_none(content.get("since"))
        if since is None:
            await self._error("resync")
            return
        for text in await database_sync_to_async(console_resync)(me=self.me, since=since):
            await self.send(text_data=text)

    async def _action(self, content: dict[str, Any]) -> None:
        number = bigint_or_none(content.get("ticket"))
        result = await database_sync_to_async(console_action)(
            user=self.user,
            action=str(content.get("action", "")),
            number=number if number is not None else -1,
            data=content,
            language=self.language,
        )
        await self.send_json({"type": "action.result", "request_id": content.get("request_id"), **result.as_json()})
        # Working in the console is using the session: it must not expire as idle.
        await database_sync_to_async(session_touch_by_key)(session_key=self.session_key, now=timezone.now())

    async def _presence(self, kind: str, content: dict[str, Any]) -> None:
        number = bigint_or_none(content.get("ticket"))
        if number is None and (kind == "typing" or content.get("ticket") is not None):
            await self._error(kind)
            return
        typing = kind == "typing" and content.get("typing") is True
        if await database_sync_to_async(presence.presence_set)(
            channel_name=self.channel_name, user=self.user, ticket_number=number, typing=typing
        ):
            presence.presence_announce()

    @classmethod
    async def encode_json(cls, content: dict[str, Any]) -> str:
        return dumps(content)

    async def ticket_event(self, message: dict[str, Any]) -> None:
        self.delivered.add(message["cursor"])
        # The creation time with the id: ids repeat only if the tables were emptied under a running process.
        key = (message["cursor"], message["event"]["created_at"])
        await self.send(text_data=_last_event.text(key, lambda: dumps({**message, "type": "event"})))

    async def console_close(self, message: dict[str, Any]) -> None:
        """The session this socket was opened with has logged out, or its user's password has changed."""
        await self.close(code=CLOSE_UNAUTHENTICATED)

    async def console_presence(self, message: dict[str, Any]) -> None:
        state = {"type": "presence", "online": message["online"], "tickets": message["tickets"]}
        await self.send(text_data=_last_presence.text(message.get("serial"), lambda: dumps(state)))
