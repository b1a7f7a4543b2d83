"""Request bodies are bounded before the application reads them: 413 by the declared length, or as soon as the chunks
of a body sent without one pass the limit; the upload views allow room for their attachments."""

from __future__ import annotations

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.urls import resolve

from helpdesk import middleware
from helpdesk.asgi import application
from helpdesk.middleware import body_limit

MIB = 1024 * 1024

pytestmark = pytest.mark.django_db(transaction=True)


def http_scope(path: str, *, length: int | None) -> dict:
    headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/octet-stream")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }


async def post(path: str, chunks: list[bytes], *, length: int | None) -> tuple[int, bytes, int]:
    """The status and body of the answer, and how many chunks were sent before it came."""
    communicator = ApplicationCommunicator(application, http_scope(path, length=length))
    sent = 0
    for index, chunk in enumerate(chunks):
        await communicator.send_input({"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1})
        sent += 1
        if not await communicator.receive_nothing(timeout=0.05):
            break
    start = await communicator.receive_output(timeout=10)
    body = await communicator.receive_output(timeout=10)
    await communicator.wait(timeout=10)
    return start["status"], body["body"], sent


async def test_a_declared_length_over_the_limit_is_refused_before_any_body_is_read():
    status, body, sent = await post("/healthz", [b"x" * 1024], length=200 * MIB)
    assert status == 413
    assert "This request is too large" in body.decode()
    assert "كبير" in body.decode()
    assert sent == 1


async def test_a_body_without_a_length_is_refused_once_its_chunks_pass_the_limit():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    chunks = [b"x" * MIB] * 10
    status, _body, sent = await post("/accounts/login/", chunks, length=None)
    assert status == 413
    assert sent == limit // MIB + 1


async def test_a_small_body_reaches_the_view_without_the_limit_resolving_its_path(monkeypatch):
    resolved = []
    monkeypatch.setattr(middleware, "resolve", lambda path: resolved.append(path) or resolve(path))
    # Django answers it (its CSRF check refuses a POST without a token).
    status, _body, _sent = await post("/healthz", [b"x" * 1024], length=1024)
    assert status == 403
    # Every view takes form data this small: only a larger body needs to know which view the path names.
    assert resolved == []
    status, _body, _sent = await post("/healthz", [b"x" * 1024], length=200 * MIB)
    assert status == 413
    assert resolved == ["/healthz"]


async def test_the_upload_views_accept_their_attachments_but_not_more():
    attachments = settings.HELPDESK_ATTACHMENT_MAX_BYTES * settings.HELPDESK_ATTACHMENT_MAX_FILES
    assert body_limit("/tickets/new/") > attachments
    assert body_limit("/tickets/104233/comments/") == body_limit("/tickets/new/")
    assert body_limit("/tickets/104233/close/") == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert body_limit("/no/such/page/") == settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    # Past the limit of other pages, within the upload limit: the view answers (here the CSRF check refuses it).
    status, _body, _sent = await post("/tickets/new/", [b"x" * 1024], length=5 * MIB)
    assert status == 403
    status, _body, _sent = await post("/tickets/new/", [b"x" * 1024], length=body_limit("/tickets/new/") + 1)
    assert status == 413
