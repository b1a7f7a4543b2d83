"""Finding tickets for technicians from one box: a ticket number (`HD-100123` or its digits), words of the subject
or description (PostgreSQL full-text search in English and Arabic, a plain substring match elsewhere), a requester's
name, or a phone number however it is written. Closed tickets are found too; only tickets the user may see are."""

from __future__ import annotations

import operator
import re
from functools import reduce

from django.contrib.auth.models import AnonymousUser, User
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, FloatField, Q, QuerySet, Value, When

from tickets.models import Ticket
from tickets.selectors import ticket_list_for

SEARCH_LIMIT = 20
QUERY_MAX_LENGTH = 200
# The text search configurations a ticket is indexed in: its words stemmed as English and as Arabic.
TEXT_CONFIGS = ("english", "arabic")
# A local Qatar number has eight digits; a query with fewer digits is not taken for a phone number.
PHONE_DIGITS = 8
_REFERENCE = re.compile(r"^(?:HD)?[-\s#]*(\d{1,18})$", re.IGNORECASE)
_PHONE_PUNCTUATION = re.compile(r"[\s\-().+/]")
# Arabic-Indic and Eastern Arabic-Indic digits, as an Arabic keyboard types them.
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _phone_digits(query: str) -> str:
    """The digits of a query that is only a phone number (spaces, dashes, brackets, `+` allowed), else ""."""
    bare = _PHONE_PUNCTUATION.sub("", query)
    return bare if bare.isdigit() and len(bare) >= PHONE_DIGITS else ""


def _phone_match(digits: str) -> Q:
    """Numbers are stored in E.164 (`tickets.phones`): the last eight digits identify a number in any writing."""
    tail = digits[-PHONE_DIGITS:]
    return (
        Q(caller_phone__endswith=tail)
        | Q(contact_phone__endswith=tail)
        | Q(requester__agency_membership__phone__endswith=tail)
    )


def _person_match(query: str) -> Q:
    return (
        Q(requester_name__icontains=query)
        | Q(requester__first_name__icontains=query)
        | Q(requester__last_name__icontains=query)
        | Q(requester__username__iexact=query)
    )


def _text_search(tickets: QuerySet[Ticket], query: str) -> QuerySet[Ticket]:
    """Tickets whose subject or description has the query's words (stemmed, in English or Arabic), or its text, or
    whose requester it names; ranked best first."""
    if connection.vendor != "postgresql":
        plain = Q(subject__icontains=query) | Q(description__icontains=query) | _person_match(query)
        return tickets.filter(plain).annotate(rank=Value(0.0, output_field=FloatField()))
    matched = Q(subject__icontains=query) | _person_match(query)
    ranks = []
    for config in TEXT_CONFIGS:
        vector = SearchVector("subject", weight="A", config=config) + SearchVector(
            "description", weight="B", config=config
        )
        words = SearchQuery(query, search_type="websearch", config=config)
        tickets = tickets.alias(**{f"vector_{config}": vector})
        matched |= Q(**{f"vector_{config}": words})
        ranks.append(SearchRank(vector, words))
    return tickets.filter(matched).annotate(rank=reduce(operator.add, ranks))


def ticket_search(*, user: User | AnonymousUser, query: str, limit: int = SEARCH_LIMIT) -> list[Ticket]:
    """The tickets `user` may see that match `query`, open or not: the numbered ticket first, then the best text
    matches, newest first among equals."""
    query = query.translate(_DIGITS).strip()[:QUERY_MAX_LENGTH]
    if not query:
        return []
    visible = ticket_list_for(user).select_related("escalation")
    reference = _REFERENCE.match(query)
    phone = _phone_digits(query)
    if reference is None and not phone:
        found = _text_search(visible, query)
    else:
        number = int(reference.group(1)) if reference else None
        match = Q(number=number) if number is not None else Q(pk__in=[])
        if phone:
            match |= _phone_match(phone)
        found = visible.filter(match).annotate(
            rank=Case(When(number=number, then=Value(1.0)), default=Value(0.0), output_field=FloatField())
        )
    return list(found.order_by(F("rank").desc(), "-opened_at", "-number")[:limit])
