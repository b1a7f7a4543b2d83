"""factory_boy factories for the domain. Tickets are opened through the service, as users open them."""

from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from escalation.models import Rotation, RotationMember
from tickets.models import Agency, AgencyMembership, Service, Team

PASSWORD = "correct-horse-battery"  # noqa: S105 (test accounts only)

class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.gov.qa")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()

class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"agency-{n}")
    name_en = factory.Sequence(lambda n: f"Ministry {n}")
    name_ar = factory.Sequence(lambda n: f"الوزارة {n}")

class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"team-{n}")
    name_en = factory.Sequence(lambda n: f"Team {n}")
    name_ar = factory.Sequence(lambda n: f"الفريق {n}")

class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"service-{n}")
    name_en = factory.Sequence(lambda n: f"Service {n}")
    name_ar = factory.Sequence(lambda n: f"الخدمة {n}")
    team = factory.SubFactory(TeamFactory)

def staff_of(agency: Agency, **kwargs):
    user = UserFactory(**kwargs)
    AgencyMembership.objects.update_or_create(user=user, defaults={"agency": agency})
    return user

def technician_of(team: Team, **kwargs):
    user = UserFactory(**kwargs)
    team.members.add(user)
    return user

def rotation_of(team: Team, members: list, **kwargs):
    """An on-call rotation of `team` with `members` (users) in that order. Defaults: primary, weekly, handing off
    at 08:00 Asia/Qatar from 2026-03-01."""
    values = {"layer": "primary", "starts_on": dt.date(2026, 3, 1), "handoff_time": dt.time(8, 0), "length": "weekly"}
    rotation = Rotation.objects.create(team=team, **{**values, **kwargs})
    RotationMember.objects.bulk_create(
        RotationMember(rotation=rotation, user=user, position=position) for position, user in enumerate(members)
    )
    return rotation


def person_ref(user, *, arabic: str = "") -> dict:
    """A user as the live console names them: in the page's language and in each language."""
    name = user.get_full_name()
    return {"id": user.pk, "name": name, "names": {"en": name, "ar": arabic or name}}
