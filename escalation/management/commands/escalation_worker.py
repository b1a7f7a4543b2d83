"""`python manage.py escalation_worker`: fire due escalation rows exactly once and deliver the outboxes.

Each pass fires every row due now (in batches, oldest first), delivers the pages and notifications due now and beats
the heartbeat.
Between passes the worker sleeps until the next due instant, and on PostgreSQL wakes at once when a ticket change
commits (`escalation.services.wake_worker` sends NOTIFY; the worker LISTENs on its own connection); on SQLite it
polls every HELPDESK_WORKER_POLL_SECONDS. It never sleeps longer than HELPDESK_WORKER_IDLE_SECONDS, so its heartbeat
stays fresh. SIGTERM or SIGINT stop it once the batch in hand is committed. Several workers may run at once; see
`escalation.engine` for why no row fires twice. With `escalation.engine`, the only part of escalation/ that imports
`tickets.services` (to close resolved tickets nobody answered).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import select
import signal
import socket
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone
from psycopg import sql

from escalation.engine import escalation_next_wake, escalation_run_due
from escalation.heartbeat import worker_beat
from escalation.outbox import outbox_deliver_due
from escalation.services import NOTIFY_CHANNEL
from notifications.delivery import notifications_deliver_due, notifications_next_attempt_at
from tickets.services import ticket_autoclose_due

logger = logging.getLogger("escalation.worker")

# After the database went away, wait this long before trying again.
RECONNECT_SECONDS = 2.0
# Resolved tickets close themselves after whole working days: looking once a minute is plenty.
AUTOCLOSE_EVERY = dt.timedelta(minutes=1)


class Worker:
    def __init__(self, *, name: str, batch: int) -> None:
        self.name = name
        self.batch = batch
        self.stopping = False
        self.taken = 0
        self.autoclosed_at: dt.datetime | None = None
        self.listener: Any = None
        self._wake_read, self._wake_write = socket.socketpair()
        for end in (self._wake_read, self._wake_write):
            end.setblocking(False)

    @contextlib.contextmanager
    def signals(self) -> Iterator[None]:
        """Stop on SIGTERM or SIGINT after the batch in hand; a signal also ends a sleep at once."""
        previous_fd = signal.set_wakeup_fd(self._wake_write.fileno())
        previous = {number: signal.signal(number, self._stop) for number in (signal.SIGTERM, signal.SIGINT)}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
            signal.set_wakeup_fd(previous_fd)

    def _stop(self, number: int, frame: Any) -> None:
        if not self.stopping:
            logger.info("%s: stopping after the current batch (%s)", self.name, signal.Signals(number).name)
        self.stopping = True

    def run(self, *, once: bool) -> None:
        logger.info("%s: escalation worker started (batch %s)", self.name, self.batch)
        try:
            while not self.stopping:
                try:
                    if self.listener is None:
                        self.listener = self._listen()
                    more = self.work()
                except (OperationalError, InterfaceError):
                    if once:
                        raise
                    logger.warning("%s: the database is unreachable; retrying", self.name, exc_info=True)
                    self._reset()
                    self._sleep(RECONNECT_SECONDS)
                    continue
                if once and not more:
                    break
                if not more:
                    self._sleep(self._idle_seconds())
        finally:
            self._close_listener()
        logger.info("%s: escalation worker stopped after taking %s due rows", self.name, self.taken)

    def work(self) -> bool:
        """One pass: fire a batch of due rows, deliver due pages and notifications, close the resolved tickets left
        unanswered (once a minute), beat. True when more is due at once."""
        batch = escalation_run_due(now=timezone.now(), limit=self.batch)
        self.taken += batch.taken
        delivered = outbox_deliver_due(now=timezone.now(), limit=self.batch)
        notified = notifications_deliver_due(now=timezone.now(), limit=self.batch)
        now = timezone.now()
        if self.autoclosed_at is None or now - self.autoclosed_at >= AUTOCLOSE_EVERY:
            ticket_autoclose_due(now=now)
            self.autoclosed_at = now
        lag = (now - batch.oldest_due_at).total_seconds() if batch.oldest_due_at is not None else None
        worker_beat(name=self.name, now=now, lag=lag)
        return batch.taken >= self.batch or delivered >= self.batch or notified >= self.batch

    def _idle_seconds(self) -> float:
        seconds = settings.HELPDESK_WORKER_IDLE_SECONDS
        if self.listener is None:
            seconds = min(seconds, settings.HELPDESK_WORKER_POLL_SECONDS)
        instants = [instant for instant in (escalation_next_wake(), notifications_next_attempt_at()) if instant]
        wake = min(instants, default=None)
        if wake is not None:
            seconds = min(seconds, (wake - timezone.now()) / dt.timedelta(seconds=1))
        return max(seconds, 0.0)

    def _listen(self) -> Any:
        """A connection of its own that LISTENs for ticket changes (PostgreSQL only)."""
        if connection.vendor != "postgresql":
            return None
        listener = connection.get_new_connection(connection.get_connection_params())
        listener.autocommit = True
        listener.execute(sql.SQL("LISTEN {}").format(sql.Identifier(NOTIFY_CHANNEL)))
        return listener

    def _notified(self) -> bool:
        """Whether notifications came (read them all): while the worker was busy, or in the sleep that just ended."""
        return bool(list(self.listener.notifies(timeout=0)))

    def _sleep(self, seconds: float) -> None:
        if self.stopping or seconds <= 0:
            return
        if self.listener is not None and self._notified():
            return
        sources: list[Any] = [self._wake_read] + ([self.listener] if self.listener is not None else [])
        ready, _, _ = select.select(sources, [], [], seconds)
        with contextlib.suppress(BlockingIOError):
            while self._wake_read.recv(64):
                pass
        if self.listener is not None and self.listener in ready:
            self._notified()

    def _reset(self) -> None:
        self._close_listener()
        connection.close()

    def _close_listener(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(Exception):
                self.listener.close()
            self.listener = None


class Command(BaseCommand):
    help = (
        "Run the escalation worker: fire due escalation steps and SLA warnings and breaches exactly once, and deliver "
        "the page outbox. Stop it with SIGTERM or Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Fire what is due now, deliver due pages, and exit.")
        parser.add_argument(
            "--batch",
            type=int,
            default=settings.HELPDESK_ESCALATION_BATCH,
            help="Due rows fired per transaction (default: %(default)s).",
        )
        parser.add_argument(
            "--name", default="", help="The name its heartbeat is recorded under (default: host:pid)."
        )

    def handle(self, *args: Any, once: bool, batch: int, name: str, **options: Any) -> None:
        worker = Worker(name=name or f"{socket.gethostname()}:{os.getpid()}", batch=max(batch, 1))
        with worker.signals():
            worker.run(once=once)
