"""Texts the services refuse whatever the channel they come from."""

from __future__ import annotations

import pytest

from tickets.exceptions import InvalidInput
from tickets.models import TicketEvent
from tickets.services import ticket_comment


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["a\x00b", "a\ud800b", "\udfff"], ids=["nul", "high-surrogate", "low-surrogate"])
def test_a_comment_that_cannot_be_stored_is_refused_with_a_message(make_ticket, technician, body):
    ticket = make_ticket()
    with pytest.raises(InvalidInput, match="a character that is not allowed"):
        ticket_comment(ticket=ticket, author=technician, body=body, internal=True)
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_a_surrogate_pair_is_one_character_and_is_kept(make_ticket, technician):
    ticket = make_ticket()
    comment = ticket_comment(ticket=ticket, author=technician, body="fixed \U0001f44d", internal=True)
    comment.refresh_from_db()
    assert comment.body == "fixed \U0001f44d"
