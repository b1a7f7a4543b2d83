"""The console socket opens only for pages of this site: the whole Origin (scheme, host and port) must be the public
URL's or a CSRF trusted origin's."""

from __future__ import annotations

import pytest

from tests.tickets.test_console_socket import open_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_redis_layer")]


@pytest.fixture
def deployed(settings):
    settings.ALLOWED_HOSTS = ["helpdesk.example.gov.qa", ".moi.gov.qa", "127.0.0.1"]
    settings.HELPDESK_PUBLIC_URL = "https://helpdesk.example.gov.qa"
    settings.CSRF_TRUSTED_ORIGINS = ["https://*.moi.gov.qa"]


@pytest.mark.parametrize(
    "origin",
    ["https://helpdesk.example.gov.qa", "https://helpdesk.example.gov.qa:443", "https://portal.moi.gov.qa"],
)
async def test_a_page_of_the_site_opens_the_socket(deployed, technician, origin):
    communicator, connected = await open_socket(technician, origin=(b"origin", origin.encode()))
    assert connected
    await communicator.disconnect()


@pytest.mark.parametrize(
    "origin",
    [
        "http://helpdesk.example.gov.qa",
        "https://helpdesk.example.gov.qa:8443",
        "https://moi.gov.qa.evil.example",
        "http://portal.moi.gov.qa",
        "http://127.0.0.1:8000",
        "null",
    ],
    ids=["other-scheme", "other-port", "lookalike-host", "trusted-host-other-scheme", "allowed-host-only", "null"],
)
async def test_another_origin_is_refused_even_on_an_allowed_host(deployed, technician, origin):
    communicator, connected = await open_socket(technician, origin=(b"origin", origin.encode()))
    assert not connected
    await communicator.disconnect()


async def test_a_local_page_on_another_port_is_refused(technician):
    communicator, connected = await open_socket(technician, origin=(b"origin", b"http://127.0.0.1:9999"))
    assert not connected
    await communicator.disconnect()
