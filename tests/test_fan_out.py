"""transport.fan_out, in-process: every item's outcome in order, an item still running at the
deadline left unfinished, and the hooks threading would hand its threads handed to these."""

from __future__ import annotations

import sys
import threading
from types import FrameType

from outlook_anywhere.transport import NO_ANSWER, Deadline, fan_out, unanswered_why


def test_values_and_exceptions_come_back_in_order() -> None:
    def work(item: int) -> int:
        if item == 2:
            raise ValueError(item)
        return item * 10

    outcomes = fan_out([1, 2, 3], work, Deadline(10))
    assert [finished for finished, _ in outcomes] == [True, True, True]
    assert outcomes[0][1] == 10 and outcomes[2][1] == 30
    assert isinstance(outcomes[1][1], ValueError)
    assert unanswered_why(*outcomes[1]) == "internal error: ValueError"


def test_an_item_running_at_the_deadline_is_unfinished() -> None:
    release = threading.Event()

    def work(item: str) -> str:
        if item == "stuck":
            release.wait(30)
        return item

    try:
        outcomes = fan_out(["quick", "stuck"], work, Deadline(0.5, reserve=0))
    finally:
        release.set()
    assert outcomes == [(True, "quick"), (False, None)]
    assert unanswered_why(*outcomes[1]) == NO_ANSWER


def test_no_items_no_threads() -> None:
    assert fan_out([], lambda item: item, Deadline(10)) == []


def test_the_trace_function_of_threading_reaches_every_item() -> None:
    """coverage.py and debuggers set theirs with threading.settrace, for threads to come."""
    seen: set[str] = set()

    def tracer(frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and frame.f_code.co_name == "work":
            seen.add(frame.f_locals["item"])

    def work(item: str) -> str:
        return item

    before = threading.gettrace()
    threading.settrace(tracer)  # type: ignore[arg-type]
    try:
        assert fan_out(["a", "b"], work, Deadline(10)) == [(True, "a"), (True, "b")]
    finally:
        threading.settrace(before)  # type: ignore[arg-type]
    assert seen == {"a", "b"}
    assert sys.gettrace() is not tracer  # the caller's own thread is left as it was
