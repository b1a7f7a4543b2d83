"""The live console's messages, shaped here and sent through `helpdesk.realtime`: each committed ticket event, the
presence state, and the close of a logged-out session's sockets or of every socket of a user whose password changed.
Every writer of ticket events (the web, the console, the hotline, the escalation worker) reaches the consoles through
`publish_ticket_event`, scheduled by `tickets.services._record` after commit."""

from __future__ import annotations

from typing import Any

from helpdesk import realtime
from tickets.selectors import event_messages_get

CONSOLE_GROUP = "console"


def console_session_group(session_key: str) -> str:
    """The group of the console sockets opened with one login session."""
    return f"console.session.{session_key}"


def console_user_group(user_id: int) -> str:
    """The group of the console sockets of one user, whatever session opened them."""
    return f"console.user.{user_id}"


def publish_ticket_event(*, message: dict[str, Any]) -> None:
    """Broadcast one committed ticket event (`message` from `tickets.selectors.event_message`) to every connected
    technician console."""
    realtime.group_send(CONSOLE_GROUP, {"type": "ticket.event", **message}, what=f"ticket event {message['cursor']}")


def publish_ticket_events(*, event_ids: list[int]) -> None:
    """Broadcast committed ticket events, in id order, to every connected technician console with one read and one
    trip to the channel layer (the escalation worker writes its events by the batch)."""
    messages = [{"type": "ticket.event", **message} for message in event_messages_get(event_ids=event_ids)]
    realtime.group_send_many(CONSOLE_GROUP, messages, what=f"{len(messages)} ticket events")


def publish_presence(*, state: dict[str, Any]) -> None:
    """Broadcast who is online and who views or types on which ticket to every connected technician console."""
    realtime.group_send(CONSOLE_GROUP, {**state, "type": "console.presence"}, what="console presence")


def close_session_consoles(*, session_key: str) -> None:
    """Close the console sockets opened with a session that has just logged out."""
    realtime.group_send(console_session_group(session_key), {"type": "console.close"}, what="a console close")


def close_user_consoles(*, user_id: int) -> None:
    """Close every console socket of a user whose password has just changed."""
    realtime.group_send(console_user_group(user_id), {"type": "console.close"}, what="a console close")
