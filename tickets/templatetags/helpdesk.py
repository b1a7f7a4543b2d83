"""Template filters of the pages: people and phone numbers as the active language shows them."""

from __future__ import annotations

from django import template
from django.contrib.auth.models import User

from tickets.phones import phone_display
from tickets.selectors import user_display_name

register = template.Library()


@register.filter
def person(user: User | None) -> str:
    """`{{ user|person }}`: the user's name in the active language (tickets.selectors.user_display_name)."""
    return user_display_name(user) if user is not None else ""


@register.filter
def phone(number: str) -> str:
    """`{{ number|phone }}`: a stored E.164 number grouped for reading, "+974 4400 0000"."""
    return phone_display(number)
