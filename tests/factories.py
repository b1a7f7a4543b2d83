"""factory_boy factories for the domain. Tickets are opened through the service, as users open them."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

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
