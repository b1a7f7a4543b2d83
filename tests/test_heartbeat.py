"""helpdesk.heartbeat: the sockets of a process beat together, and a socket that joins while the last one leaves
still beats."""

from __future__ import annotations

import asyncio

from helpdesk.heartbeat import ProcessHeartbeat


class Socket:
    def __init__(self, name: str) -> None:
        self.name = name
        self.beats: list[int] = []

    def beat_state(self) -> str:
        return self.name

    async def beat_done(self, shared: int, outcome: str) -> None:
        assert outcome == self.name
        self.beats.append(shared)


def trip(states: list[str]) -> tuple[int, list[str]]:
    return len(states), states


async def test_sockets_beat_together_with_what_the_trip_found_for_each():
    heartbeat = ProcessHeartbeat(name="Test", period=lambda: 0.01, trip=trip)
    first, second = Socket("first"), Socket("second")
    heartbeat.join(first)
    heartbeat.join(second)
    await asyncio.sleep(0.1)
    assert first.beats and second.beats and set(first.beats) == {2}
    await heartbeat.leave(first)
    await heartbeat.leave(second)


async def test_a_socket_that_joins_while_the_last_one_leaves_still_beats():
    heartbeat = ProcessHeartbeat(name="Test", period=lambda: 0.01, trip=trip)
    leaving, joining = Socket("leaving"), Socket("joining")
    heartbeat.join(leaving)
    await asyncio.sleep(0.05)
    # The last socket's leave cancels the task and waits for it; the new socket joins before the task has ended.
    leave = asyncio.ensure_future(heartbeat.leave(leaving))
    await asyncio.sleep(0)
    heartbeat.join(joining)
    await leave
    await asyncio.sleep(0.1)
    assert joining.beats, "the socket that joined was left without a heartbeat"
    await heartbeat.leave(joining)
    assert [task for task in asyncio.all_tasks() if task.get_name() == "Test heartbeat"] == []
