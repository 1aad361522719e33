"""The plugin's contract for bad input, shared by the hostile matrices (tests/test_hostile.py,
tests/test_hostile_inputs.py): whatever a server or a network does, exactly one status line
starting ``OUTLOOK_ANYWHERE <STATE> - ``, an exit code 0-3 that matches the state, empty
stderr, no traceback, nothing unprintable, no markup, and the verdict within the deadline."""

from __future__ import annotations

import re

from tests.conftest import Outcome

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3
STATES = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
SLACK = 1.25  # the verdict within -t plus about one second (process start included)


def assert_contract(out: Outcome, deadline: float) -> None:
    """What holds for every input, however hostile: one clean line, in time."""
    assert out.stderr == "", out.stderr
    assert 0 <= out.code <= 3, out
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE {STATES[out.code]} - "), out.stdout
    assert sum(line.startswith("OUTLOOK_ANYWHERE") for line in out.stdout.splitlines()) == 1
    # no Python exception escaped into the words: "internal error: ValueError: ..." is a bug
    assert "Traceback" not in out.stdout and "internal error" not in out.stdout, out.stdout
    assert not re.search(r"\b[A-Z]\w*(Error|Exception): ", out.stdout), out.stdout
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f]", out.stdout), repr(out.stdout)
    assert not re.search(r"[<>&]", out.stdout), out.stdout  # text, never markup (test_markup)
    assert out.elapsed < deadline + SLACK, f"{out.elapsed:.2f} s for -t {deadline:g}"
