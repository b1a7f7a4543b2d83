"""The console's form for a ticket a technician opens for someone else: a caller, a visitor at the desk, an e-mail."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.forms import AttachmentsField, ServiceChoiceField, attachments_help_text, normalize_phone
from tickets.models import Agency, Channel, Level, Service
from tickets.selectors import user_agency, user_display_name

# How a request reaches a technician who types it in.
INTAKE_CHANNELS = (Channel.PHONE, Channel.WALK_IN, Channel.EMAIL)


class AgencyChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Agency) -> str:
        return obj.name


class RequesterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return user_display_name(obj)


def _levels() -> list[tuple[Any, Any]]:
    return [("", _("Choose…")), *Level.choices]


class ConsoleTicketForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How the request came in"),
        choices=[(channel.value, channel.label) for channel in INTAKE_CHANNELS],
        initial=Channel.PHONE,
        widget=forms.RadioSelect,
    )
    agency = AgencyChoiceField(
        label=_("Agency"),
        queryset=Agency.objects.filter(active=True),
        empty_label=_("Choose the agency…"),
    )
    requester = RequesterChoiceField(
        label=_("Requester"),
        queryset=get_user_model().objects.filter(is_active=True, agency_membership__isnull=False),
        required=False,
        empty_label=_("Not a registered member: give a name and phone"),
    )
    requester_name = forms.CharField(label=_("Requester's name"), max_length=200, required=False)
    contact_phone = forms.CharField(
        label=_("Contact phone"),
        max_length=32,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "dir": "ltr"}),
    )
    service = ServiceChoiceField(
        label=_("Service"),
        queryset=Service.objects.filter(active=True),
        empty_label=_("Choose the affected service…"),
    )
    impact = forms.TypedChoiceField(label=_("Impact"), choices=_levels, coerce=int)
    urgency = forms.TypedChoiceField(label=_("Urgency"), choices=_levels, coerce=int)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    attachments = AttachmentsField(label=_("Attachments"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["attachments"].help_text = attachments_help_text()
        # Listed in the order of the names the page shows.
        name = "name_ar" if (get_language() or "en").startswith("ar") else "name_en"
        for field in ("agency", "service"):
            choices = self.fields[field]
            choices.queryset = choices.queryset.order_by(name)  # type: ignore[attr-defined]
        if not self.is_bound:
            # The page lists an agency's members once the agency is chosen (console:agency_members), not everyone's.
            requester = self.fields["requester"]
            requester.queryset = requester.queryset.none()  # type: ignore[attr-defined]

    def clean_contact_phone(self) -> str:
        return normalize_phone(self.cleaned_data["contact_phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        requester = data.get("requester")
        agency = data.get("agency")
        if requester is not None and agency is not None:
            member_of = user_agency(requester)
            if member_of is None or member_of.pk != agency.pk:
                self.add_error("requester", ValidationError(_("This person is not a member of that agency.")))
        if requester is None and not data.get("requester_name", "").strip():
            self.add_error(
                "requester_name", ValidationError(_("Choose a member of the agency, or give the requester's name."))
            )
        if requester is None and not data.get("contact_phone") and "contact_phone" not in self.errors:
            self.add_error("contact_phone", ValidationError(_("Give a number to call the requester back on.")))
        return data
