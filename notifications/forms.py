"""The "My settings" form and the watcher form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from escalation.models import ContactProfile
from notifications.rules import EMAIL, NONE, SMS, Kind
from tickets.phones import phone_e164
from tickets.selectors import user_display_name

CHANNEL_CHOICES = [(EMAIL, _("E-mail")), (SMS, _("SMS")), (NONE, _("None"))]


class PreferenceForm(forms.Form):
    """One channel choice per kind of notification the user can receive, their language and mobile number."""

    language = forms.ChoiceField(label=_("Language"), choices=ContactProfile.Language.choices)
    mobile = forms.CharField(
        label=_("Mobile number"),
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "dir": "ltr"}),
        help_text=_("For SMS notifications, e.g. 5512 3456 or +974 5512 3456."),
    )
    sms_for_urgent = forms.BooleanField(
        label=_("Also send an SMS for P1 and P2 tickets"),
        required=False,
        help_text=_("Once you have given a mobile number."),
    )

    def __init__(self, *args: Any, kinds: tuple[Kind, ...], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kinds = kinds
        for kind in kinds:
            self.fields[f"kind_{kind.value}"] = forms.ChoiceField(
                label=kind.label, choices=CHANNEL_CHOICES, widget=forms.RadioSelect
            )

    def clean_mobile(self) -> str:
        raw = self.cleaned_data["mobile"].strip()
        if not raw:
            return ""
        try:
            return phone_e164(raw)
        except ValueError:
            raise forms.ValidationError(_("Enter a valid mobile number.")) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # "Also an SMS for P1 and P2" is on by default and waits for a mobile number; only choosing SMS as the one
        # channel of a kind needs the number now, or that kind would reach nobody.
        wants_sms = any(cleaned.get(f"kind_{kind.value}") == SMS for kind in self.kinds)
        if wants_sms and not cleaned.get("mobile") and "mobile" not in self.errors:
            self.add_error("mobile", _("Enter a mobile number to receive SMS."))
        return cleaned

    def channels(self) -> dict[str, str]:
        return {kind.value: self.cleaned_data[f"kind_{kind.value}"] for kind in self.kinds}


class ColleagueField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return user_display_name(obj)


class WatcherForm(forms.Form):
    user = ColleagueField(label=_("Colleague"), queryset=User.objects.none())

    def __init__(self, *args: Any, candidates: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, ColleagueField)
        field.queryset = candidates
