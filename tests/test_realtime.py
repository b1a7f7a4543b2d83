from __future__ import annotations

import logging

import pytest
from asgiref.sync import async_to_sync
from channels.layers import channel_layers, get_channel_layer
from django.db import transaction

from helpdesk import realtime
from tickets.models import Ticket, TicketEvent

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
UNREACHABLE_REDIS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0", "socket_timeout": None}]},
    }
}


@pytest.fixture
def layer_settings(settings):
    def use(config):
        settings.CHANNEL_LAYERS = config
        channel_layers.backends.clear()
        return get_channel_layer()

    yield use
    channel_layers.backends.clear()


def subscribe(layer) -> str:
    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add(realtime.CONSOLE_GROUP, channel)
        return channel

    return async_to_sync(join)()


def queued(layer, channel: str) -> int:
    queue = layer.channels.get(channel)
    return queue.qsize() if queue is not None else 0



@pytest.mark.django_db(transaction=True)
def test_event_is_published_only_after_commit(layer_settings, make_ticket):
    layer = layer_settings(IN_MEMORY)
    channel = subscribe(layer)
    with transaction.atomic():
        ticket = make_ticket()
        assert queued(layer, channel) == 0
    message = async_to_sync(layer.receive)(channel)
    assert message["type"] == "ticket.event"
    assert message["ticket"]["number"] == ticket.number
    assert message["cursor"] == TicketEvent.objects.get(ticket=ticket).pk


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_is_never_published(layer_settings, make_ticket):
    layer = layer_settings(IN_MEMORY)
    channel = subscribe(layer)
    with pytest.raises(RuntimeError), transaction.atomic():
        make_ticket()
        raise RuntimeError("abort")
    assert Ticket.objects.count() == 0
    assert queued(layer, channel) == 0


@pytest.mark.django_db(transaction=True)
def test_unreachable_channel_layer_loses_no_ticket(layer_settings, make_ticket, caplog):
    layer_settings(UNREACHABLE_REDIS)
    with caplog.at_level(logging.WARNING, logger="helpdesk.realtime"):
        ticket = make_ticket()
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1
    assert "Could not publish ticket event" in caplog.text
