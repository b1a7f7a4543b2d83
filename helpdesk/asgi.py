"""ASGI entry point: HTTP through Django, WebSockets through Channels (served by daphne)."""

from __future__ import annotations

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

# Django must be set up before anything imports models.
django.setup(set_prefix=False)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from helpdesk.middleware import BodySizeLimit, OneHopASGIHandler, PublicOriginValidator, RequestThreads  # noqa: E402
from helpdesk.realtime import PublishAfterResponse  # noqa: E402
from helpdesk.routing import websocket_urlpatterns  # noqa: E402

django_asgi_app = OneHopASGIHandler()

application = ProtocolTypeRouter(
    {
        "http": PublishAfterResponse(BodySizeLimit(RequestThreads(django_asgi_app))),
        "websocket": PublicOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
