"""Idle expiry: a login session lasts SESSION_COOKIE_AGE from its last use, not from the login."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from django.db.models import QuerySet
from django.utils.crypto import constant_time_compare

REFRESHED_KEY = "_helpdesk_refreshed"
# Saving the session on every request would cost a write each; once a minute is precise enough for hours.
REFRESH_EVERY = dt.timedelta(minutes=1)


def session_touch(*, session: SessionBase, now: dt.datetime) -> bool:
    """Mark the session used at `now`, so that it is saved with a fresh expiry; True if it was due."""
    refreshed = session.get(REFRESHED_KEY)
    if refreshed is not None and now - dt.datetime.fromisoformat(refreshed) < REFRESH_EVERY:
        return False
    session[REFRESHED_KEY] = now.isoformat()
    return True


def session_touch_by_key(*, session_key: str, now: dt.datetime) -> None:
    """The same for a session used outside a request (a console socket's actions): read afresh, so that nothing an
    HTTP request wrote meanwhile is overwritten. An ended session stays ended."""
    session = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key or None)
    if session.get(SESSION_KEY) is None or not session_touch(session=session, now=now):
        return
    try:
        session.save()
    except UpdateError:
        # Ended meanwhile: the socket's heartbeat closes it.
        return


def sessions_load(*, session_keys: list[str]) -> list[dict[str, Any]]:
    """The data of each of these sessions through the configured engine (empty for one that has ended): the project's
    store (security.session_store) reads them from the cache in one round trip, Django's one by one."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    load_many = getattr(store, "load_many", None)
    if load_many is not None:
        return load_many(session_keys)
    return [store(session_key=session_key or None).load() for session_key in session_keys]


def _session_hash_verified(session_hash: str | None, user: User) -> bool:
    """Whether a session was opened with the user's current password, checked as django.contrib.auth.get_user
    does (a hash made with a fallback secret key counts)."""
    if not session_hash:
        return False
    hashes = [user.get_session_auth_hash(), *user.get_session_auth_fallback_hash()]
    return any(constant_time_compare(session_hash, candidate) for candidate in hashes)


def sessions_users[UserT: User](*, users: QuerySet[UserT], sockets: list[tuple[int, str]]) -> list[UserT | None]:
    """For each socket, given as (user id, session key), its user read from `users` (which must load the password)
    while its session is still that user's login, opened with their current password; None once it is not (logged
    out, expired, from before a password change, or the user is gone). The users come in one query, the sessions
    are read together (`sessions_load`)."""
    by_id = users.in_bulk({user_id for user_id, _key in sockets})
    sessions = sessions_load(session_keys=[session_key for _user_id, session_key in sockets])
    signed_in: list[UserT | None] = []
    for (user_id, _key), session in zip(sockets, sessions, strict=True):
        user = by_id.get(user_id)
        still = (
            user is not None
            and session.get(SESSION_KEY) == str(user_id)
            and _session_hash_verified(session.get(HASH_SESSION_KEY), user)
        )
        signed_in.append(user if still else None)
    return signed_in
