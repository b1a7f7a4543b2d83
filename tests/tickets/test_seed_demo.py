from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from escalation.models import BusinessCalendar, EscalationChain, SlaPolicy
from tickets.management.commands.seed_demo import DEMO_PASSWORD
from tickets.models import Agency, AgencyMembership, Service, Status, Team, Ticket, TicketEvent
from tickets.selectors import user_is_technician

User = get_user_model()


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, object]:
    return {
        "agencies": list(Agency.objects.values_list("code", "name_en", "name_ar").order_by("code")),
        "services": list(Service.objects.values_list("code", "team__code", "active").order_by("code")),
        "teams": list(Team.objects.values_list("code", "members__username").order_by("code", "members__username")),
        "users": list(User.objects.values_list("username", "password", "is_superuser").order_by("username")),
        "memberships": list(AgencyMembership.objects.values_list("user__username", "agency__code").order_by("pk")),
        "tickets": list(Ticket.objects.values_list("number", "status", "assignee_id", "last_event_id").order_by("pk")),
        "events": TicketEvent.objects.count(),
    }


@pytest.mark.django_db
def test_refuses_with_debug_off_unless_forced(settings):
    settings.HELPDESK_DEMO = False
    with pytest.raises(CommandError, match="HELPDESK_DEMO off"):
        seed()
    assert not User.objects.exists()
    assert not Ticket.objects.exists()

    seed("--force")
    assert Ticket.objects.exists()


@pytest.mark.django_db
def test_loads_the_catalogue_accounts_and_tickets_through_the_services(settings, client):
    settings.HELPDESK_DEMO = True
    output = seed()

    assert Agency.objects.get(code="moi").name_ar == "وزارة الداخلية"
    assert Agency.objects.filter(name_en="Hamad Medical Corporation").exists()
    names = set(Service.objects.values_list("name_en", flat=True))
    assert {"Government Network", "SMS Gateway", "National Authentication (Tawtheeq SSO)", "Office 365"} <= names
    assert Service.objects.count() == 10
    assert not Service.objects.filter(name_ar="").exists()

    manager = User.objects.get(username="manager")
    assert manager.is_staff and manager.is_superuser
    technician = User.objects.get(username="tech.network")
    assert user_is_technician(technician)
    staff = User.objects.get(username="moph.it")
    assert staff.agency_membership.agency.code == "moph"
    assert staff.agency_membership.phone == "+97444002002"
    assert not user_is_technician(staff)

    statuses = set(Ticket.objects.values_list("status", flat=True))
    assert {Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.WAITING, Status.RESOLVED, Status.CLOSED,
            Status.CANCELLED} <= statuses
    for ticket in Ticket.objects.all():
        kinds = list(ticket.events.values_list("kind", flat=True))
        assert kinds[0] == TicketEvent.Kind.OPENED
        assert ticket.last_event_id == ticket.events.latest("id").pk
    closed = Ticket.objects.get(status=Status.CLOSED)
    closed_kinds = list(closed.events.values_list("kind", flat=True))
    assert closed_kinds == ["opened", "assigned", "resolved", "commented", "closed"]

    assert DEMO_PASSWORD in output
    for username in ("manager", "tech.network", "moph.it", "hmc.it"):
        assert username in output
    assert client.login(request=HttpRequest(), username="moph.it", password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_running_twice_changes_nothing(settings):
    settings.HELPDESK_DEMO = True
    seed()
    before = snapshot()
    output = seed()
    assert snapshot() == before
    assert "0 agencies, 0 teams, 0 services, 0 accounts, 0 tickets" in output


@pytest.mark.django_db
def test_existing_accounts_keep_their_password(settings, client):
    settings.HELPDESK_DEMO = True
    seed()
    staff = User.objects.get(username="moi.it")
    staff.set_password("changed-by-the-user-1")
    staff.save()
    seed()
    assert client.login(request=HttpRequest(), username="moi.it", password="changed-by-the-user-1")
    assert not client.login(request=HttpRequest(), username="moi.it", password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_restores_the_default_calendars_and_sla_policies_and_says_so(settings):
    settings.HELPDESK_DEMO = True
    SlaPolicy.objects.all().delete()
    BusinessCalendar.objects.all().delete()
    output = seed()
    assert "SLA calendars and default policies are in place (11 rows created now)" in output
    assert set(BusinessCalendar.objects.values_list("code", flat=True)) == {"working-week", "24x7"}
    assert sorted(SlaPolicy.objects.values_list("priority", "calendar__code")) == [
        (1, "24x7"), (2, "24x7"), (3, "working-week"), (4, "working-week")
    ]
    assert "(0 rows created now)" in seed()


@pytest.mark.django_db
def test_every_team_gets_a_chain_short_enough_to_watch_with_the_manager_as_duty_manager(settings):
    settings.HELPDESK_DEMO = True
    output = seed()
    manager = User.objects.get(username="manager")
    chains = EscalationChain.objects.select_related("team", "team_lead", "duty_manager")
    assert sorted(chain.team.code for chain in chains) == sorted(Team.objects.values_list("code", flat=True))
    for chain in chains:
        assert chain.duty_manager == manager
        assert chain.team_lead in chain.team.members.all()
        steps = list(chain.steps.order_by("position"))
        assert [step.target for step in steps] == ["oncall_primary", "oncall_secondary", "duty_manager"]
        assert all(step.delay <= dt.timedelta(minutes=3) for step in steps)
    assert "Escalation chains: a P1 or P2 pages its team's on-call primary at once" in output

    chain = chains.get(team__code="network-ops")
    chain.steps.filter(position=3).delete()
    seed()
    assert EscalationChain.objects.count() == Team.objects.count()
    assert chain.steps.count() == 2  # an administrator's edit is kept


@pytest.mark.django_db
def test_the_demo_p1_is_paged_on_its_teams_chain_when_the_worker_runs(settings):
    settings.HELPDESK_DEMO = True
    seed()
    p1 = Ticket.objects.get(subject="Government Network link down at the Al Wakrah health centre")
    call_command("escalation_worker", "--once", stdout=StringIO())
    paged = p1.events.filter(kind__in=["paged", "escalated"]).order_by("id")
    # Opened 12 minutes before the seed: its three steps were all due.
    assert [event.after["roles"] for event in paged] == [["oncall_primary"], ["oncall_secondary"], ["duty_manager"]]
    assert paged.last().after["targets"] == [{"id": User.objects.get(username="manager").pk, "name": "Noora Al-Kuwari"}]
