"""What a TLS server of the lab serves, and the name a client asked it for.

A :class:`Chain` is a leaf with the certificates served after it and the files OpenSSL loads
(the identities' PKI issues them; every TLS server of the lab serves one).  A server context's
``sni_callback`` :func:`remember_server_name` keeps the SNI name on the connection, where
:func:`server_name` reads it.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509


@dataclass
class Chain:
    """A leaf with the certificates served after it, and the files OpenSSL loads."""

    id: str
    certs: tuple[x509.Certificate, ...]
    cert_file: Path
    key_file: Path
    _context: ssl.SSLContext | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def leaf(self) -> x509.Certificate:
        return self.certs[0]

    def server_context(self) -> ssl.SSLContext:
        """A server-side context serving this chain (TLS 1.2 and 1.3), built once."""
        with self._lock:
            if self._context is None:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                ctx.minimum_version = ssl.TLSVersion.TLSv1_2
                ctx.maximum_version = ssl.TLSVersion.TLSv1_3
                # Weak scenarios (1024-bit key, SHA-1) must load whatever the system policy says.
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
                self._context = ctx
            return self._context


_SNI_ATTRIBUTE = "lab_server_name"


def remember_server_name(sslobj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
    """An ``sni_callback``: keep the SNI name on the connection, for :func:`server_name`."""
    with contextlib.suppress(AttributeError):
        setattr(sslobj, _SNI_ATTRIBUTE, name)


def server_name(sock: ssl.SSLSocket) -> str | None:
    """The SNI name the client sent on ``sock`` (server side), None without SNI."""
    name = getattr(sock, _SNI_ATTRIBUTE, None)
    return name if isinstance(name, str) else None
