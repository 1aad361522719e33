"""Whether an optional module (pyspnego, python-gssapi) can be imported, asked once per check.

The logons ask from several threads at once.  When a module fails in the middle of its import,
CPython lets a thread that arrives meanwhile see the half-made module in ``sys.modules`` and go
on as if it had been imported; that thread then fails at its next use of the module, with an
error that says nothing of the missing package.  Importing under one lock, once, gives every
thread the same answer.
"""

from __future__ import annotations

import importlib
import threading

_lock = threading.Lock()
_known: dict[str, bool] = {}


def importable(name: str) -> bool:
    """True when ``name`` imports (then it is in ``sys.modules``, whole); the answer is kept."""
    with _lock:
        if name not in _known:
            try:
                importlib.import_module(name)
            except ImportError:
                _known[name] = False
            else:
                _known[name] = True
        return _known[name]
