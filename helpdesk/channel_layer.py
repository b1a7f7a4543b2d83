"""The channel layer of the live pages: channels-redis' pub/sub layer, decoding a group's message once per process."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer


class PubSubChannelLayer(RedisPubSubChannelLayer):
    """channels-redis' pub/sub layer puts the same bytes of a group message in the queue of every socket of the
    process in the group, and each socket's receive decoded them again: with 200 consoles and ten tickets a second,
    an eighth of a daphne process's CPU went to msgpack decoding the same bytes. Here a message is decoded once and
    each socket gets its own copy of the top-level dict (the handlers read the nested values, never change them)."""

    DECODED_KEPT = 64

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Keyed by the bytes object's id; the entry keeps the object alive, so the id is not reused meanwhile.
        self._decoded: OrderedDict[int, tuple[bytes, dict[str, Any]]] = OrderedDict()

    def deserialize(self, message: bytes) -> dict[str, Any]:
        kept = self._decoded.get(id(message))
        if kept is None or kept[0] is not message:
            kept = (message, super().deserialize(message))
            self._decoded[id(message)] = kept
            if len(self._decoded) > self.DECODED_KEPT:
                self._decoded.popitem(last=False)
        return dict(kept[1])
