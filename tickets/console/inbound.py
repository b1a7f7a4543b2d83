"""What the console socket accepts from a client, checked before any of it reaches a handler: a message of bounded
size and nesting that decodes to a JSON object, within the socket's message budget."""

from __future__ import annotations

import enum
import json
import re
import time
from collections.abc import Callable
from typing import Any

# The longest real message is a reply (tickets.services.BODY_MAX_LENGTH characters) with its JSON escapes.
MAX_MESSAGE_CHARS = 128 * 1024
# Real messages are flat objects; a list or object inside one is as deep as they go.
MAX_DEPTH = 4

# A JSON string (skipped whole, so brackets typed in a text do not count) or a bracket.
_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON text nests lists and objects deeper than `limit`, found without decoding it (a decoder
    recurses once per level, so a deep enough text exhausts the stack)."""
    depth = 0
    for token in _TOKENS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            if depth > limit:
                return True
        elif bracket in "]}":
            depth -= 1
    return False


def message_decode(text: str | None) -> dict[str, Any] | None:
    """The client's message, or None when it is not one the console can handle: too long, too deep, not JSON, not
    a JSON object, or holding text that cannot be encoded."""
    if not text or len(text) > MAX_MESSAGE_CHARS or nesting_exceeds(text, MAX_DEPTH):
        return None
    try:
        content = json.loads(text)
        # A lone surrogate ("\ud800" in the JSON) decodes, but neither a reply nor the database can carry it.
        json.dumps(content, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError):
        return None
    return content if isinstance(content, dict) else None


# A socket's budget: this many messages a second on average, in bursts of up to BURST. A resync costs more: it reads
# up to HELPDESK_CONSOLE_RESYNC_LIMIT events, or a whole snapshot.
MESSAGES_PER_SECOND = 10.0
BURST = 30.0
RESYNC_COST = 5.0
# Messages refused after the warning before the socket is closed.
OVERRUNS_BEFORE_CLOSE = 30


class Verdict(enum.Enum):
    ACCEPT = "accept"
    WARN = "warn"
    DROP = "drop"
    CLOSE = "close"


class MessageBudget:
    """A token bucket per socket. The first message over budget is answered with a warning, the next ones are
    dropped, and a client that keeps going is closed; one that calms down until its bucket is full starts afresh."""

    def __init__(
        self,
        *,
        rate: float = MESSAGES_PER_SECOND,
        burst: float = BURST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.tokens = burst
        self.updated = clock()
        self.overruns = 0

    def spend(self, cost: float = 1.0) -> Verdict:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= self.burst:
            self.overruns = 0
        if self.tokens >= cost:
            self.tokens -= cost
            return Verdict.ACCEPT
        self.overruns += 1
        if self.overruns == 1:
            return Verdict.WARN
        return Verdict.CLOSE if self.overruns > OVERRUNS_BEFORE_CLOSE else Verdict.DROP
