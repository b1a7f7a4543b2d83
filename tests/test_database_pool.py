"""The production command's pooled PostgreSQL connections: lent without a round trip while they are quiet, replaced
when PostgreSQL has ended them; and lists read without server-side cursors."""

from __future__ import annotations

import select
import time
from collections.abc import Iterator

import pytest
from django.db import connection
from psycopg import Connection
from psycopg_pool import ConnectionPool

from helpdesk.database import check_pooled_connection


@pytest.fixture
def pool(db) -> Iterator[ConnectionPool]:
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (DATABASE_URL)")
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("prepare_threshold", None)
    pool = ConnectionPool(kwargs=params, min_size=1, max_size=1, check=check_pooled_connection, open=True)
    pool.wait(timeout=10)
    yield pool
    pool.close()


@pytest.fixture
def checks(monkeypatch) -> list[Connection]:
    """The connections psycopg's round-trip check was asked about."""
    asked: list[Connection] = []
    check = ConnectionPool.check_connection

    def counted(conn: Connection) -> None:
        asked.append(conn)
        check(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counted))
    return asked


def lend(pool: ConnectionPool) -> tuple[Connection, int]:
    """A connection the pool lends, and its PostgreSQL backend's pid."""
    with pool.connection() as conn:
        return conn, conn.execute("SELECT pg_backend_pid()").fetchone()[0]


def test_a_quiet_pooled_connection_is_lent_without_a_round_trip(pool, checks):
    first, pid = lend(pool)
    assert lend(pool) == (first, pid)
    assert checks == []


def test_a_connection_postgresql_ended_while_it_was_in_the_pool_is_replaced_not_lent(pool, checks):
    first, pid = lend(pool)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 10
    while not select.select([first.fileno()], [], [], 0.1)[0]:
        assert time.monotonic() < deadline, "PostgreSQL's goodbye never reached the pooled connection"
    second, second_pid = lend(pool)
    assert second_pid != pid
    assert second is not first
    assert checks == [first]


@pytest.mark.parametrize("page", ["/tickets/new/", "/tickets/"])
def test_the_choices_of_a_form_and_a_filter_are_read_without_a_server_side_cursor(
    client, staff, service, page, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.fail("this test needs PostgreSQL (DATABASE_URL)")
    named = []
    chunked_cursor = connection.chunked_cursor

    def recorded():
        named.append(True)
        return chunked_cursor()

    monkeypatch.setattr(connection, "chunked_cursor", recorded)
    client.force_login(staff)
    response = client.get(page)
    assert response.status_code == 200
    assert service.name_en in response.content.decode()
    assert named == []
