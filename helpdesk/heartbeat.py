"""Heartbeats of sockets, one per process: the sockets of a kind that share an event loop (one daphne process) beat
together, one trip to the database a period for all of them. Beating one by one, each socket cost a thread hop and
a few queries a period, and a thousand idle sockets on two processes took more than half of each process's core.

A socket that joins a heartbeat has `beat_state()`, what the trip needs of it, read on the event loop, and
`beat_done(shared, outcome)`, which acts on what the trip found for it. Imports no app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from channels.db import database_sync_to_async

logger = logging.getLogger(__name__)


class Beating(Protocol):
    def beat_state(self) -> Any: ...

    async def beat_done(self, shared: Any, outcome: Any) -> None: ...


class _LoopBeat:
    """The sockets of one kind on one event loop, and the task that beats them."""

    def __init__(self) -> None:
        self.sockets: set[Beating] = set()
        self.task: asyncio.Task | None = None
        # The trip under way, if any; a socket that leaves waits for it, as it may write that socket's rows.
        self.underway: asyncio.Future | None = None


class ProcessHeartbeat:
    """The heartbeat of one kind of socket. Every `period()` seconds, `trip` runs on the database thread with the
    states of all the kind's sockets on the loop and returns what they share and one outcome per socket, in order;
    `after`, if given, then runs on the loop with the shared part. A failed trip is logged and skipped: the next
    period tries again."""

    def __init__(
        self,
        *,
        name: str,
        period: Callable[[], float],
        trip: Callable[[list[Any]], tuple[Any, list[Any]]],
        after: Callable[[Any], None] | None = None,
    ) -> None:
        self.name = name
        self.period = period
        self.trip = trip
        self.after = after
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopBeat] = weakref.WeakKeyDictionary()

    def join(self, socket: Beating) -> None:
        loop = asyncio.get_running_loop()
        beat = self._loops.setdefault(loop, _LoopBeat())
        beat.sockets.add(socket)
        # A task being cancelled (the last socket is leaving, in a turn of the loop before this one) ends at its next
        # await: a socket that joins meanwhile needs a task of its own.
        if beat.task is None or beat.task.done() or beat.task.cancelling():
            beat.task = loop.create_task(self._run(beat), name=f"{self.name} heartbeat")

    async def leave(self, socket: Beating) -> None:
        beat = self._loops.get(asyncio.get_running_loop())
        if beat is None or socket not in beat.sockets:
            return
        beat.sockets.discard(socket)
        if beat.underway is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(beat.underway)
        task = beat.task
        if not beat.sockets and task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, beat: _LoopBeat) -> None:
        while True:
            await asyncio.sleep(self.period())
            sockets = list(beat.sockets)
            try:
                states = [socket.beat_state() for socket in sockets]
                beat.underway = asyncio.ensure_future(database_sync_to_async(self.trip)(states))
                shared, outcomes = await asyncio.shield(beat.underway)
            except Exception:
                # A database hiccup skips one heartbeat; the next one tries again.
                logger.warning("%s heartbeat failed", self.name, exc_info=True)
                continue
            finally:
                beat.underway = None
            if self.after is not None:
                self.after(shared)
            for socket, outcome in zip(sockets, outcomes, strict=True):
                try:
                    await socket.beat_done(shared, outcome)
                except Exception:
                    logger.warning("%s heartbeat failed for one socket", self.name, exc_info=True)
