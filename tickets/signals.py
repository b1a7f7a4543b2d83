"""Signal receivers of the tickets app, connected in TicketsConfig.ready()."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest

from security.signals import password_changed
from tickets.console import publish


@receiver(user_logged_out, dispatch_uid="tickets.close_consoles_on_logout")
def close_consoles_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    session_key = request.session.session_key if request is not None else None
    if session_key:
        publish.close_session_consoles(session_key=session_key)


@receiver(password_changed, dispatch_uid="tickets.close_consoles_on_password_change")
def close_consoles_on_password_change(sender: Any, user: User, **kwargs: Any) -> None:
    """A changed password ends every session of the user (Django checks the session's password hash), and with them
    every console socket, at once rather than at the next heartbeat."""
    transaction.on_commit(partial(publish.close_user_consoles, user_id=user.pk))
