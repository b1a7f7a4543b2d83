"""Authentication of the tickets app's users."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User

from tickets.selectors import user_with_role


class RoleModelBackend(ModelBackend):
    """Django's model backend, except that the request's user is read with their role (technician or not, agency,
    Arabic name) in one query, which `tickets.selectors.user_role` then answers from without asking again."""

    def get_user(self, user_id: Any) -> User | None:
        user = user_with_role(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None
