"""`/healthz`: the state of the database and the channel layer, 200 when all are healthy and 503 when not."""

from __future__ import annotations

import asyncio
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

CHANNEL_LAYER_TIMEOUT = 2.0


def database_check() -> dict[str, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return {"status": "error", "error": error.__class__.__name__}
    return {"status": "ok", "vendor": connection.vendor}


async def _layer_round_trip() -> None:
    layer = get_channel_layer()
    channel = await layer.new_channel("healthz.")
    token = uuid.uuid4().hex
    await layer.send(channel, {"type": "healthz.ping", "token": token})
    message = await layer.receive(channel)
    if message.get("token") != token:
        raise RuntimeError("channel layer returned another message")


def channel_layer_check() -> dict[str, str]:
    layer = get_channel_layer()
    if layer is None:
        return {"status": "error", "error": "not configured"}

    async def bounded() -> None:
        await asyncio.wait_for(_layer_round_trip(), CHANNEL_LAYER_TIMEOUT)

    try:
        async_to_sync(bounded)()
    except Exception as error:
        return {"status": "error", "error": error.__class__.__name__, "backend": layer.__class__.__name__}
    return {"status": "ok", "backend": layer.__class__.__name__}


@never_cache
@require_GET
def healthz(request):
    checks = {"database": database_check(), "channel_layer": channel_layer_check()}
    healthy = all(check["status"] == "ok" for check in checks.values())
    return JsonResponse({"status": "ok" if healthy else "error", "checks": checks}, status=200 if healthy else 503)
