"""Sessions read from the cache (Redis when configured) and kept in the database, where a cache that fails costs a
request at most its socket timeout and never an error: the database answers instead. Django's `cached_db` store
already tolerates a failing read, but not a failing write-back after it, an `exists` or a `delete`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.contrib.sessions.backends import cached_db
from django.contrib.sessions.models import Session
from django.core.cache.backends.base import BaseCache

logger = logging.getLogger(__name__)


class SessionStore(cached_db.SessionStore):
    # What Django's stores have and its type stubs do not name.
    _cache: BaseCache
    _get_session_from_db: Callable[[], Session | None]

    def _cache_call(self, what: str, call: Any, *args: Any) -> Any:
        try:
            return call(*args)
        except Exception:  # noqa: BLE001 - the cache is only a shortcut to the database
            logger.warning("The session cache failed to %s; using the database", what, exc_info=True)
            return None

    def load(self) -> dict[str, Any]:
        data = self._cache_call("read", self._cache.get, self.cache_key)
        if data is not None:
            return data
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        self._cache_call("keep", self._cache.set, self.cache_key, data, self.get_expiry_age(expiry=stored.expire_date))
        return data

    def exists(self, session_key: str | None) -> bool:
        cached = session_key and self._cache_call("look up", self._cache.has_key, self.cache_key_prefix + session_key)
        return bool(cached) or super(cached_db.SessionStore, self).exists(session_key or "")

    def delete(self, session_key: str | None = None) -> None:
        super(cached_db.SessionStore, self).delete(session_key)
        key = session_key or self.session_key
        if key is not None:
            self._cache_call("forget", self._cache.delete, self.cache_key_prefix + key)
