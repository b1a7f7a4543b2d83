"""Signal receivers of the tickets app, connected in TicketsConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver
from django.http import HttpRequest

from tickets.console import publish


@receiver(user_logged_out, dispatch_uid="tickets.close_consoles_on_logout")
def close_consoles_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    session_key = request.session.session_key if request is not None else None
    if session_key:
        publish.close_session_consoles(session_key=session_key)
