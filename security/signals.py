"""Who logged in, failed, was locked out or changed a password: recorded in the audit trail. `password_changed` is
sent once a user's new password is saved, whatever saved it."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.models import User
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save, pre_save
from django.dispatch import Signal, receiver
from django.http import HttpRequest

from security.context import current_request
from security.models import SecurityEvent
from security.services import security_event_record

# Sent with `user` after the user's changed password is saved.
password_changed = Signal()


@receiver(pre_save, sender=User, dispatch_uid="security.notice_password_change")
def notice_password_change(sender: Any, instance: User, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    stored = User.objects.filter(pk=instance.pk).values_list("password", flat=True).first()
    # An empty password is an account still being created (its first password is not a change).
    instance._password_changed = bool(stored) and stored != instance.password  # type: ignore[attr-defined]


@receiver(post_save, sender=User, dispatch_uid="security.announce_password_change")
def announce_password_change(sender: Any, instance: User, **kwargs: Any) -> None:
    if getattr(instance, "_password_changed", False):
        instance._password_changed = False  # type: ignore[attr-defined]
        password_changed.send(sender=User, user=instance)


@receiver(password_changed, dispatch_uid="security.audit_password_change")
def audit_password_change(sender: Any, user: User, **kwargs: Any) -> None:
    request = current_request.get()
    security_event_record(
        kind=SecurityEvent.Kind.PASSWORD_CHANGED,
        request=request,
        actor=request.user if request is not None else None,
        username=user.get_username(),
    )


@receiver(user_logged_in, dispatch_uid="security.audit_login")
def audit_login(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.LOGIN, request=request, actor=user, username=user.get_username())


@receiver(user_logged_out, dispatch_uid="security.audit_logout")
def audit_logout(sender: Any, request: HttpRequest | None, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        security_event_record(
            kind=SecurityEvent.Kind.LOGOUT, request=request, actor=user, username=user.get_username()
        )


@receiver(user_login_failed, dispatch_uid="security.audit_login_failed")
def audit_login_failed(sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None,
                       **kwargs: Any) -> None:
    # Django has already replaced the password in `credentials` with stars.
    security_event_record(
        kind=SecurityEvent.Kind.LOGIN_FAILED, request=request, username=str(credentials.get("username", ""))
    )


@receiver(user_locked_out, dispatch_uid="security.audit_lockout")
def audit_lockout(sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    security_event_record(kind=SecurityEvent.Kind.LOCKOUT, request=request, username=username or "")
