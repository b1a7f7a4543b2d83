"""Named errors of the ticket domain. Each carries a message fit to show a user, in their language."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class TicketError(Exception):
    default_message = _("The ticket could not be changed.")

    def __init__(self, message: str | None = None) -> None:
        self.message = str(message or self.default_message)
        super().__init__(self.message)


class InvalidTransition(TicketError):
    default_message = _("That status change is not allowed.")


class StaleTicket(TicketError):
    default_message = _("The ticket changed while you were looking at it. Reload it and try again.")


class AlreadyClaimed(TicketError):
    default_message = _("Another technician has already taken this ticket.")


class NotAllowed(TicketError):
    default_message = _("You are not allowed to do that.")


class InvalidInput(TicketError):
    default_message = _("The request is not valid.")


class AgencySuspended(NotAllowed):
    default_message = _(
        "Your agency's access to the helpdesk is suspended. Ask the helpdesk administrators to restore it."
    )
