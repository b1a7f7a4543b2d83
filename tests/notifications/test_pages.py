"""The "My settings" page and watchers on the agency ticket page."""

from __future__ import annotations

import re

import pytest

from escalation.models import ContactProfile
from notifications.models import NotificationPreference, Watcher
from tests.factories import staff_of


@pytest.mark.django_db
def test_settings_page_shows_sensible_defaults(client, staff):
    client.force_login(staff)
    html = client.get("/settings/", headers={"accept-language": "en"}).content.decode()
    assert "My settings" in html
    assert 'name="kind_reply" value="email" required id="id_kind_reply_0" checked' in html
    assert re.search(r'<input[^>]*name="sms_for_urgent"[^>]*\bchecked', html)
    # Agency staff choose the kinds a requester receives, not a technician's.
    assert "kind_assigned" not in html


@pytest.mark.django_db
def test_settings_page_saves_choices_language_and_mobile(client, staff):
    client.force_login(staff)
    data = {"language": "ar", "mobile": "5512 3456", "sms_for_urgent": "on"}
    data |= {f"kind_{kind}": "email" for kind in ("opened", "waiting", "resolved", "closed", "cancelled")}
    data["kind_reply"] = "sms"
    response = client.post("/settings/", data, follow=True)
    assert response.redirect_chain == [("/settings/", 302)]
    assert "حُفظت إعداداتك" in response.content.decode()
    profile = ContactProfile.objects.get(user=staff)
    assert (profile.language, profile.mobile) == ("ar", "+97455123456")
    assert NotificationPreference.objects.get(user=staff).channels["reply"] == "sms"


@pytest.mark.django_db
def test_a_user_without_a_mobile_saves_the_defaults_with_another_language(client, staff):
    client.force_login(staff)
    form = client.get("/settings/", headers={"accept-language": "en"}).context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    assert data["sms_for_urgent"] is True and data["mobile"] == ""
    response = client.post("/settings/", {**data, "language": "ar"}, follow=True)
    assert response.redirect_chain == [("/settings/", 302)]
    assert "حُفظت إعداداتك" in response.content.decode()
    assert ContactProfile.objects.get(user=staff).language == "ar"
    assert NotificationPreference.objects.get(user=staff).sms_for_urgent


@pytest.mark.django_db
def test_settings_page_refuses_sms_without_a_valid_mobile(client, staff):
    client.force_login(staff)
    data = {"language": "en", "mobile": "12", **{f"kind_{k}": "email" for k in ("opened", "reply", "waiting")}}
    data |= {"kind_closed": "none", "kind_cancelled": "none"}
    response = client.post("/settings/", {**data, "kind_resolved": "sms"})
    assert response.status_code == 400
    assert "Enter a valid mobile number." in response.content.decode()
    response = client.post("/settings/", {**data, "mobile": "", "kind_resolved": "sms"})
    assert "Enter a mobile number to receive SMS." in response.content.decode()
    assert not NotificationPreference.objects.exists()


@pytest.mark.django_db
def test_technicians_choose_their_own_kinds(client, technician):
    client.force_login(technician)
    html = client.get("/settings/").content.decode()
    assert "kind_assigned" in html and "kind_breach" in html and "kind_opened" not in html


@pytest.mark.django_db
def test_staff_add_a_colleague_of_their_agency_as_watcher(client, staff, agency, other_staff, make_ticket):
    colleague = staff_of(agency, username="colleague", first_name="Mariam", last_name="Al-Kuwari")
    ticket = make_ticket()
    client.force_login(staff)
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert "Mariam Al-Kuwari" in html and other_staff.get_full_name() not in html
    response = client.post(f"/tickets/{ticket.number}/watchers/", {"user": colleague.pk})
    assert response.status_code == 302
    assert Watcher.objects.filter(ticket=ticket, user=colleague).exists()
    # Another agency's member cannot be added, nor can another agency's staff add anyone.
    client.post(f"/tickets/{ticket.number}/watchers/", {"user": other_staff.pk})
    assert not Watcher.objects.filter(user=other_staff).exists()
    client.force_login(other_staff)
    assert client.post(f"/tickets/{ticket.number}/watchers/", {"user": other_staff.pk}).status_code == 404
    client.force_login(staff)
    client.post(f"/tickets/{ticket.number}/watchers/{colleague.pk}/remove/")
    assert not Watcher.objects.exists()
