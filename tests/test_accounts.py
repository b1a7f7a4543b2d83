"""The account pages: what exists, and what is refused."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_login_page_offers_the_password_reset_and_points_to_the_administrator_for_an_account(client):
    html = client.get("/accounts/login/").content.decode()
    assert "Ask your agency's helpdesk administrator" in html
    assert 'href="/accounts/password_reset/"' in html
