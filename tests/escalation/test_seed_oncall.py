"""The demo data's rotas and contact profiles: every team has someone on call on both layers, and seeding twice
changes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from escalation.models import ContactProfile, Rotation, RotationMember
from escalation.selectors import oncall_user, user_by_mobile
from tests.tickets.test_seed_demo import seed
from tickets.models import Team
from tickets.phones import phone_e164


def oncall_snapshot() -> dict[str, object]:
    return {
        "rotations": list(Rotation.objects.values_list("team__code", "layer", "starts_on", "length").order_by("pk")),
        "members": list(RotationMember.objects.values_list("rotation_id", "user__username", "position").order_by("pk")),
        "profiles": list(ContactProfile.objects.values_list("user__username", "mobile", "ics_token").order_by("pk")),
    }


@pytest.mark.django_db
def test_every_team_has_a_primary_and_a_secondary_on_call_who_are_different_people(settings):
    settings.HELPDESK_DEMO = True
    output = seed()
    now = timezone.now()
    for team in Team.objects.all():
        primary = oncall_user(team_id=team.pk, at=now, layer="primary")
        secondary = oncall_user(team_id=team.pk, at=now, layer="secondary")
        assert primary is not None and secondary is not None, team.code
        assert primary != secondary
        assert {primary, secondary} <= set(team.members.all())
        assert not primary.is_staff  # the duty manager is not in the rota
    assert Rotation.objects.count() == 2 * Team.objects.count()
    assert "tech.network2" in output
    assert "/oncall/" in output


@pytest.mark.django_db
def test_technicians_have_contact_profiles_with_qatar_mobiles(settings):
    settings.HELPDESK_DEMO = True
    seed()
    for team in Team.objects.all():
        for member in team.members.all():
            profile = member.contact_profile
            assert profile.mobile.startswith("+9745")
            assert phone_e164(profile.mobile) == profile.mobile
            assert user_by_mobile(phone=profile.mobile[4:]) == member
    assert set(ContactProfile.objects.values_list("language", flat=True)) == {"ar", "en"}


@pytest.mark.django_db
def test_seeding_twice_creates_no_second_rota_or_profile(settings):
    settings.HELPDESK_DEMO = True
    seed()
    before = oncall_snapshot()
    output = seed()
    assert oncall_snapshot() == before
    assert "0 rotas, 0 contact profiles" in output
