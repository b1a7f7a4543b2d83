"""Rate limits: a fixed-window counter, in Redis when REDIS_URL is set so every process shares it, else in this
process. The hotline counts calls, SMS and wrong PINs per number; the password reset counts requests per address and
per client. A Redis that does not answer within a quarter of a second does not stall a request: the count falls back
to the process."""

from __future__ import annotations

import logging
import threading
import time
from functools import cache

import redis
from django.conf import settings

logger = logging.getLogger(__name__)

KEY_PREFIX = "rate:"
REDIS_TIMEOUT_SECONDS = 0.25

# (kind, key) -> (window number, count). Only the current window of a key is kept, and the table is emptied if it
# ever grows past LOCAL_MAX_KEYS, so a process that runs for months does not grow with every number that called.
LOCAL_MAX_KEYS = 50_000
_local_counts: dict[tuple[str, str], tuple[int, int]] = {}
_local_lock = threading.Lock()


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)


def _count_locally(kind: str, key: str, window_number: int) -> int:
    with _local_lock:
        if len(_local_counts) > LOCAL_MAX_KEYS:
            _local_counts.clear()
        number, count = _local_counts.get((kind, key), (window_number, 0))
        count = count + 1 if number == window_number else 1
        _local_counts[(kind, key)] = (window_number, count)
        return count


def rate_count(*, kind: str, key: str, window: int, now: float | None = None) -> int:
    """Count one more `kind` for `key` in the current window of `window` seconds; the count so far, this one
    included."""
    moment = time.time() if now is None else now
    window_number = int(moment // window)
    bucket = f"{KEY_PREFIX}{kind}:{key}:{window_number}"
    if not settings.REDIS_URL:
        return _count_locally(kind, key, window_number)
    try:
        pipeline = _redis(settings.REDIS_URL).pipeline()
        pipeline.incr(bucket)
        pipeline.expire(bucket, window)
        return int(pipeline.execute()[0])
    except (redis.RedisError, OSError, ValueError):
        # redis-py can also surface a socket torn down mid-connect as OSError or ValueError.
        logger.warning("Redis did not count a %s; counting in this process", kind, exc_info=True)
        return _count_locally(kind, key, window_number)


def rate_reset() -> None:
    """Forget every count (tests)."""
    with _local_lock:
        _local_counts.clear()
    if settings.REDIS_URL:
        client = _redis(settings.REDIS_URL)
        keys = list(client.scan_iter(match=f"{KEY_PREFIX}*"))
        if keys:
            client.delete(*keys)
