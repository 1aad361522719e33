"""The lab's Exchange front-end hosts (``logon-*.contoso.test``, on 127.0.202.x): how many nodes
each has, how its nodes authenticate (:meth:`LogonHost.schemes`, Extended Protection, Kerberos
keytabs) and misbehave; the EXCH server (:func:`exchange_server`) and LegacyDN
(:func:`legacy_dn`) Autodiscover publishes for each host's mailbox.

What the nodes answer is :mod:`.exchange` (with :mod:`.mapi` and :mod:`.rpc_proxy`); the web
side (:mod:`.web`) gives each node its address and certificate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

DOMAIN = "contoso.test"
HOLD = 300.0
"""How long an open channel, or an answer a node never sends, waits for its client at most
(seconds)."""


@dataclass(frozen=True)
class LogonHost:
    """One front-end host name: its nodes and how they behave."""

    name: str  # the first label, and the Autodiscover mailbox's local part
    nodes: int
    description: str
    # the signature hash of the certificate every node presents: Extended Protection binds to
    # a hash of it that differs with each (RFC 5929 4.1)
    digest: str = "sha256"

    @property
    def host(self) -> str:
        return f"{self.name}.{DOMAIN}"

    def schemes(self) -> tuple[str, ...]:
        if self.name.startswith("logon-krb"):
            return ("Negotiate",)  # Kerberos only: NTLM off, as Exchange SE CU1 plans it
        if self.name == "logon-ntlm-only":
            return ("NTLM",)
        return ("Basic",) if self.name == "logon-basic" else ("Negotiate", "NTLM")

    def kerberos(self, node: int) -> str:
        """The keytab node ``node`` accepts Kerberos with (contrib.lab.identities.kdc): current
        (the ASA's key), foreign (another key, same key version: a node with a stale ASA
        credential), stale (the key of the previous version: the ASA's password reset, this node
        not updated); "" where the node speaks no Kerberos."""
        if not self.name.startswith("logon-krb"):
            return ""
        if self.name == "logon-krb-stale" and node > 1:
            return "foreign" if node == 2 else "stale"
        return "current"

    def protection(self, node: int) -> str:
        """Extended Protection of node ``node`` (1-based): require, accept (a binding must be
        right when sent; none is accepted too), other-certificate or off."""
        if self.name in ("logon-ep-off", "logon-basic"):
            return "off"
        if self.name.startswith("logon-ep-accept"):
            return "accept"
        if self.name in ("logon-ep-broken", "logon-krb-offload") and node == 2:
            return "other-certificate"
        return "require"

    def refuses(self, node: int) -> bool:
        return self.name == "logon-refuse" and node == 3

    def stalls(self, node: int) -> bool:
        """Node 2 of logon-stall answers nothing once logged on: neither the echo nor the PING
        in the session its Connect opened."""
        return self.name == "logon-stall" and node == 2

    def forges_mutual(self, node: int) -> bool:
        """The node of logon-krb-forged accepts the ticket and answers 200 with a Negotiate
        token that is no mutual-authentication token of that logon (see :mod:`.logon`)."""
        return self.name == "logon-krb-forged"


LOGON_HOSTS: tuple[LogonHost, ...] = (
    LogonHost("logon-ok", 3, "EP on, echo, 6001/6002/6004 answer A3 then C2, mailbox logon"),
    LogonHost(
        "logon-ep-broken",
        3,
        "like logon-ok, node 2 binds another certificate than it presents",
        "sha384",
    ),
    LogonHost("logon-ep-off", 1, "EP off: a logon with or without binding is accepted"),
    LogonHost("logon-503", 1, "endpoint 6002 answers 503 RPC Error: 6ba", "sha512"),
    LogonHost("logon-no-c2", 1, "endpoint 6004: A3, then silence (never C2)"),
    LogonHost("logon-refuse", 3, "node 3 refuses the account (always 401)", "sha512"),
    LogonHost("logon-ping-error", 1, "MAPI PING answers X-ResponseCode 10", "sha384"),
    LogonHost("logon-basic", 1, "Basic only (no binding possible)"),
    LogonHost("logon-rts-garbage", 1, "hostile: echo and OUT channel answer random non-RTS bytes"),
    LogonHost("logon-endless-out", 1, "hostile: the OUT channel streams padding PDUs forever"),
    LogonHost("logon-ntlm-loop", 1, "hostile: every NTLM leg gets a fresh challenge, never OK"),
    LogonHost("logon-mapi-down", 1, "/mapi/healthcheck.htm answers 503"),
    LogonHost("logon-ok-sha384", 2, "like logon-ok, certificate signed SHA-384", "sha384"),
    LogonHost("logon-ok-sha512", 2, "like logon-ok, certificate signed SHA-512", "sha512"),
    LogonHost("logon-ep-accept", 2, "EP Accept: a binding must be right, none is accepted too"),
    LogonHost(
        "logon-ep-accept-sha384", 2, "like logon-ep-accept, certificate signed SHA-384", "sha384"
    ),
    LogonHost(
        "logon-ep-accept-sha512", 2, "like logon-ep-accept, certificate signed SHA-512", "sha512"
    ),
    LogonHost(
        "logon-stall",
        3,
        "node 2 stalls once logged on: no echo, no PING in its session",
        "sha384",
    ),
    LogonHost("logon-mailbox-moved", 1, "MAPI Connect answers ErrorCode 0x478 (wrong server)"),
    LogonHost(
        "logon-mapi-garbage",
        1,
        "hostile: Connect sets session cookies and answers 3 bytes of garbage for its body",
    ),
    LogonHost(
        "logon-connect-stall",
        1,
        "Connect opens a session (cookies in the head), sends PROCESSING, then stalls",
    ),
    # Kerberos (contrib.lab.identities.kdc, contrib.lab.identities.kerberos): Negotiate with
    # Kerberos only, NTLM refused, Extended Protection Require with Kerberos channel bindings
    LogonHost("logon-krb", 3, "Kerberos only (NTLM refused), EP Require"),
    LogonHost("logon-krb-stale", 3, "Kerberos only, node 2 another key, node 3 the previous one"),
    LogonHost("logon-krb-nospn", 1, "Kerberos only, and the KDC has no HTTP/<host>"),
    LogonHost("logon-krb-offload", 2, "Kerberos only, node 2 binds another certificate", "sha384"),
    LogonHost("logon-ntlm-only", 1, "NTLM only (no Negotiate: no Kerberos)"),
    # Appended: a host's addresses follow from the nodes before it (web._logon_sites), so new
    # hosts go last and the addresses above stay what tests and notes know them as.
    LogonHost("logon-echo-403", 1, "the echo, logged on, answers 403 Forbidden"),
    LogonHost(
        "logon-mapi-no-code",
        1,
        "MAPI answers 200 without X-ResponseCode (neither in the head nor after DONE)",
    ),
    LogonHost(
        "logon-krb-forged",
        1,
        "Kerberos only, EP Require; the 200's Negotiate token is no valid mutual-authentication"
        " token",
    ),
)
KERBEROS_SPNS = tuple(h.host for h in LOGON_HOSTS if h.kerberos(1) and h.name != "logon-krb-nospn")
"""The hosts whose ``HTTP/<host>`` the lab's KDC knows (Kdc(hosts=...))."""
BY_HOST = {h.host: h for h in LOGON_HOSTS}
MAILBOXES = {h.name: f"settings for {h.host}: {h.description}" for h in LOGON_HOSTS}


def exchange_server(host: str) -> str:
    """The EXCH ``Server`` Autodiscover publishes for ``host``'s mailbox, ``<GUID>@contoso.test``:
    the ``<server>`` of ``/rpc/rpcproxy.dll?<server>:<port>`` and the MAPI ``MailboxId``."""
    return f"{uuid.uuid5(uuid.NAMESPACE_DNS, host.lower())}@{DOMAIN}"


def legacy_dn(host: str) -> str:
    """The mailbox's LegacyDN, Autodiscover's ``User/LegacyDN``: the ``UserDn`` of a Connect."""
    name = host.split(".", 1)[0]
    return f"/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={name}"
