"""`/healthz`: the state of the database, the channel layer and the escalation worker.

Anonymous callers (load balancers, the container healthchecks) get the overall state only: `{"status": "ok"}`. With
the token of HELPDESK_HEALTH_TOKEN (`Authorization: Bearer <token>`) or a staff login, the body names each check and
its state, for example `{"status": "ok", "database": "ok", "channel_layer": "ok", "worker": "stale", "details":
{...}}`; a failed check's details name the error class only, never connection strings. Every check is bounded in
time, so a load balancer or container healthcheck gets an answer even while Redis or PostgreSQL hangs.

`/healthz` is the web process's own check: 200 when the database and the channel layer are healthy, 503 when not. The
worker is reported in the body but does not change that answer, so a dead worker never gets the web containers
restarted. `/healthz?worker=1` is the worker's check: 200 only while a worker beats and keeps up (`&host=NAME` asks
about the workers on that host only, which is how each worker container checks itself).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hmac
import threading
import uuid
from collections.abc import Awaitable, Callable, Hashable
from functools import partial
from typing import Any

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, connections
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from escalation.heartbeat import worker_status

CHECK_TIMEOUT = 2.0

Check = Callable[[], Awaitable[dict[str, Any]]]


def _database_round_trip() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"vendor": connection.vendor}


class _OwnThreads:
    """Runs a check's queries on a thread of its own with its own connection, one run per check at a time. A hung
    PostgreSQL holds that thread, never the request's or the event loop's (a request waits for its own threads when
    it ends), and a check made while a run hangs waits on that run instead of starting another."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: dict[Hashable, concurrent.futures.Future[dict[str, Any]]] = {}

    def start(self, key: Hashable, query: Callable[[], dict[str, Any]]) -> concurrent.futures.Future[dict[str, Any]]:
        with self.lock:
            future = self.pending.get(key)
            if future is None or future.done():
                future = self.pending[key] = concurrent.futures.Future()
                threading.Thread(target=self._run, args=(future, query), name=f"healthz-{key}", daemon=True).start()
            return future

    @staticmethod
    def _run(future: concurrent.futures.Future[dict[str, Any]], query: Callable[[], dict[str, Any]]) -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(query())
        except Exception as error:
            future.set_exception(error)
        finally:
            connections.close_all()


_own_threads = _OwnThreads()


async def database_check() -> dict[str, Any]:
    return await asyncio.wrap_future(_own_threads.start("database", _database_round_trip))


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


class Unhealthy(Exception):
    """Raised by a check that got an answer, and the answer is bad: `state` names it ("stale"), `details` show why."""

    def __init__(self, state: str, details: dict[str, Any]) -> None:
        super().__init__(state)
        self.state = state
        self.details = details


def _worker_status(host: str | None) -> dict[str, Any]:
    return worker_status(now=timezone.now(), host=host)


async def worker_check(host: str | None = None) -> dict[str, Any]:
    """The escalation worker's last beat and the lag of the oldest due row (see escalation.heartbeat)."""
    status = await asyncio.wrap_future(_own_threads.start(("worker", host), partial(_worker_status, host)))
    if status["state"] != "ok":
        raise Unhealthy(status["state"], status)
    return status


CHECKS: dict[str, Check] = {"database": database_check, "channel_layer": channel_layer_check, "worker": worker_check}
# Reported by /healthz without deciding its status code (see the module's docstring).
REPORTED_ONLY = frozenset({"worker"})


async def _run(check: Check) -> tuple[str, dict[str, Any]]:
    try:
        details = await asyncio.wait_for(check(), CHECK_TIMEOUT)
    except Unhealthy as unhealthy:
        return unhealthy.state, unhealthy.details
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
    checks: dict[str, Check]
    if request.GET.get("worker") == "1":
        checks = {"worker": partial(worker_check, host=request.GET.get("host") or None)}
        deciding = set(checks)
    else:
        checks = CHECKS
        deciding = set(CHECKS) - REPORTED_ONLY
    body: dict[str, Any] = {"status": "ok"}
    details: dict[str, Any] = {}
    for name, check in checks.items():
        body[name], details[name] = await _run(check)
        if body[name] != "ok" and name in deciding:
            body["status"] = "error"
    body["details"] = details
    status = 200 if body["status"] == "ok" else 503
    if not await _may_read_details(request):
        # The vendor, the layer's class and which dependency failed help an attacker more than a load balancer.
        body = {"status": body["status"]}
    return JsonResponse(body, status=status)
