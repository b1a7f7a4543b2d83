"""Writes to technicians' contact profiles."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from escalation.models import ContactProfile
from escalation.models.oncall import new_ics_token


@transaction.atomic
def contact_profile_token_regenerate(*, user: User) -> ContactProfile:
    """Give the user's calendar feed a new secret token: the old feed URL stops working at once (404). Creates the
    profile if the user has none yet."""
    profile, _created = ContactProfile.objects.get_or_create(user=user)
    profile = ContactProfile.objects.select_for_update().get(pk=profile.pk)
    profile.ics_token = new_ics_token()
    profile.save(update_fields=["ics_token"])
    return profile
