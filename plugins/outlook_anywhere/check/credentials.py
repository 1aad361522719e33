"""The Autodiscover and proxy passwords: where they come from, and how they are kept out of
every output.

Never a command-line argument (process lists and the engines' logs show those): the first line
of ``--password-file``, or the environment variable ``OUTLOOK_ANYWHERE_PASSWORD`` (Icinga 2
passes it with the CheckCommand's ``env``); for the proxy ``--proxy-password-file`` or
``OUTLOOK_ANYWHERE_PROXY_PASSWORD``.
"""

from __future__ import annotations

import os

from ..output import SECRETS, clean
from .options import PASSWORD_ENV, PROXY_PASSWORD_ENV, open_now


class PasswordError(Exception):
    """No usable password: a usage error, reported as UNKNOWN."""


def read_password(password_file: str | None) -> str:
    """The first line of the file (without its line break), else the environment variable."""
    return _read_secret(password_file, "--password-file", PASSWORD_ENV, "--autodiscover")


def read_proxy_password(password_file: str | None) -> str:
    """The proxy password: ``--proxy-password-file``'s first line, else
    ``OUTLOOK_ANYWHERE_PROXY_PASSWORD``."""
    return _read_secret(password_file, "--proxy-password-file", PROXY_PASSWORD_ENV, "--proxy-user")


def _read_secret(password_file: str | None, option: str, env: str, needed_by: str) -> str:
    if password_file:
        try:
            with os.fdopen(open_now(password_file), "rb") as handle:
                first = (handle.read(4096) or b"").split(b"\n", 1)[0].rstrip(b"\r")
        except OSError as exc:
            raise PasswordError(f"{option} {password_file}: {exc.strerror}") from None
        try:
            password = first.decode("utf-8")
        except UnicodeDecodeError:
            raise PasswordError(f"{option} {password_file}: not UTF-8 text") from None
        if not password:
            raise PasswordError(f"{option} {password_file}: the first line is empty")
        return password
    password = os.environ.get(env, "")
    if not password:
        raise PasswordError(f"{needed_by} needs a password: {option} FILE or {env}")
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


def remember(password: str, username: str, add: bool = False) -> None:
    """Keep the password out of what servers send back, in every encoding it may travel in:
    plain, URL-encoded, base64 (alone and as a Basic token, with and without padding), hex, and
    UTF-16LE (NTLM's encoding) as it would be printed.  ``add``: a second secret of the same
    check (the proxy password), kept beside the first."""
    import base64
    import codecs

    from ..transport.url import percent_encoded

    raw = password.encode("utf-8")
    forms = {password, percent_encoded(password), percent_encoded(password, "/")}
    forms.add(percent_encoded(password, " ").replace(" ", "+"))  # as a form field
    for data in (raw, f"{username}:{password}".encode()):
        b64 = base64.b64encode(data).decode()
        forms |= {b64, b64.rstrip("="), base64.urlsafe_b64encode(data).decode().rstrip("=")}
    forms |= {raw.hex(), raw.hex().upper()}
    # codecs' own encoder, loaded with the interpreter: str.encode("utf-16-le") would first
    # import the encodings module of that name
    utf16 = codecs.utf_16_le_encode(password)[0]
    forms |= {utf16.decode("latin-1"), "".join(f"{ch}\\x00" for ch in password), utf16.hex()}
    # As printed, too: a password with "&" or "<" is shown escaped (output.clean), and text is
    # often made printable before the password is looked for in it.
    forms |= {clean(form) for form in forms}
    # Longest first: a form that contains another is hidden whole.
    if add:
        forms |= set(SECRETS)
    SECRETS[:] = sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)
