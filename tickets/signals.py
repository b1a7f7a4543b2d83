"""Signal receivers of the tickets app, connected in TicketsConfig.ready()."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.http import HttpRequest

from helpdesk import realtime
from tickets.console.sockets import close_user_consoles


@receiver(user_logged_out, dispatch_uid="tickets.close_consoles_on_logout")
def close_consoles_on_logout(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    session_key = request.session.session_key if request is not None else None
    if session_key:
        realtime.close_session_consoles(session_key=session_key)


@receiver(pre_save, sender=User, dispatch_uid="tickets.notice_password_change")
def notice_password_change(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    instance._password_changed = stored is not None and stored != instance.password  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="tickets.close_consoles_on_password_change")
def close_consoles_on_password_change(sender: Any, instance: User, **kwargs: Any) -> None:
    """A changed password ends every session of the user (Django checks the session's password hash), and with them
    every console socket, at once rather than at the next heartbeat."""
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False  # type: ignore[attr-defined]
        transaction.on_commit(partial(close_user_consoles, user_id=instance.pk))
