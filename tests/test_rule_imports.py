"""The rule modules on the default path import nothing that costs start-up time (docs/design.md,
"Start-up"): a fresh interpreter imports them, and the modules that added are looked at.  The
whole check's imports are held by tests/test_import_hygiene.py against the lab; this one is fast
enough for `make mutation` (an annotation import made real is a mutant it sees)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.test_import_hygiene import FORBIDDEN

# verdict, principal, findings and words run on every check (the words' rooms of a node's
# findings, principal and verdict, on every check that finds something); judgement.autodiscover
# and judgement.rpc only with --autodiscover or --rpc, where dataclasses is needed anyway.
DEFAULT_PATH = (
    "judgement.findings",
    "judgement.principal",
    "judgement.verdict",
    "check.words",
    "check.words.principal",
    "check.words.verdict",
)

PROBE = """
import json, sys
before = set(sys.modules)
import outlook_anywhere.{module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_the_default_path_rule_modules_import_nothing_forbidden() -> None:
    for module in DEFAULT_PATH:
        proc = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        new = json.loads(proc.stdout)
        assert f"outlook_anywhere.{module}" in new
        bad = [m for m in new if m.split(".")[0] in FORBIDDEN or m in FORBIDDEN]
        assert bad == [], (module, bad)
