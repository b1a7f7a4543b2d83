"""The one place that decides what a caller or an SMS sender is told when something fails. A refusal of the ticket
domain (`TicketError`) carries its own message, already in the caller's language; anything else is our fault, is
logged with its traceback, and gets the generic apology (the empty string here)."""

from __future__ import annotations

import logging

from tickets.exceptions import TicketError

logger = logging.getLogger(__name__)


def caller_message(error: Exception) -> str:
    if isinstance(error, TicketError):
        return error.message
    logger.error("The hotline could not answer a request", exc_info=error)
    return ""
