#!/bin/sh
# Bring the database schema up to date, then become the container's main process (daphne by default), so that
# signals from `docker stop` reach it directly.
set -eu
cd /app
python manage.py migrate --noinput
exec "$@"
