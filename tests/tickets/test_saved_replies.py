"""Saved replies: written in both languages in the admin, per team or shared, offered in the console's reply box."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from tests.factories import PASSWORD, TeamFactory, technician_of
from tests.tickets.test_console_http import logged_in
from tickets.models import SavedReply

pytestmark = pytest.mark.django_db



def reply(name: str, **kwargs) -> SavedReply:
    values = {"name_ar": f"{name} (ar)", "body_en": f"{name} text", "body_ar": f"نص {name}", **kwargs}
    return SavedReply.objects.create(name_en=name, **values)


def test_a_technician_is_offered_the_shared_replies_and_their_teams_in_both_languages(technician, team):
    other_team = TeamFactory(code="data-centre")
    shared = reply("Restart the router")
    ours = reply("Escalated to the vendor", team=team)
    reply("Theirs", team=other_team)
    reply("Retired", active=False)

    offered = logged_in(technician).get("/console/").context["console_config"]["saved_replies"]

    assert [item["id"] for item in offered] == [ours.pk, shared.pk]
    assert offered[1] == {
        "id": shared.pk,
        "name_en": "Restart the router",
        "name_ar": "Restart the router (ar)",
        "body_en": "Restart the router text",
        "body_ar": "نص Restart the router",
    }


def test_saved_replies_are_managed_in_the_admin(team):
    admin = get_user_model().objects.create_superuser("boss", "boss@example.gov.qa", PASSWORD)
    client = logged_in(admin)
    response = client.post(
        "/admin/tickets/savedreply/add/",
        {
            "name_en": "Password reset",
            "name_ar": "إعادة تعيين كلمة المرور",
            "team": team.pk,
            "body_en": "Your password was reset.",
            "body_ar": "أُعيد تعيين كلمة المرور.",
            "active": "on",
        },
    )
    assert response.status_code == 302, response.content
    saved = SavedReply.objects.get()
    assert (saved.team, saved.body_ar) == (team, "أُعيد تعيين كلمة المرور.")
    assert client.get("/admin/tickets/savedreply/").status_code == 200


def test_a_technician_of_several_teams_gets_each_reply_once(technician, team):
    second = TeamFactory(code="identity")
    second.members.add(technician)
    reply("Shared")
    reply("Identity", team=second)
    reply("Network", team=team)
    offered = logged_in(technician_of(team, username="plain")).get("/console/").context["console_config"]
    assert [item["name_en"] for item in offered["saved_replies"]] == ["Network", "Shared"]
    both = logged_in(technician).get("/console/").context["console_config"]["saved_replies"]
    assert [item["name_en"] for item in both] == ["Identity", "Network", "Shared"]
