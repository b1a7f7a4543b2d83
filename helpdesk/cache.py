"""The cache's Redis client, one for the whole process."""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property


class SharedRedisCache(RedisCache):
    """Django's Redis cache, except that every cache object of the process with the same servers and options shares
    one client and its connection pools. Django makes a cache object for each context it serves, and every ASGI
    request runs in one of its own, so each request would otherwise build a client (redis-py reads its own package
    metadata from disk for each) and connect to Redis anew to read its session."""

    _clients: dict[str, RedisCacheClient] = {}
    _clients_lock = threading.Lock()

    def __init__(self, server: str | list[str], params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._client_key = repr((server, sorted(params.get("OPTIONS", {}).items())))

    @cached_property
    def _cache(self) -> RedisCacheClient:
        with self._clients_lock:
            client = self._clients.get(self._client_key)
            if client is None:
                client = self._clients[self._client_key] = super()._cache
            return client
