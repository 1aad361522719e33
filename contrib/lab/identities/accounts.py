"""The lab's accounts: who may log on, with which password.

Every mailbox has the password :data:`PASSWORD` (Basic, NTLM; Kerberos has the KDC's own
principals, :mod:`.kdc`); the HTTP proxies know one user, :data:`PROXY_USER`.  pyspnego's NTLM
acceptor reads its users from the file ``NTLM_USER_FILE`` names, and only from it
(:func:`write_ntlm_users`): the web side writes it, the proxies add their user.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

PASSWORD = "Lab-Secret-7d1f!monitor"
"""The password of every lab mailbox (the tests pass it through a file or the environment)."""

PROXY_USER = "proxymon"
"""The proxy user of the Basic and NTLM proxies (NTLM also as ``LAB\\proxymon``)."""
PROXY_DOMAIN = "LAB"
PROXY_PASSWORD = "Px+y/Secret=%20&9q"
"""The proxy password: characters that base64 and URL encoding change, to find it in any of
its forms."""
PROXY_USERS = (f":{PROXY_USER}", f"{PROXY_DOMAIN}:{PROXY_USER}")
"""The proxy user as the NTLM user file has it (``DOMAIN:user``; no domain for a bare name)."""


def mailbox_users(names: Iterable[str]) -> list[str]:
    """The NTLM user file's ``DOMAIN:user`` entries of the monitor mailbox and of the mailboxes
    ``names`` (each by its address and as ``CONTOSO\\<name>``)."""
    users = [":monitor@contoso.test", ":monitor@fabrikam.test", "CONTOSO:monitor"]
    for name in names:
        users += [f":{name}@contoso.test", f"CONTOSO:{name}"]
    return users


def write_ntlm_users(path: Path, users: Iterable[str], password: str, append: bool = False) -> None:
    """Write (or add) ``users``, each with ``password``, in the NTLM user file's form."""
    with path.open("a" if append else "w", encoding="utf-8") as handle:
        handle.write("".join(f"{user}:{password}\n" for user in users))
