"""The Autodiscover password: where it comes from, and how it is kept out of every output.

Never a command-line argument (process lists and the engines' logs show those): the first line
of ``--password-file``, or the environment variable ``OUTLOOK_ANYWHERE_PASSWORD`` (Icinga 2
passes it with the CheckCommand's ``env``).
"""

from __future__ import annotations

import os

from .options import PASSWORD_ENV


class PasswordError(Exception):
    """No usable password: a usage error, reported as UNKNOWN."""


def read_password(password_file: str | None) -> str:
    """The first line of the file (without its line break), else the environment variable."""
    if password_file:
        try:
            with open(password_file, "rb") as handle:
                first = handle.read(4096).split(b"\n", 1)[0].rstrip(b"\r")
        except OSError as exc:
            raise PasswordError(f"--password-file {password_file}: {exc.strerror}") from None
        try:
            password = first.decode("utf-8")
        except UnicodeDecodeError:
            raise PasswordError(f"--password-file {password_file}: not UTF-8 text") from None
        if not password:
            raise PasswordError(f"--password-file {password_file}: the first line is empty")
        return password
    password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise PasswordError(
            f"--autodiscover needs a password: --password-file FILE or {PASSWORD_ENV}"
        )
    return password


def redact_unrecognized(message: str) -> str:
    """Unknown arguments are named, never quoted: one of them may be a password."""
    head, sep, rest = message.partition("unrecognized arguments: ")
    if not sep:
        return message
    shown = [
        word.split("=", 1)[0] + ("=..." if "=" in word else "")
        for word in rest.split()
        if word.startswith("-")
    ]
    hidden = len(rest.split()) - len(shown)
    if hidden:
        shown.append(f"({hidden} value{'s' if hidden > 1 else ''} not shown)")
    return head + sep + " ".join(shown)


def scrub(text: str, password: str) -> str:
    """Nothing prints the password; this makes sure a bug cannot either."""
    if password and password in text:
        text = text.replace(password, "(password)")
    return text
