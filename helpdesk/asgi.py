"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by daphne)."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# Django must be set up before anything imports models.
django.setup(set_prefix=False)

from channels.auth import AuthMiddleware  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import CookieMiddleware  # noqa: E402
from django.conf import settings  # noqa: E402

from helpdesk.middleware import (  # noqa: E402
    BodySizeLimit,
    OneHopASGIHandler,
    PublicOriginValidator,
    RequestThreads,
    SocketSession,
    SpreadConnections,
)
from helpdesk.realtime import PublishAfterResponse  # noqa: E402
from helpdesk.routing import websocket_urlpatterns  # noqa: E402

django_asgi_app = OneHopASGIHandler()
http_application: PublishAfterResponse | SpreadConnections
http_application = PublishAfterResponse(BodySizeLimit(RequestThreads(django_asgi_app)))
if settings.HELPDESK_WEB_PROCESSES > 1:
    http_application = SpreadConnections(http_application)

application = ProtocolTypeRouter(
    {
        "http": http_application,
        # Channels' AuthMiddlewareStack, with a session middleware that does not wrap what the sockets send.
        "websocket": PublicOriginValidator(
            CookieMiddleware(SocketSession(AuthMiddleware(URLRouter(websocket_urlpatterns))))
        ),
    }
)
