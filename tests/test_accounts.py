"""The account pages: what exists, and what is refused."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/password_reset/", "/accounts/password_reset/done/", "/accounts/reset/MQ/set-password/",
             "/accounts/reset/done/"]
)
def test_password_reset_pages_are_gone_while_no_mail_can_be_sent(client, path):
    # They said "sent" while nothing could be sent; they come back with the notifications' mail.
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "staff@example.gov.qa"}).status_code == 404


@pytest.mark.django_db
def test_login_page_points_to_the_administrator_for_a_forgotten_password(client):
    html = client.get("/accounts/login/").content.decode()
    assert "Ask your agency's helpdesk administrator" in html
    assert "password_reset" not in html
