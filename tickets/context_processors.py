"""What every page's header shows of the signed-in user, from the one answer `user_role` gives per request."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from tickets.selectors import user_role


def role(request: HttpRequest) -> dict[str, Any]:
    """`user_role`: whether the user is a technician, and their agency membership; asked only if the page shows it."""
    return {"user_role": SimpleLazyObject(lambda: user_role(request.user))}
