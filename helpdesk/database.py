"""How the web processes' pooled PostgreSQL connections are checked before they are lent."""

from __future__ import annotations

import select

from psycopg import Connection
from psycopg_pool import ConnectionPool


def check_pooled_connection(connection: Connection) -> None:
    """Raise if `connection` is no longer usable, so that the pool replaces it instead of lending it.

    An idle connection has nothing to read: when PostgreSQL ends it (a restart, `pg_terminate_backend`, an idle
    timeout) it sends its reason and closes the socket, which then reads as ready. Only then is the connection asked
    a question (psycopg's check, a round trip that raises if it is gone); a quiet one is lent at once, where the
    check on every loan cost each request a round trip."""
    if connection.closed or select.select([connection.fileno()], [], [], 0)[0]:
        ConnectionPool.check_connection(connection)
