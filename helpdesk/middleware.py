"""ASGI middleware of the project, wrapped around the applications in asgi.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from importlib import import_module
from typing import Any, cast
from urllib.parse import ParseResult

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpRequest, HttpResponseBase
from django.urls import Resolver404, resolve, set_script_prefix
from django.utils import translation
from django.utils.translation import gettext as _


def trusted_origins() -> list[str]:
    """The origins pages of this site are served from: its public URL and the CSRF trusted origins. Django writes a
    subdomain wildcard as "https://*.example.gov.qa", Channels as "https://.example.gov.qa"."""
    trusted = [origin.replace("://*.", "://.") for origin in settings.CSRF_TRUSTED_ORIGINS]
    return [settings.HELPDESK_PUBLIC_URL, *trusted]


class PublicOriginValidator(OriginValidator):
    """Opens a socket only for a page of this site: the Origin's scheme, host and port must all match a trusted
    origin (Channels' AllowedHostsOriginValidator compares the host alone, so any port or scheme of it passed)."""

    def __init__(self, application: Any) -> None:
        super().__init__(application, [])

    def validate_origin(self, parsed_origin: ParseResult | None) -> bool:
        return any(self.match_allowed_origin(parsed_origin, pattern) for pattern in trusted_origins())


def accepts_uploads[View: Callable[..., Any]](view: View) -> View:
    """Mark a view that receives attachments: its requests may carry HELPDESK_ATTACHMENT_MAX_FILES files."""
    view.accepts_uploads = True  # type: ignore[attr-defined]
    return view


def body_limit(path: str) -> int:
    """The largest request body the view at `path` accepts, in bytes: room for the attachments on the upload views,
    Django's limit for form data everywhere else."""
    try:
        view = resolve(path).func
    except Resolver404:
        view = None
    form_data = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if getattr(view, "accepts_uploads", False):
        return settings.HELPDESK_ATTACHMENT_MAX_BYTES * settings.HELPDESK_ATTACHMENT_MAX_FILES + form_data
    return form_data


def _declared_length(scope: dict[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
    texts = []
    for language in ("en", "ar"):
        with translation.override(language):
            texts.append(_("This request is too large. Send smaller attachments, or fewer at once."))
    body = "\n".join(texts).encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class SocketSession:
    """Channels' session middleware for the sockets, which read the login session and never write it (the console
    touches it by key, tickets.console.consumers): the session is put in the scope as Channels' does, but the socket's
    messages are not wrapped. Channels' wrapper saves a changed session only on an HTTP response start, which a socket
    never sends, and asked whether the session had changed at every message: a twentieth of the work of sending a
    ticket's event to a thousand consoles."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> Any:
        store = import_module(settings.SESSION_ENGINE).SessionStore
        session = store(scope["cookies"].get(settings.SESSION_COOKIE_NAME))
        return await self.inner({**scope, "session": session}, receive, send)


class BodySizeLimit:
    """Refuses with 413 a request body larger than its view accepts, before the application reads it: at once by
    its Content-Length, or as soon as the chunks of a body sent without one pass the limit. (The server has read
    the body by then; a proxy in front should bound it too.)"""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        # Every view accepts form data up to Django's limit; which view the path names (a URL resolution) matters
        # only for a body larger than that, so most requests never ask.
        limit: int | None = None

        def over_limit(size: int) -> bool:
            nonlocal limit
            if size <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                return False
            if limit is None:
                limit = body_limit(scope["path"])
            return size > limit

        declared = _declared_length(scope)
        if declared is not None and over_limit(declared):
            await _refuse(send)
            return
        received = 0
        refused = False

        async def limited_receive() -> dict[str, Any]:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request" and not refused:
                received += len(message.get("body", b""))
                if over_limit(received):
                    refused = True
                    await _refuse(send)
                    # The application stops reading as if the client had gone, and answers nothing.
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.application(scope, limited_receive, guarded_send)


class RequestThreads:
    """Runs each HTTP request's synchronous code (middleware, view, signals) on one thread, as Django's ASGI handler
    does, but on a thread kept from an earlier request instead of one started for the request and joined after it.
    What a thread builds once (its database connection wrapper, compiled queries) is then built once per thread, not
    once per request. Up to `keep` idle threads wait for the next requests; requests beyond them at once get new
    threads, ended when they come back, so no request waits for another's thread."""

    def __init__(self, application: Any, *, keep: int = 16) -> None:
        self.application = application
        self.keep = keep
        self._idle: list[ThreadPoolExecutor] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        executor = self._idle.pop() if self._idle else ThreadPoolExecutor(1, thread_name_prefix="request")
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.application(scope, receive, send)
        finally:
            if len(self._idle) < self.keep:
                self._idle.append(executor)
            else:
                executor.shutdown(wait=False)


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with a request's synchronous work done in one trip to its thread: the request_started
    signal, the middleware chain (built as under WSGI) and the view, and, for a response held in memory, its close
    (the request_finished signal, which hands the database connection back). Django's own handler makes a trip for
    each of the three, and with synchronous middleware (ours, and all of Django's in their sync mode) it went from the
    thread back to the event loop and again to the thread for the view (asgiref's AsyncToSync inside SyncToAsync);
    each trip wakes the loop from another thread. It also watches for the client's disconnect in a task of its own,
    which cannot stop a synchronous view anyway. A streamed response (a file) is closed after it is sent, as Django
    does. An async view (the health check) still runs on the event loop, through async_to_sync."""

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        with closing(body_file):
            response = await sync_to_async(self._respond, thread_sensitive=True)(scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(response.close)()

    def _respond(self, scope: dict[str, Any], body_file: Any) -> HttpResponseBase:
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        # create_request gives either a request or the response refusing it.
        response = cast(HttpResponseBase, error_response) if request is None else self.get_response(request)
        response._handler_class = self.__class__  # type: ignore[attr-defined]  # as Django's handler sets it
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size
        if not response.streaming:
            response.close()
        return response


class SpreadConnections:
    """Spreads clients over the server processes that share one listening socket (scripts/serve). A kept-alive
    connection ties its client to the process that accepted it, and clients that connect at the same moment are often
    all accepted by one process while the others idle: four intake clients were seen on one of two processes (18-22
    tickets/s, one core busy) where spread they opened 33-43. So a process that is serving another request when it
    answers asks this client to reconnect (`Connection: close`, which HTTP/1.1 clients and proxies obey): its next
    request goes to whichever process accepts first, usually an idle one. A process serving one request at a time
    keeps its connections, and asgi.py leaves this out when there is only one process."""

    def __init__(self, application: Any) -> None:
        self.application = application
        self.in_flight = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.application(scope, receive, send)
            return
        self.in_flight += 1

        async def spreading_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start" and self.in_flight > 1:
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        try:
            await self.application(scope, receive, spreading_send)
        finally:
            self.in_flight -= 1
