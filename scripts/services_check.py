"""Check that the PostgreSQL and Redis that the test suite is pointed at answer. Exit 1 naming what does not."""

from __future__ import annotations

import os
import sys

import dj_database_url
import psycopg
import redis


def main() -> int:
    failures = []
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith(("postgres://", "postgresql://")):
        config = dj_database_url.parse(database_url)
        try:
            # The test run creates its own database; the server only has to accept a connection.
            psycopg.connect(
                host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                password=config["PASSWORD"] or None, dbname="postgres", connect_timeout=3,
            ).close()
        except psycopg.Error as error:
            failures.append(f"PostgreSQL at {config['HOST']}:{config['PORT']}: {error}".strip())
    redis_url = os.environ.get("REDIS_URL", "")
    if redis_url:
        try:
            redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
        except redis.RedisError as error:
            failures.append(f"Redis at {redis_url}: {error}")
    for failure in failures:
        print(f"unreachable: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
