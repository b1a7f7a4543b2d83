"""What the console socket accepts from a client, checked before any of it reaches a handler: a message of bounded
size and nesting that decodes to a JSON object."""

from __future__ import annotations

import json
import re
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
