#!/bin/sh
# Bring the database schema up to date, then become the container's main process (daphne by default), so that
# signals from `docker stop` reach it directly.
set -eu
cd /app
# A migration may rewrite a large table: no statement timeout for it.
DATABASE_STATEMENT_TIMEOUT=0 python manage.py migrate --noinput
exec "$@"
