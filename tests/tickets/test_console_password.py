"""A changed password ends every session of the user, and with them every console socket: at once when the password
is changed through Django, and at the next heartbeat whatever way it changed (the heartbeat checks the session's
password hash as Django's get_user does)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User

from tests.tickets.test_console_hardening import closed_with
from tests.tickets.test_console_socket import receive, technician_socket

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("require_redis_layer")]


async def test_a_socket_whose_password_changed_underneath_is_closed_at_its_heartbeat(technician, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 0.2
    communicator, _snapshot = await technician_socket(technician)
    # Written straight to the table: no signal, only the heartbeat can notice.
    await database_sync_to_async(
        lambda: User.objects.filter(pk=technician.pk).update(password=make_password("a-new-password-2026"))
    )()
    assert await closed_with(communicator) == 4401
    await communicator.disconnect()


async def test_changing_the_password_closes_every_console_of_that_user_at_once(technician, other_technician,
                                                                                settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 3600
    first, _snapshot = await technician_socket(technician)
    second, _snapshot = await technician_socket(technician)
    colleague, _snapshot = await technician_socket(other_technician)

    def change_password() -> None:
        user = User.objects.get(pk=technician.pk)
        user.set_password("a-new-password-2026")
        user.save()

    await database_sync_to_async(change_password)()
    assert await closed_with(first) == 4401
    assert await closed_with(second) == 4401
    await colleague.send_json_to({"type": "resync", "since": 0})
    assert (await receive(colleague, "resync"))["type"] == "resync"
    for communicator in (first, second, colleague):
        await communicator.disconnect()


async def test_saving_a_user_without_changing_the_password_closes_nothing(technician, settings):
    settings.HELPDESK_CONSOLE_HEARTBEAT_SECONDS = 3600
    communicator, snapshot = await technician_socket(technician)

    def rename() -> None:
        user = User.objects.get(pk=technician.pk)
        user.first_name = "Aisha"
        user.save()

    await database_sync_to_async(rename)()
    await communicator.send_json_to({"type": "resync", "since": snapshot["cursor"]})
    assert (await receive(communicator, "resync"))["events"] == []
    await communicator.disconnect()
