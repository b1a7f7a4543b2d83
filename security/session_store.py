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
        return self._load_from_database(keep=True)

    def _load_from_database(self, *, keep: bool) -> dict[str, Any]:
        stored = self._get_session_from_db()
        if stored is None:
            return {}
        data = self.decode(stored.session_data)
        if keep:
            expiry = self.get_expiry_age(expiry=stored.expire_date)
            self._cache_call("keep", self._cache.set, self.cache_key, data, expiry)
        return data

    @classmethod
    def load_many(cls, session_keys: list[str]) -> list[dict[str, Any]]:
        """The data of each session (empty for one that has ended), read from the cache in one round trip; the
        database answers for those the cache does not hold. When the cache fails, the database answers for all of
        them and nothing is written back, so a hung cache costs one timeout, not one per session."""
        stores = [cls(session_key=session_key or None) for session_key in session_keys]
        cache_keys = [store.cache_key for store in stores if store.session_key]
        probe = cls()
        found = probe._cache_call("read", probe._cache.get_many, cache_keys) if cache_keys else {}
        sessions: list[dict[str, Any]] = []
        for store in stores:
            if not store.session_key:
                sessions.append({})
            elif found is not None and store.cache_key in found:
                sessions.append(found[store.cache_key])
            else:
                sessions.append(store._load_from_database(keep=found is not None))
        return sessions

    def exists(self, session_key: str | None) -> bool:
        cached = session_key and self._cache_call("look up", self._cache.has_key, self.cache_key_prefix + session_key)
        return bool(cached) or super(cached_db.SessionStore, self).exists(session_key or "")

    def delete(self, session_key: str | None = None) -> None:
        super(cached_db.SessionStore, self).delete(session_key)
        key = session_key or self.session_key
        if key is not None:
            self._cache_call("forget", self._cache.delete, self.cache_key_prefix + key)
