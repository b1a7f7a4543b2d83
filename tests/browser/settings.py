"""Settings of the daphne server the browser tests start: the project's own settings, except that static files are
served from the source tree (no collectstatic run), cookies travel over plain http on loopback, and the fast password
hash the test accounts are created with is accepted."""

from __future__ import annotations

from helpdesk.settings import *  # noqa: F403
from helpdesk.settings import STORAGES

STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
