"""Findings: what the judgement decided, as data.

A finding carries a machine-readable ``kind``, the ``node`` it concerns (an address, or None for
the array, DNS or Autodiscover), its ``state``, its ``evidence`` (names, dates, codes: the values
the words are made from) and, where there is one, a :class:`Fix`.  No finding holds a sentence:
``words`` writes every sentence, for the first line and the long output alike.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

    from nagiosplugin.state import ServiceState

# -- kinds ------------------------------------------------------------------------------------
# A node's certificate
PRINCIPAL_MISMATCH = "principal-mismatch"
SAN_ONLY = "san-only"
WILDCARD_ONLY = "wildcard-only"
SEVERAL_CNS = "several-cns"
EXPIRES_SOON = "expires-soon"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
UNTRUSTED = "untrusted"
WEAK_KEY = "weak-key"
WEAK_SIGNATURE = "weak-signature"
OLD_PROTOCOL = "old-protocol"
UNPARSABLE = "unparsable"
NO_CERTIFICATE = "no-certificate"
# A node's connection (evidence "failure": refused, reset, timeout, closed, not-tls, tls-alert,
# tls-failed, network, internal)
CONNECTION = "connection"
# --proxy: the proxy itself (node None: nothing is known about the array), and a node the
# proxy could not reach, or did not open a tunnel to
PROXY_UNREACHABLE = "proxy-unreachable"
PROXY_AUTH = "proxy-auth"
PROXY_REFUSED = "proxy-refused"
PROXY_GATEWAY = "proxy-gateway"
PROXY_TIMEOUT = "proxy-timeout"
PROXY_BLOCKED = "proxy-blocked"
# This installation (a module needed on this path cannot be imported)
BROKEN_INSTALLATION = "broken-installation"
# The array
DIFFERENT_CERTIFICATE = "different-certificate"
NO_ADDRESS = "no-address"
# Autodiscover
AUTODISCOVER_FAILED = "autodiscover-failed"
NOT_PUBLISHED = "not-published"
UNPINNED = "unpinned"
SSL_OFF = "ssl-off"
NO_SERVER = "no-server"
PRINCIPAL_DISAGREES = "principal-disagrees"
# The RPC proxy of a node
RPC_UNREACHABLE = "rpc-unreachable"
RPC_NO_SCHEME = "rpc-no-scheme"
RPC_MISSING_SCHEME = "rpc-missing-scheme"
RPC_ANONYMOUS = "rpc-anonymous"
RPC_REDIRECT = "rpc-redirect"
RPC_NOT_INSTALLED = "rpc-not-installed"
RPC_FORBIDDEN = "rpc-forbidden"
RPC_FAILURE = "rpc-failure"
# MAPI over HTTP of a node, without credentials (--mapi)
MAPI_HEALTH = "mapi-health"
MAPI_UNREACHABLE = "mapi-unreachable"
MAPI_NO_SCHEME = "mapi-no-scheme"
MAPI_MISSING_SCHEME = "mapi-missing-scheme"
MAPI_FAILURE = "mapi-failure"
# Logging on (--logon); evidence "protocol": RPC or MAPI
LOGON_NO_SERVER = "logon-no-server"
LOGON_BINDING_REFUSED = "logon-binding-refused"
LOGON_UNBOUND = "logon-unbound"
LOGON_REFUSED = "logon-refused"
LOGON_FAILED = "logon-failed"
LOGON_NO_SCHEME = "logon-no-scheme"
LOGON_NTLM_MISSING = "logon-ntlm-missing"
ECHO_FAILED = "echo-failed"
ENDPOINT_FAILED = "endpoint-failed"
PING_FAILED = "ping-failed"
LOGON_CUT_OFF = "logon-cut-off"  # evidence "step": what the logon was doing at the deadline
LOGON_STEP_FAILED = "logon-step-failed"  # a MAPI step after the logon got no answer
LOGON_NO_LEGACY_DN = "logon-no-legacy-dn"
LOGON_NO_MAILBOX = "logon-no-mailbox"  # no mapiHttp MailboxId usable in a URL
MAILBOX_LOGON_FAILED = "mailbox-logon-failed"  # Connect refused: StatusCode, ErrorCode
# Kerberos and --auth (evidence "problem": judgement.kerberos; "protocol", "spn", "code")
LOGON_KERBEROS = "logon-kerberos"
# Revocation (--revocation) of a certificate of the chain a node sends
REVOKED = "revoked"
CRL_LAPSED = "crl-lapsed"
CRL_EXPIRING = "crl-expiring"
NO_REVOCATION_SOURCE = "no-revocation-source"
REVOCATION_UNAVAILABLE = "revocation-unavailable"
REVOCATION_BAD_SIGNATURE = "revocation-bad-signature"
INTERMEDIATE_SUPPLIED = "intermediate-supplied"
# The front doors of a node (--auth-certificate, --health, --build)
AUTH_EXPIRED = "auth-expired"
AUTH_EXPIRES_SOON = "auth-expires-soon"
AUTH_DIFFERENT = "auth-different"
AUTH_UNAVAILABLE = "auth-unavailable"
HEALTH_DOWN = "health-down"
HEALTH_DOWN_EVERYWHERE = "health-down-everywhere"  # node None; evidence "down_on": every node
BUILD_BEHIND = "build-behind"
BUILD_BELOW = "build-below"
BUILD_UNKNOWN = "build-unknown"


class Fix:
    """The ways out of a finding, as data.

    ``certificate``: serve a certificate whose CN is this principal name.  ``publish``: publish
    this principal name with Set-OutlookProvider for each of ``provider`` ("EXPR", "EXPR and
    EXHTTP"; only ever a name that every
    certificate served satisfies).  ``correct``: correct this option of the check to ``value``."""

    __slots__ = ("certificate", "correct", "provider", "publish", "value")

    def __init__(
        self,
        certificate: str | None = None,
        publish: str | None = None,
        provider: str = "EXPR",
        correct: str | None = None,
        value: str | None = None,
    ) -> None:
        self.certificate = certificate
        self.publish = publish
        self.provider = provider
        self.correct = correct  # an option of this check, e.g. "-P"
        self.value = value  # its right value

    def __repr__(self) -> str:
        return f"Fix({self.certificate!r}, {self.publish!r}, {self.correct!r}, {self.value!r})"


class Finding:
    """One thing the judgement found wrong (a plain class: start-up time, see facts)."""

    __slots__ = ("evidence", "fix", "kind", "node", "state")

    def __init__(
        self,
        kind: str,
        state: ServiceState,
        node: str | None = None,
        evidence: dict[str, Any] | None = None,
        fix: Fix | None = None,
    ) -> None:
        self.kind = kind
        self.state = state
        self.node = node  # the address this finding is about; None: the array, DNS, Autodiscover
        self.evidence = evidence or {}
        self.fix = fix

    def __repr__(self) -> str:
        return f"Finding({self.kind!r}, {self.state}, {self.node!r}, {self.evidence!r})"
