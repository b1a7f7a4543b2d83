"""The console socket's dispatch loop: one message at a time, in the order they came in, from the socket and the
channel layer, without a task per message."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from channels.exceptions import StopConsumer

from tickets.console.consumers import _dispatch_in_order


class Source:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def __call__(self) -> dict[str, Any]:
        message = await self.queue.get()
        if message["type"] == "broken":
            raise RuntimeError("the channel layer failed")
        return message


async def test_messages_are_dispatched_one_at_a_time_in_the_order_they_came():
    socket, layer = Source(), Source()
    handled: list[str] = []
    busy = False

    async def dispatch(message: dict[str, Any]) -> None:
        nonlocal busy
        assert not busy, "two messages dispatched at once"
        busy = True
        await asyncio.sleep(0.001)  # a handler that waits: what comes meanwhile waits for it
        handled.append(message["type"])
        busy = False
        if message["type"] == "websocket.disconnect":
            raise StopConsumer

    loop = asyncio.get_running_loop()
    created = 0
    default_factory = loop.get_task_factory()

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task:
        nonlocal created
        created += 1
        return default_factory(loop, coro, **kwargs) if default_factory else asyncio.Task(coro, loop=loop, **kwargs)

    loop.set_task_factory(counting_factory)
    try:
        running = asyncio.ensure_future(_dispatch_in_order([socket, layer], dispatch))
        expected = []
        for n in range(50):
            source, kind = (socket, "websocket.receive") if n % 3 == 0 else (layer, "ticket.event")
            source.queue.put_nowait({"type": kind})
            expected.append(kind)
            await asyncio.sleep(0)
        socket.queue.put_nowait({"type": "websocket.disconnect"})
        with pytest.raises(StopConsumer):
            await asyncio.wait_for(running, timeout=5)
    finally:
        loop.set_task_factory(default_factory)
    # The loop itself, and one reader for each source however many messages came.
    assert created == 3
    assert handled == [*expected, "websocket.disconnect"]


async def test_a_failing_source_ends_the_loop_with_its_error_and_stops_the_readers():
    socket, layer = Source(), Source()
    running = asyncio.ensure_future(_dispatch_in_order([socket, layer], lambda message: asyncio.sleep(0)))
    layer.queue.put_nowait({"type": "broken"})
    with pytest.raises(RuntimeError, match="the channel layer failed"):
        await asyncio.wait_for(running, timeout=5)
    readers = [task for task in asyncio.all_tasks() if "pump" in task.get_coro().__qualname__]  # type: ignore[union-attr]
    assert readers == []
