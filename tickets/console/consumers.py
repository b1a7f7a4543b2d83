"""The live console socket, `/ws/console/`. Thin: it checks who connects, joins the console group, and passes
every command to a selector or to the one action adapter; the handlers only send JSON."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from security.sessions import session_touch_by_key
from tickets.console import presence
from tickets.console.actions import bigint_or_none, console_action
from tickets.console.inbound import RESYNC_COST, MessageBudget, Verdict, message_decode
from tickets.console.publish import CONSOLE_GROUP, console_session_group, console_user_group
from tickets.console.queue import console_snapshot, dumps
from tickets.console.selectors import console_access_lost, console_me, console_missed, console_resync
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


def _heartbeat(
    *,
    channel_name: str,
    user: Any,
    session_key: str,
    me: dict[str, Any],
    checked: int,
    previous: int,
    delivered: set[int],
) -> tuple[int, list[str], bool] | str:
    """Refresh this socket's presence, read the newest cursor, and find what the socket missed up to the previous
    heartbeat's cursor; instead, why the socket must close when its session or its user's rights are gone."""
    lost = console_access_lost(user_id=user.pk, session_key=session_key)
    if lost is not None:
        return lost
    presence_changed = presence.presence_touch(channel_name=channel_name, user=user)
    missed = console_missed(after=checked, upto=previous, delivered=delivered, me=me)
    return event_cursor_latest(), missed, presence_changed


class ConsoleConsumer(AsyncJsonWebsocketConsumer):
    me: dict[str, Any] | None = None
    session_key = ""
    session_group = ""
    heartbeat_task: asyncio.Task | None = None
    joined = False
    left = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
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
        self.heartbeat_task = asyncio.ensure_future(self._beat())

    async def disconnect(self, code: int) -> None:
        await self._leave()

    async def _leave(self) -> None:
        if self.left:
            return
        self.left = True
        if self.heartbeat_task is not None:
            self.heartbeat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.heartbeat_task
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

    async def _beat(self) -> None:
        period = settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(period)
            try:
                beat = await database_sync_to_async(_heartbeat)(
                    channel_name=self.channel_name,
                    user=self.user,
                    session_key=self.session_key,
                    me=self.me,
                    checked=self.checked,
                    previous=self.previous,
                    delivered=set(self.delivered),
                )
            except Exception:
                # A database hiccup skips one heartbeat; the next one tries again.
                logger.warning("Console heartbeat failed", exc_info=True)
                continue
            if isinstance(beat, str):
                await self.close(code=CLOSE_UNAUTHENTICATED if beat == "session" else CLOSE_FORBIDDEN)
                return
            cursor, missed, presence_changed = beat
            if presence_changed:
                presence.presence_announce()
            for message in missed:
                await self.send(text_data=message)
            self.checked = max(self.checked, self.previous)
            self.delivered = {event_id for event_id in self.delivered if event_id > self.checked}
            self.previous = max(self.previous, cursor)
            await self.send_json({"type": "heartbeat", "cursor": cursor, "server_time": timezone.now().isoformat()})

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
