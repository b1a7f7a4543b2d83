"""The cache's Redis connections, shared by the whole process."""

from __future__ import annotations

import threading
from typing import Any

import redis


class SharedConnectionPool(redis.ConnectionPool):
    """One connection pool per Redis URL for the process. Django makes a cache object, with pools of its own, for
    each context it serves (every ASGI request runs in one of its own), so without this every request would connect
    to Redis anew to read its session."""

    _shared: dict[str, SharedConnectionPool] = {}
    _shared_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> SharedConnectionPool:
        with cls._shared_lock:
            pool = cls._shared.get(url)
            if pool is None:
                pool = cls._shared[url] = super().from_url(url, **kwargs)
            return pool
