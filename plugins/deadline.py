"""One deadline for the whole check, from ``-t``: every connect, handshake and DNS query gets
what is left of it, so the plugin prints its own verdict before the engine kills it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import TypeVar

    T = TypeVar("T")

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


class Unfinished(Exception):
    """A blocking call did not return before the deadline."""


def call_before(deadline: Deadline, func: Callable[[], T]) -> T:
    """Run a call that cannot be given a timeout of its own (``getaddrinfo``) in a daemon thread,
    and give up waiting for it at the deadline."""
    box: dict[str, object] = {}

    def runner() -> None:
        try:
            box["value"] = func()
        except BaseException as exc:  # handed to the caller, never printed by the thread
            box["error"] = exc

    worker = threading.Thread(target=runner, daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    if worker.is_alive():
        raise Unfinished()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]
