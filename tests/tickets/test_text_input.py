"""Texts the services refuse whatever the channel they come from."""

from __future__ import annotations

import pytest

from tickets.exceptions import InvalidInput
from tickets.models import Status, Ticket, TicketEvent
from tickets.services import NOTE_MAX_LENGTH, ticket_comment, ticket_set_status


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["a\x00b", "a\ud800b", "\udfff"], ids=["nul", "high-surrogate", "low-surrogate"])
def test_a_comment_that_cannot_be_stored_is_refused_with_a_message(make_ticket, technician, body):
    ticket = make_ticket()
    with pytest.raises(InvalidInput, match=r"^The text contains a character that is not allowed\.$"):
        ticket_comment(ticket=ticket, author=technician, body=body, internal=True)
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


@pytest.mark.django_db
def test_a_surrogate_pair_is_one_character_and_is_kept(make_ticket, technician):
    ticket = make_ticket()
    comment = ticket_comment(ticket=ticket, author=technician, body="fixed \U0001f44d", internal=True)
    comment.refresh_from_db()
    assert comment.body == "fixed \U0001f44d"


@pytest.mark.django_db
def test_a_text_may_be_as_long_as_its_limit_once_trimmed(make_ticket, technician):
    ticket = make_ticket()
    note = "x" * NOTE_MAX_LENGTH
    ticket_set_status(ticket=ticket, actor=technician, status=Status.IN_PROGRESS, note=f"  {note}\n")
    assert TicketEvent.objects.filter(ticket=ticket).latest("id").after["note"] == note
    with pytest.raises(InvalidInput, match=rf"^The text is too long \(at most {NOTE_MAX_LENGTH} characters\)\.$"):
        ticket_set_status(ticket=ticket, actor=technician, status=Status.WAITING, note=note + "x")
    assert Ticket.objects.get(pk=ticket.pk).status == Status.IN_PROGRESS
    subject = "s" * 200
    assert make_ticket(subject=subject).subject == subject
    with pytest.raises(InvalidInput, match=r"at most 200 characters"):
        make_ticket(subject=subject + "s")
