"""Addressing every console socket of one user, to close them all at once (a changed password ends every session)."""

from __future__ import annotations

from helpdesk import realtime


def console_user_group(user_id: int) -> str:
    """The group of the console sockets of one user, whatever session opened them."""
    return f"console.user.{user_id}"


def close_user_consoles(*, user_id: int) -> None:
    realtime._group_send(console_user_group(user_id), {"type": "console.close"}, "a console close")
