"""The floor of the words: how a name or a server's text is shown, and the small helpers the
rooms share (days, milliseconds, a state, how to add an optional module).

Names from certificates and arguments are shown through :func:`shown`: printable, one line,
bounded.  Text an HTTP server sent back goes through :func:`wire`, which also hides the password
in any encoding; the plugin's own words are never scrubbed, so a password that is also an
ordinary word garbles nothing.
"""

from __future__ import annotations

from ...judgement import findings as k
from ...output import clean, conceal

# The longest name or server text shown on the first line; the long output shows more.
SHORT = 60
LONG = 200
# The proxy's own failures: nothing is known about the array.
OF_PROXY = (k.PROXY_UNREACHABLE, k.PROXY_AUTH, k.PROXY_REFUSED)
# This poller's installation, not the array: a line of their own, not Autodiscover's.
OF_INSTALLATION = (k.LOGON_NTLM_MISSING,)


def shown(value: object, limit: int = LONG) -> str:
    """A name or text fit for output: printable, one line, bounded."""
    text = clean(str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def wire(value: object, limit: int = LONG) -> str:
    """Text an HTTP server sent back, shown: it may echo the password, so that is hidden."""
    return conceal(shown(value, limit))


def days_text(days: float) -> str:
    return f"{days:.1f} days"


def ms_text(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.0f} ms"


def state_text(state: object) -> str:
    return str(state).upper()


# The extra of setup.cfg that brings an optional module
EXTRAS = {"pyspnego": "ntlm"}


def install_hint(module: str) -> str:
    """How to add an optional module, for the way this plugin was installed: the Debian package
    (Debian 12 has no pyspnego: the README's pipx route), pipx, a venv, or a drop-in."""
    import sys

    extra = EXTRAS.get(module)
    if __file__.startswith("/usr/lib/python3/dist-packages/"):
        return (
            f"Debian has no {module} package: install the plugin with pipx and"
            f" pipx inject check_outlook_anywhere {module} (README, Install)"
        )
    if "pipx" in sys.prefix and "venvs" in sys.prefix:
        return f"pipx inject check_outlook_anywhere {module}"
    if sys.prefix != sys.base_prefix:  # a venv of its own
        how = f"the [{extra}] extra: " if extra else ""
        return f"{how}{sys.prefix}/bin/pip install {module}"
    return f"pip install {module}"
