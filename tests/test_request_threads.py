"""Each HTTP request's synchronous code runs on one thread, in one hop from the event loop (`OneHopASGIHandler`), on a
thread kept for later requests (`RequestThreads`); with several processes on one socket, a busy process asks its
client to reconnect (`SpreadConnections`)."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading

import pytest
from asgiref.sync import AsyncToSync, SyncToAsync, sync_to_async
from channels.testing import HttpCommunicator
from django.core.signals import request_finished, request_started
from django.http import FileResponse, HttpResponse
from django.urls import path

from helpdesk.asgi import application
from helpdesk.middleware import RequestThreads, SpreadConnections


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


def page(request):
    return HttpResponse("page")


def file(request):
    return FileResponse(io.BytesIO(b"x" * 200_000), content_type="application/octet-stream")


urlpatterns = [path("page/", page), path("file/", file)]


@pytest.fixture
def trips(monkeypatch, settings):
    """The request's signals and view, each with the thread it ran on, and how many trips it made to a thread."""
    settings.ROOT_URLCONF = __name__
    seen: list[tuple[str, int]] = []
    hops: list[object] = []
    call = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        hops.append(self.func)
        return await call(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)

    def started(**kwargs):
        seen.append(("started", threading.get_ident()))

    def finished(**kwargs):
        seen.append(("finished", threading.get_ident()))

    request_started.connect(started)
    request_finished.connect(finished)
    yield seen, hops
    request_started.disconnect(started)
    request_finished.disconnect(finished)


async def get(path: str) -> dict:
    """The response of `application` to a GET of `path`: its status and its whole body."""
    sent: list[dict] = []
    asked = False

    async def receive() -> dict:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()  # the client stays
        raise AssertionError

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
        "scheme": "http",
        "http_version": "1.1",
        "asgi": {"version": "3.0"},
    }
    await asyncio.wait_for(application(scope, receive, send), timeout=20)
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return {"status": sent[0]["status"], "body": body}


@pytest.mark.django_db
async def test_a_page_makes_one_trip_to_a_thread_for_its_signals_middleware_and_view(trips):
    seen, hops = trips
    response = await get("/page/")
    assert response["status"] == 200
    assert response["body"] == b"page"
    assert len(hops) == 1
    assert [name for name, _ in seen] == ["started", "finished"]
    # The request_finished signal (which hands the database connection back) ran on the request's thread, not on
    # the event loop.
    assert len({thread for _, thread in seen}) == 1
    assert seen[0][1] != threading.get_ident()


@pytest.mark.django_db
async def test_a_streamed_file_is_sent_whole_and_closed_after_it_is_sent(trips):
    seen, _ = trips
    response = await get("/file/")
    assert response["status"] == 200
    assert response["body"] == b"x" * 200_000
    assert [name for name, _ in seen] == ["started", "finished"]


def answering_when_told(gates: dict[str, asyncio.Event]):
    """An HTTP app that answers the request for path P once `gates[P]` is set."""

    async def app(scope, receive, send) -> None:
        await gates[scope["path"]].wait()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


async def spread_request(app, path: str) -> list[tuple[bytes, bytes]]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    await app({"type": "http", "path": path}, None, send)
    return sent[0]["headers"]


async def test_a_process_serving_another_request_asks_the_client_to_reconnect_and_one_serving_only_it_does_not():
    gates = {"/a": asyncio.Event(), "/b": asyncio.Event()}
    app = SpreadConnections(answering_when_told(gates))
    first = asyncio.create_task(spread_request(app, "/a"))
    second = asyncio.create_task(spread_request(app, "/b"))
    await asyncio.sleep(0)
    gates["/a"].set()
    # /a is answered while /b is still being served: its client is asked to connect again.
    assert (b"connection", b"close") in await asyncio.wait_for(first, timeout=5)
    gates["/b"].set()
    # /b is answered alone, and so is a later request: their connections are kept.
    assert (b"connection", b"close") not in await asyncio.wait_for(second, timeout=5)
    assert (b"connection", b"close") not in await asyncio.wait_for(spread_request(app, "/a"), timeout=5)
    assert app.in_flight == 0


@pytest.mark.parametrize(("processes", "spread"), [("1", False), ("2", True)])
def test_connections_are_spread_only_when_several_processes_share_the_socket(processes, spread):
    probe = "from helpdesk.asgi import application; print(type(application.application_mapping['http']).__name__)"
    env = {**os.environ, "HELPDESK_WEB_PROCESSES": processes, "DJANGO_SECRET_KEY": "test"}
    shown = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert (shown.stdout.strip() == "SpreadConnections") is spread
