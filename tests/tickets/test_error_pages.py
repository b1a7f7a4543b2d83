from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_unknown_ticket_is_a_404_page_with_the_site_layout_and_a_way_back(client, staff):
    client.force_login(staff)
    response = client.get("/tickets/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Not found</h1>" in html
    assert "Check the ticket number" in html
    assert 'href="/"' in html
    assert 'dir="ltr"' in html


@pytest.mark.django_db
def test_404_page_in_arabic(client, staff):
    client.force_login(staff)
    client.cookies["django_language"] = "ar"
    response = client.get("/tickets/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert 'dir="rtl"' in html
    assert "غير موجود" in html


@pytest.mark.django_db
def test_technician_on_the_agency_form_gets_a_403_page_saying_why(client, technician):
    client.force_login(technician)
    response = client.get("/tickets/new/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>Not available to you</h1>" in html
    assert "Use the console" in html
