"""The filters of the ticket list. They narrow a queryset that is already limited to what the user may see."""

from __future__ import annotations

import re

import django_filters
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from tickets.models import Priority, Service, Status, Ticket
from tickets.selectors import by_name

_REFERENCE = re.compile(r"(?:HD)?\s*-?\s*(\d{1,18})", re.IGNORECASE)


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_text",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Number, subject or description")}),
    )
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices, empty_label=_("Any status"))
    priority = django_filters.ChoiceFilter(
        label=_("Priority"), choices=Priority.choices, empty_label=_("Any priority")
    )
    service = django_filters.ModelChoiceFilter(
        label=_("Service"), queryset=lambda request: by_name(Service.objects.all()), empty_label=_("Any service")
    )
    opened_from = django_filters.DateFilter(
        label=_("Opened from"),
        field_name="opened_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    opened_to = django_filters.DateFilter(
        label=_("Opened to"),
        field_name="opened_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def filter_text(self, queryset: QuerySet[Ticket], name: str, value: str) -> QuerySet[Ticket]:
        """Match the words in the subject or description; a ticket number (`104233`, `HD-104233`) matches that
        ticket too."""
        value = value.strip()
        if not value:
            return queryset
        condition = Q(subject__icontains=value) | Q(description__icontains=value)
        reference = _REFERENCE.fullmatch(value)
        if reference:
            condition |= Q(number=int(reference.group(1)))
        return queryset.filter(condition)
