"""One deadline for the whole check, from ``-t``: every connect, handshake and DNS query gets
what is left of it, so the plugin prints its own verdict before the engine kills it."""

from __future__ import annotations

import time

# Time kept back for judging and printing once the network work is cut off.
RESERVE = 0.25


class Deadline:
    def __init__(self, seconds: float, reserve: float = RESERVE) -> None:
        self.seconds = seconds
        self.start = time.monotonic()
        self.at = self.start + max(seconds - reserve, seconds / 2)

    def remaining(self) -> float:
        return max(self.at - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return time.monotonic() >= self.at
