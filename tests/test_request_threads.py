"""Each HTTP request's synchronous code runs on one thread, in one hop from the event loop (`OneHopASGIHandler`), on a
thread kept for later requests (`RequestThreads`)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import AsyncToSync, sync_to_async
from channels.testing import HttpCommunicator

from helpdesk.asgi import application
from helpdesk.middleware import RequestThreads


def app_recording(threads: list[int], *, barrier: threading.Barrier | None = None):
    """An ASGI app whose request runs two synchronous steps (as Django's middleware and view do) and records the
    thread of each; with a barrier, the first step waits until as many requests are inside it at once."""

    def step() -> None:
        threads.append(threading.get_ident())
        if barrier is not None:
            barrier.wait(timeout=10)

    async def app(scope, receive, send) -> None:
        await sync_to_async(step)()
        await sync_to_async(lambda: threads.append(threading.get_ident()))()

    return app


async def request(app) -> None:
    await app({"type": "http", "path": "/"}, None, None)


async def test_a_request_runs_on_one_thread_and_the_next_request_reuses_it():
    threads: list[int] = []
    app = RequestThreads(app_recording(threads))
    await request(app)
    await request(app)
    assert len(threads) == 4
    assert len(set(threads)) == 1
    assert threads[0] != threading.get_ident()


async def test_requests_at_the_same_time_each_get_a_thread_of_their_own():
    threads: list[int] = []
    app = RequestThreads(app_recording(threads, barrier=threading.Barrier(3)))
    # Each request's first step waits until all three are inside it: on a shared thread they would never meet.
    await asyncio.wait_for(asyncio.gather(*(request(app) for _ in range(3))), timeout=20)
    assert len(set(threads[:3])) == 3


async def test_threads_beyond_those_kept_are_ended():
    threads: list[int] = []
    app = RequestThreads(app_recording(threads, barrier=threading.Barrier(3)), keep=1)
    await asyncio.wait_for(asyncio.gather(*(request(app) for _ in range(3))), timeout=20)
    burst = set(threads)
    assert len(burst) == 3
    deadline = asyncio.get_running_loop().time() + 10
    while len(burst & {thread.ident for thread in threading.enumerate()}) > 1:
        assert asyncio.get_running_loop().time() < deadline, "the threads beyond the one kept did not end"
        await asyncio.sleep(0.05)
    threads.clear()
    app.application = app_recording(threads)
    await request(app)
    assert set(threads) < burst


@pytest.mark.django_db
async def test_a_page_runs_its_middleware_and_view_without_going_back_to_the_event_loop(monkeypatch):
    back_to_the_loop = []
    call = AsyncToSync.__call__

    def counted(self, *args, **kwargs):
        back_to_the_loop.append(self.awaitable)
        return call(self, *args, **kwargs)

    monkeypatch.setattr(AsyncToSync, "__call__", counted)
    login = HttpCommunicator(application, "GET", "/accounts/login/", headers=[(b"host", b"127.0.0.1")])
    response = await login.get_response(timeout=20)
    assert response["status"] == 200
    assert b"Log in" in response["body"]
    assert back_to_the_loop == []
