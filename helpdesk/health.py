"""`/healthz`: the state of the database and the channel layer, 200 when all are healthy and 503 when not.

Anonymous callers (load balancers, the container healthcheck) get the overall state only: `{"status": "ok"}`. With
the token of HELPDESK_HEALTH_TOKEN (`Authorization: Bearer <token>`) or a staff login, the body names each check and
its state, for example `{"status": "ok", "database": "ok", "channel_layer": "ok", "details": {...}}`; an unhealthy
check's details name the error class only, never connection strings. Every check is bounded in time, so a load
balancer or container healthcheck gets an answer even while Redis or PostgreSQL hangs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import threading
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

CHECK_TIMEOUT = 2.0

Check = Callable[[], Awaitable[dict[str, Any]]]


def _database_round_trip() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


class _DatabaseProbe:
    """One database round trip at a time, on a thread of its own with its own connection. A hung PostgreSQL holds
    that thread, never the request's or the event loop's (a request waits for its own threads when it ends), and a
    check made while a round trip hangs waits on that one instead of starting another."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: concurrent.futures.Future[dict[str, Any]] | None = None

    def start(self) -> concurrent.futures.Future[dict[str, Any]]:
        with self.lock:
            if self.pending is None or self.pending.done():
                self.pending = concurrent.futures.Future()
                threading.Thread(target=self._run, args=(self.pending,), name="healthz-database", daemon=True).start()
            return self.pending

    @staticmethod
    def _run(future: concurrent.futures.Future[dict[str, Any]]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(_database_round_trip())
        except Exception as error:
            future.set_exception(error)
        finally:
            connections.close_all()


_database_probe = _DatabaseProbe()


async def database_check() -> dict[str, Any]:
    return await asyncio.wrap_future(_database_probe.start())


async def _channel_discard(layer: Any, channel: str) -> None:
    """Free a channel this process created. Layers release a channel when a receive on it is cancelled (that is how
    a consumer leaves), so without this every health check would leave a subscription behind on Redis."""
    waiter = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0)
    waiter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await waiter


async def channel_layer_check() -> dict[str, Any]:
    """Send a message to a fresh channel of this process and receive it back."""
    layer = get_channel_layer()
    if layer is None:
        raise LookupError("no channel layer is configured")
    channel = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "token": token})
    message = await layer.receive(channel)
    await _channel_discard(layer, channel)
    if message.get("token") != token:
        raise RuntimeError("the channel layer returned another message")
    return {"backend": layer.__class__.__name__}


CHECKS: dict[str, Check] = {"database": database_check, "channel_layer": channel_layer_check}


async def _run(check: Check) -> tuple[str, dict[str, Any]]:
    try:
        details = await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Exception as error:
        return "error", {"error": error.__class__.__name__}
    return "ok", details


async def _may_read_details(request: HttpRequest) -> bool:
    token = settings.HELPDESK_HEALTH_TOKEN
    offered = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and offered and hmac.compare_digest(offered.encode(), token.encode()):
        return True
    user = await request.auser()
    return user.is_active and user.is_staff


@never_cache
@require_GET
async def healthz(request: HttpRequest) -> JsonResponse:
    body: dict[str, Any] = {"status": "ok"}
    details: dict[str, Any] = {}
    for name, check in CHECKS.items():
        body[name], details[name] = await _run(check)
        if body[name] != "ok":
            body["status"] = "error"
    body["details"] = details
    status = 200 if body["status"] == "ok" else 503
    if not await _may_read_details(request):
        # The vendor, the layer's class and which dependency failed help an attacker more than a load balancer.
        body = {"status": body["status"]}
    return JsonResponse(body, status=status)
