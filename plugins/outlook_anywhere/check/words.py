"""Every sentence the plugin writes about what it found, made from findings and facts.

The judgement decides and records data (``findings``); the probes record facts with kinds.  This
module is the one place that turns them into words: the phrase of a finding (the same on the first
line and in the long output), its fix, and the descriptions of nodes, Autodiscover and DNS.

Names from certificates and arguments are shown through :func:`shown`: printable, one line,
bounded.  Text an HTTP server sent back goes through :func:`wire`, which also hides the password
in any encoding; the plugin's own words are never scrubbed, so a password that is also an
ordinary word garbles nothing.
"""

from __future__ import annotations

from ..facts.certificate import iso_date
from ..judgement import findings as k
from ..judgement.principal import display
from ..output import clean, conceal, printable

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ..facts import CheckFacts, NodeFacts, Resolution
    from ..judgement.findings import Finding, Fix
    from ..judgement.policy import Policy
    from ..judgement.verdict import Verdict

# The longest name or server text shown on the first line; the long output shows more.
SHORT = 60
LONG = 200


def shown(value: object, limit: int = LONG) -> str:
    """A name or text fit for output: printable, one line, bounded."""
    text = clean(str(value))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def wire(value: object, limit: int = LONG) -> str:
    """Text an HTTP server sent back, shown: it may echo the password, so that is hidden."""
    return conceal(shown(value, limit))


def _days(days: float) -> str:
    return f"{days:.1f} days"


def _role(ev: dict[str, object], limit: int) -> str:
    label = ev.get("ca")
    return f"issuing CA '{shown(label, limit)}'" if label is not None else "certificate"


def _source(ev: dict[str, object], limit: int) -> str:
    """Where the expected principal comes from, when Autodiscover published it (long output)."""
    source = ev.get("source")
    if limit < LONG or source in (None, "-P", "-H"):
        return ""
    return f" (what Autodiscover publishes in {source})"


# -- one phrase per kind -------------------------------------------------------------------------


def _mismatch(ev: dict[str, object], limit: int) -> str:
    cn = ev.get("cn")
    if cn is None:
        seen = "the certificate has no subject CN"
    else:
        idna = ev.get("cn_idna")
        seen = f"certificate CN {shown(cn, limit)}" + (f" ({idna})" if idna else "")
    published = ev.get("source") not in (None, "-P", "-H")
    wanted = display((wire if published else shown)(ev["principal"], limit))
    return f"Mutual Authentication could not be established: {seen}, expected {wanted}" + (
        _source(ev, limit)
    )


def _san_only(ev: dict[str, object], limit: int) -> str:
    cn = ev.get("cn")
    where = f"not the CN {shown(cn, limit)}" if cn is not None else "the certificate has no CN"
    return (
        f"{display(shown(ev['principal'], limit))} only in a SAN, {where}: Outlook before"
        " Vista SP1 and the Remote Connectivity Analyzer fail"
    )


def _wildcard(ev: dict[str, object], limit: int) -> str:
    return (
        f"{display(shown(ev['principal'], limit))} matches only by expanding the wildcard"
        f" {ev['where']} {shown(ev['pattern'], limit)}: the Analyzer and older clients do not"
    )


def _several_cns(ev: dict[str, object], limit: int) -> str:
    cns = ev["cns"]
    assert isinstance(cns, (list, tuple))
    names = ", ".join(shown(cn, limit) for cn in cns[:4]) + (", ..." if len(cns) > 4 else "")
    return f"subject has {len(cns)} CNs ({names}): clients differ on which one they read"


def _expires(ev: dict[str, object], limit: int) -> str:
    role = _role(ev, limit)
    days, date = ev["days"], ev["date"]
    assert isinstance(days, float)
    if ev.get("range"):
        where = "inside" if str(ev["range"]).startswith("@") else "outside"
        return (
            f"{role}: {_days(days)} left, {where} the {ev['level']} range {ev['range']}"
            f" (expires {date})"
        )
    return f"{role} expires in {_days(days)} ({date})"


def _expired(ev: dict[str, object], limit: int) -> str:
    days = ev["days"]
    assert isinstance(days, float)
    ago = _days(-days) if days <= -0.1 else "less than 0.1 days"
    return f"{_role(ev, limit)} expired {ago} ago ({ev['date']})"


def _not_yet_valid(ev: dict[str, object], limit: int) -> str:
    return f"{_role(ev, limit)} not valid before {ev['date']}"


def _untrusted(ev: dict[str, object], limit: int) -> str:
    return "certificate not trusted: " + _why_untrusted(ev, limit)


def _why_untrusted(ev: dict[str, object], limit: int) -> str:
    """Why OpenSSL refused the chain, in an Exchange administrator's words."""
    code, last, issuer = ev.get("code"), ev.get("last"), ev.get("last_issuer")
    if code == 18:
        return "self-signed certificate (not issued by a trusted CA)"
    if code == 19 and last is not None:
        return f"root '{shown(last, limit)}' sent by the server is not a trusted root"
    if code in (2, 20, 21) and issuer is not None:
        if ev.get("served") == 1:
            return (
                "missing intermediate? the server sends no issuing CA, and"
                f" '{shown(issuer, limit)}' is not in the trust store"
            )
        return f"chain ends at '{shown(issuer, limit)}', which is not in the trust store"
    if code == 7:
        return "a signature in the certificate chain does not verify"
    if code == 79 or (code == 24 and "invalid ca" in str(ev.get("message", "")).lower()):
        # X509_V_ERR_INVALID_CA: 79 on OpenSSL 3, 24 before it
        return "an issuing certificate in the chain is not a CA"
    if code == 26:
        return "certificate is not meant for TLS server authentication"
    if code == 34:  # Windows (CryptoAPI) refuses such a chain as well
        return "a certificate in the chain has an unknown extension marked critical"
    if code in (66, 67, 68):
        return f"{shown(ev.get('message'), limit)} for OpenSSL's security level"
    return shown(ev.get("message") or f"verification error {code}", limit)


def _weak_key(ev: dict[str, object], limit: int) -> str:
    return f"{_role(ev, limit)} has a {ev['bits']}-bit {ev['algorithm']} key (under 2048 bits)"


def _weak_signature(ev: dict[str, object], limit: int) -> str:
    return f"{_role(ev, limit)} is signed with {ev['hash']}"


def _old_protocol(ev: dict[str, object], limit: int) -> str:
    return f"server speaks only {shown(ev['version'], limit)}"


def _unparsable(ev: dict[str, object], limit: int) -> str:
    return f"certificate could not be parsed ({shown(ev.get('detail'), limit)})"


def _no_certificate(ev: dict[str, object], limit: int) -> str:
    return "server sent no certificate"


def _connection(ev: dict[str, object], limit: int) -> str:
    failure, detail = ev.get("failure"), shown(ev.get("detail", ""), limit)
    during = "during the TLS handshake" if ev.get("phase") == "handshake" else "while connecting"
    if failure == "refused":
        return "connection refused"
    if failure == "reset":
        return f"connection reset {during}"
    if failure == "timeout":
        if ev.get("phase") == "handshake":
            return "TLS handshake not finished within the deadline"
        return "TCP connect not finished within the deadline"
    if failure == "not-tls":
        sent = printable(str(ev.get("detail", "")), LONG, ".")
        return f"not TLS: server sent '{shown(sent.strip(), 40)}'"
    if failure == "closed":
        return f"server closed the connection {during}"
    if failure == "tls-alert":
        return f"TLS handshake failed: server sent TLS alert: {detail}"
    if failure == "tls-failed":
        return f"TLS handshake failed: {detail}"
    if failure == "network":
        return f"{detail} {during}"
    return f"internal error: {detail}"


def _broken(ev: dict[str, object], limit: int) -> str:
    return f"broken installation: Python module {shown(ev['module'], limit)} cannot be imported"


def _different(ev: dict[str, object], limit: int) -> str:
    others = ev["others"]
    nodes = "the other node" if others == 1 else f"the other {others} nodes"
    text = f"certificates differ: another certificate than {nodes}"
    if ev["date"] != ev["their_date"]:
        text += f" (expires {ev['date']} instead of {ev['their_date']})"
    return text


def _no_address(ev: dict[str, object], limit: int) -> str:
    return resolution_text(str(ev["failure"]), str(ev.get("detail", "")), str(ev["source"]))


def _autodiscover_failed(ev: dict[str, object], limit: int) -> str:
    kind = ev.get("failure")
    email = ev["email"]
    who = f"Autodiscover for {wire(email, limit) if ev.get('redirected') else shown(email, limit)}"
    first_line = limit < LONG  # the reason first; the endpoints tried are in the long output
    detail = shown(ev.get("detail", ""), LONG)
    if kind == "unauthorized":
        if first_line:
            return f"{who}: wrong user name or password (HTTP 401)"
        return f"{who}: wrong credentials ({detail})"
    if kind == "ntlm-missing":
        text = (
            "broken installation: Python module pyspnego is not installed"
            f" ({who} accepts only NTLM/Negotiate)"
        )
        return text if first_line else f"{text}, {detail}: {shown(install_hint('pyspnego'))}"
    if isinstance(kind, str) and kind.startswith(("kerberos-", "ntlm-not-", "basic-not-")):
        said = autodiscover_kerberos(kind, ev.get("detail", ""))
        if first_line:  # what is wrong; the why and the fix are in the long output
            said = _kerberos_short(said)
        return f"{who}: {said}"
    if kind == "error-response":
        return f"{who}: the server answered {detail}"
    if kind == "unreachable" and first_line and ev.get("last"):
        return f"{who}: no endpoint answered (last: {shown(ev['last'], LONG)})"
    return f"{who}: {detail}"


def _not_published(ev: dict[str, object], limit: int) -> str:
    return (
        f"Autodiscover for {shown(ev['email'], limit)} publishes neither EXPR nor EXHTTP"
        " (Outlook Anywhere is not published for this mailbox)"
    )


def _unpinned(ev: dict[str, object], limit: int) -> str:
    return (
        f"Autodiscover publishes {ev['provider']} CertPrincipalName None: mutual authentication"
        " is not enforced"
    )


def _ssl_off(ev: dict[str, object], limit: int) -> str:
    return (
        f"Autodiscover publishes {ev['provider']} with SSL Off: no TLS, so no mutual authentication"
    )


def _no_server(ev: dict[str, object], limit: int) -> str:
    return f"Autodiscover publishes {ev['provider']} without a Server"


def _disagrees(ev: dict[str, object], limit: int) -> str:
    verb = "publish" if " and " in str(ev["provider"]) else "publishes"
    return (
        f"Autodiscover {ev['provider']} {verb} {display(wire(ev['published'], limit))}, -P"
        f" expects {display(shown(ev['expected'], limit))}"
    )


def _rpc(ev: dict[str, object], limit: int) -> str:
    return "rpcproxy.dll " + _rpc_what(ev, limit)


def _rpc_what(ev: dict[str, object], limit: int) -> str:
    kind = ev["kind"]
    status = wire(ev.get("status", ""), limit)
    if kind == k.RPC_UNREACHABLE:
        return shown(ev.get("detail", ""), limit)
    if kind == k.RPC_NO_SCHEME:
        return "answered 401 without any WWW-Authenticate scheme"
    if kind == k.RPC_MISSING_SCHEME:
        missing, offered = ev["missing"], ev["offered"]
        assert isinstance(missing, (list, tuple)) and isinstance(offered, (list, tuple))
        return (
            f"does not offer {', '.join(missing)}"
            f" (offers {', '.join(wire(s, 40) for s in offered)})"
        )
    if kind == k.RPC_ANONYMOUS:
        return "answered 200 without authentication (anonymous access enabled)"
    if kind == k.RPC_REDIRECT:
        target = ev.get("location")
        return f"answered {status}: unexpected redirect" + (
            f" to {wire(target, limit)}" if target else ""
        )
    if kind == k.RPC_NOT_INSTALLED:
        return f"answered {status}: the RPC proxy is not installed"
    if kind == k.RPC_FORBIDDEN:
        return f"answered {status}: access forbidden"
    if ev.get("rpc_error"):
        return f"answered {status} (RPC proxy failure)"
    return f"answered {status}"


# -- MAPI over HTTP and logging on (--mapi, --logon) ------------------------------------------

# The RPC endpoints behind the proxy, as the Remote Connectivity Analyzer names them
ENDPOINT_NAMES = {6001: "mail store", 6002: "directory referral", 6004: "address book"}
# Win32 codes of "503 RPC Error: <hex>" and RTS faults
RPC_ERRORS = {
    "5": "access denied",
    "6ba": "the RPC server is unavailable",
    "6be": "the remote procedure call failed",
    "6bf": "the remote procedure call failed and did not execute",
    "6d9": "no such endpoint is registered",
    "721": "a security package specific error occurred",
}
# [MS-OXCMAPIHTTP] 2.2.3.3.3 X-ResponseCode
MAPI_RESPONSE_CODES = {
    "0": "success",
    "1": "unknown failure",
    "2": "invalid verb",
    "3": "invalid path",
    "4": "invalid header",
    "5": "invalid request type",
    "6": "invalid context cookie",
    "7": "missing header",
    "8": "anonymous not allowed",
    "9": "request too large",
    "10": "session not found",
    "11": "no privilege",
    "12": "invalid request body",
    "13": "missing cookie",
    "15": "invalid sequence",
    "16": "endpoint disabled",
    "17": "invalid response",
    "18": "endpoint shutting down",
}
# [MS-OXCDATA] 2.4 / [MS-OXCSTOR] 3.2.5.1.3: the ErrorCode of a refused Connect
MAILBOX_ERRORS = {
    0x000003EB: "unknown user: no mailbox for this account",
    0x000003ED: "the server is stopping",
    0x000003EE: "the user's protocol settings are incorrect",
    0x000003F0: "the server is out of memory",
    0x000003F2: "no access rights to the mailbox",
    0x00000478: "wrong server: the mailbox is not on this server (moved?)",
    # ecServerPaused, as [MS-OXCSTOR] 3.2.5.1.3 defines it for a logon
    0x0000047F: "server paused: over five logons in 10 s to a mailbox it does not host",
    0x0000050C: "the mailbox is being moved",
    0x0000096C: "the mailbox is disabled",
    0x000006BB: "server busy (RPC_S_SERVER_TOO_BUSY)",
    0x80040111: "logon failed",
    0x80070005: "access denied",
}
# The steps of a logon (facts.logon STEP_*), as the long output says them
_STEPS = {
    "echo": "the echo",
    "virtual connections": "the virtual connections",
    "Connect": "Connect",
    "PING": "the PING in its session",
    "Disconnect": "Disconnect",
}
# Why a logon or a channel got no verdict (Authentication.detail, Endpoint.detail)
_NO_VERDICT = {
    "timeout": "no answer within the deadline",
    "untrusted": "the certificate does not verify for the host name, credentials not sent",
    "tls": "TLS failure",
    "network": "network failure",
    "refused": "connection refused",
    "closed": "the server closed the connection during the logon",
    "protocol": "not an HTTP answer",
    "too-big": "an answer too big",
    "no-challenge": "no NTLM/Negotiate challenge in the 401",
    "bad-challenge": "an invalid NTLM/Negotiate challenge",
    "ntlm-start": "NTLM could not start",
    "internal": "internal error",
}
# What an RTS reader found instead of RTS PDUs
_NOT_RTS = {
    "not-rts": "not RTS",
    "bad-length": "an RTS PDU of impossible length",
    "bad-command": "a malformed RTS command",
    "empty": "an empty body",
}


def endpoint_name(port: object) -> str:
    name = ENDPOINT_NAMES.get(port) if isinstance(port, int) else None
    return f"{port} {name}" if name else f"{port}"


def rpc_error_text(code: object) -> str:
    meaning = RPC_ERRORS.get(str(code).lower())
    return f"{shown(code, 16)} ({meaning})" if meaning else shown(code, 16)


def response_code_text(code: object) -> str:
    meaning = MAPI_RESPONSE_CODES.get(str(code))
    return f"{shown(code, 16)} ({meaning})" if meaning else shown(code, 16)


def _no_verdict(detail: object) -> str:
    return _NO_VERDICT.get(str(detail), shown(detail, 40) or "no answer")


def _mapi(ev: dict[str, object], limit: int) -> str:
    kind = ev["kind"]
    if kind == k.MAPI_HEALTH:
        return f"MAPI healthcheck.htm answered {wire(ev['status'], limit)}"
    if kind == k.MAPI_UNREACHABLE:
        return f"MAPI over HTTP: {shown(ev.get('detail', ''), limit)}"
    if kind == k.MAPI_NO_SCHEME:
        return "/mapi/emsmdb/ answered 401 without any WWW-Authenticate scheme"
    if kind == k.MAPI_MISSING_SCHEME:
        missing, offered = ev["missing"], ev["offered"]
        assert isinstance(missing, (list, tuple)) and isinstance(offered, (list, tuple))
        return (
            f"/mapi/emsmdb/ does not offer {', '.join(missing)}"
            f" (offers {', '.join(wire(s, 40) for s in offered)})"
        )
    status = wire(ev.get("status", ""), limit)
    if ev.get("code") == 200:
        return "/mapi/emsmdb/ answered 200 without authentication (anonymous access enabled)"
    if ev.get("code") == 404:
        return f"/mapi/emsmdb/ answered {status}: MAPI over HTTP is not enabled"
    return f"/mapi/emsmdb/ answered {status}"


def _logon(ev: dict[str, object], limit: int) -> str:
    kind, protocol = ev["kind"], ev.get("protocol", "")
    scheme = f" ({ev['scheme']})" if ev.get("scheme") else ""
    if kind == k.LOGON_NO_SERVER:
        if ev.get("server"):
            return (
                f"Autodiscover publishes an EXCH Server {wire(ev['server'], limit)} that cannot"
                " be used in a URL: no logon tried"
            )
        return "Autodiscover publishes no EXCH Server: the RPC endpoints cannot be tried"
    if kind == k.LOGON_BINDING_REFUSED:
        what = "binding" if limit < LONG else "channel binding"  # the first line is short
        text = (
            f"{protocol} logon refused with {what}, accepted without: the node binds"
            " another certificate than it presents (a TLS-offloading device?)"
        )
        if limit < LONG:
            return text
        return text + ", Outlook on current Windows prompts for credentials"
    if kind == k.LOGON_UNBOUND:
        if ev.get("basic"):
            return f"{protocol} offers only Basic: no channel binding (Extended Protection)"
        return (
            f"{protocol} logon accepted without channel binding: Extended Protection not enforced"
        )
    if kind == k.LOGON_REFUSED:
        return f"{protocol} logon refused{scheme} although Autodiscover accepted the credentials"
    if kind == k.LOGON_FAILED:
        return f"{protocol} logon failed{scheme}: {_no_verdict(ev.get('detail'))}"
    if kind == k.LOGON_NO_SCHEME:
        offered = ev.get("offered") or []
        assert isinstance(offered, (list, tuple))
        names = ", ".join(wire(s, 40) for s in offered) or "none"
        return f"{protocol} offers no scheme Outlook logs on with (offers {names})"
    return (
        "broken installation: Python module pyspnego is not installed"
        f" ({protocol} accepts only NTLM/Negotiate)"
    )


# -- Kerberos and --auth ------------------------------------------------------------------------

_KERBEROS = {
    "missing": "the Python module gssapi is not installed (apt install python3-gssapi on Debian,"
    " or pip install 'check_outlook_anywhere[kerberos]')",
    "kdc-unreachable": "the KDC did not answer within the deadline (Kerberos): check the realm's"
    " kdc in krb5.conf and that port 88 is open from the poller",
    "no-kdc": "no KDC for the realm (Kerberos): name it in krb5.conf or publish _kerberos SRV"
    " records",
    "client-unknown": "the KDC does not know the --username principal (Kerberos)",
    "client-revoked": "the KDC refuses the --username principal: disabled or locked out",
    "password-expired": "the --username principal's password has expired (Kerberos)",
    "preauth-failed": "the KDC refused the poller's credential (pre-authentication failed): a"
    " stale keytab (renew --keytab after a password change) or a wrong password",
    "no-credential": "no usable Kerberos credential: the keytab or KRB5CCNAME's ticket cache is"
    " missing, unreadable or expired",
    "failed": "Kerberos failed on the poller",
    "mutual": "the node's Kerberos mutual-authentication token does not verify",
    "refused": "the node refused the Kerberos ticket",
}


def kerberos_problem(problem: object, spn: object = "", code: object = None) -> str:
    """What went wrong with Kerberos, and the fix."""
    name = shown(spn, 80) or "HTTP/HOST"
    if problem == "spn-unknown":
        return (
            f"the KDC has no {name} (KDC_ERR_S_PRINCIPAL_UNKNOWN): register the SPN on the"
            f" Alternate Service Account (setspn -S {name} followed by its account name)"
        )
    if problem == "key":
        error = "KRB_AP_ERR_BADKEYVER" if str(code) == "44" else "KRB_AP_ERR_MODIFIED"
        return (
            f"the node cannot decrypt the ticket for {name} ({error}, code {shown(code, 8)}):"
            " it does not hold the Alternate Service Account's current key;"
            " fix: update the ASA credential on this node (RollAlternateServiceAccountPassword.ps1)"
        )
    if problem in ("skew", "node-skew"):
        which = f" (code {shown(code, 8)})" if code is not None else ""
        return (
            f"clock skew between the node and the KDC{which}: the ticket is not yet or no longer"
            " valid there; fix: synchronise the clocks (w32tm /resync)"
        )
    return _KERBEROS.get(str(problem), f"Kerberos: {shown(problem, 40)}")


def _kerberos(ev: dict[str, object], limit: int) -> str:
    problem, protocol = ev.get("problem"), ev.get("protocol", "")
    offered = ev.get("offered") or []
    assert isinstance(offered, (list, tuple))
    names = ", ".join(wire(s, 40) for s in offered) or "none"
    if problem == "kerberos-not-offered":
        return (
            f"{protocol} does not offer Kerberos (Negotiate) and --auth kerberos (offers {names})"
        )
    if problem in ("ntlm-not-offered", "basic-not-offered"):
        wanted = "NTLM" if problem == "ntlm-not-offered" else "Basic"
        return f"{protocol} does not offer {wanted} and --auth {wanted.lower()} (offers {names})"
    if problem == "ntlm-refused":
        return (
            f"{protocol} refuses NTLM and --auth ntlm: the node offers Negotiate only"
            f" (Kerberos; offers {names})"
        )
    said = kerberos_problem(problem, ev.get("spn"), ev.get("code"))
    if limit < LONG:  # the first line: what is wrong; the why and the fix are below
        said = _kerberos_short(said)
    return f"{protocol} logon (Kerberos): {said}"


def _kerberos_short(said: str) -> str:
    for cut in ("; fix", ": register", ": it does not hold", ": the ticket is not yet"):
        said = said.split(cut)[0]
    return said


def autodiscover_kerberos(kind: str, detail: object) -> str:
    """Autodiscover's POST and --auth, or Kerberos (``kerberos-<problem>``; ``detail``: the
    endpoint's host, or the schemes it offers)."""
    if kind.endswith("-not-offered"):
        wanted = {"kerberos": "Kerberos (Negotiate)", "ntlm": "NTLM", "basic": "Basic"}
        mode = kind.partition("-")[0]
        return (
            f"the endpoint does not offer {wanted.get(mode, mode)} and --auth {mode}"
            f" (offers {shown(detail, 80)})"
        )
    host, _, code = str(detail).partition(" ")
    return kerberos_problem(kind[9:], f"HTTP/{shown(host, 80)}", code or None)


def mailbox_error_text(code: object) -> str:
    if not isinstance(code, int):
        return shown(code, 16)
    meaning = MAILBOX_ERRORS.get(code)
    return f"{code:#x} ({meaning})" if meaning else f"{code:#x}"


def _step(step: object) -> str:
    return _STEPS.get(str(step), shown(step, 30))


def _mailbox(ev: dict[str, object], limit: int) -> str:
    """The mailbox logon: cut off, a step without answer, Connect refused, no LegacyDN."""
    kind, protocol = ev["kind"], ev.get("protocol", "")
    if kind == k.LOGON_CUT_OFF:
        return f"{protocol} logon cut off by the deadline during {_step(ev.get('step'))}"
    if kind == k.LOGON_STEP_FAILED:
        step = _step(ev.get("step")).removeprefix("the ").replace(" its ", " the ")
        return f"{protocol} {step} failed: {_no_verdict(ev.get('detail'))}"
    if kind == k.LOGON_NO_LEGACY_DN:
        if ev.get("legacy_dn"):  # Connect's UserDn is ASCII ([MS-OXCMAPIHTTP] 2.2.4.1.1)
            return (
                f"Autodiscover publishes a User/LegacyDN that is not ASCII"
                f" ({wire(ev['legacy_dn'], limit)}): no mailbox logon tried"
            )
        return "Autodiscover publishes no User/LegacyDN: no mailbox logon tried"
    if kind == k.LOGON_NO_MAILBOX:
        what = f" ({wire(ev['mailbox'], limit)})" if ev.get("mailbox") else ""
        return (
            f"Autodiscover publishes no mapiHttp MailboxId usable in a URL{what}:"
            " no mailbox logon tried"
        )
    status, code = str(ev.get("status", "")), ev.get("code")
    if not status.startswith("200"):
        extra = f", X-ResponseCode {response_code_text(code)}" if code else ""
        return f"mailbox logon refused: Connect answered {wire(status, limit)}{extra}"
    refused = "mailbox logon refused: Connect answered"
    if code != "0":
        return f"{refused} X-ResponseCode {response_code_text(code)}"
    if ev.get("status_code"):
        return f"{refused} StatusCode {mailbox_error_text(ev['status_code'])}"
    if ev.get("error_code") is None:
        return f"{refused} without StatusCode and ErrorCode"
    return f"{refused} ErrorCode {mailbox_error_text(ev['error_code'])}"


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


def _module_missing(ev: dict[str, object], limit: int) -> str:
    """One line for the check, whichever nodes and protocols needed the module."""
    module, protocols = str(ev.get("module", "pyspnego")), ev.get("protocols") or []
    assert isinstance(protocols, (list, tuple))
    nodes = ev.get("nodes", 1)
    where = f" on {nodes} nodes" if isinstance(nodes, int) and nodes > 1 else ""
    verb = "accept" if len(protocols) > 1 or where else "accepts"
    text = (
        f"Python module {module} is not installed"
        f" ({' and '.join(map(str, protocols))}{where} {verb} only NTLM/Negotiate)"
    )
    return text if limit < LONG else f"{text}: {shown(install_hint(module))}"


def _echo(ev: dict[str, object], limit: int) -> str:
    if ev.get("status"):
        return f"RPC echo answered {wire(ev['status'], limit)}"
    detail = str(ev.get("detail", ""))
    found = _NOT_RTS.get(detail) or f"a {shown(detail, 20)} PDU"
    return f"RPC echo answered 200 with {found} instead of an RTS echo"


def _endpoint(ev: dict[str, object], limit: int) -> str:
    who = f"endpoint {endpoint_name(ev['port'])}"
    outcome, detail = ev.get("outcome"), str(ev.get("detail", ""))
    if outcome == "rpc-error":
        return f"{who}: RPC Error {rpc_error_text(ev.get('code', ''))}"
    if outcome == "fault":
        return f"{who}: RTS fault {rpc_error_text(ev.get('code', ''))}"
    if outcome == "no-c2":
        pdus = ev.get("pdus") or []
        assert isinstance(pdus, (list, tuple))
        if detail == "too-long":
            why = "no CONN/C2 in 256 KiB of RTS PDUs"
        elif detail == "closed":
            why = "the proxy closed the OUT channel before CONN/C2"
        else:
            why = "no CONN/C2 within the deadline"
        seen = f", only {', '.join(shown(p, 20) for p in pdus)}" if pdus else ""
        return f"{who} did not answer through the RPC proxy ({why}{seen})"
    if outcome == "garbage":
        return f"{who}: the OUT channel sent {_NOT_RTS.get(detail, 'not RTS')}"
    if outcome == "http":
        return f"{who}: the OUT channel answered {wire(ev.get('status', ''), limit)}"
    if outcome == "refused":
        return f"{who}: the channel's logon was refused"
    return f"{who}: {_no_verdict(detail)}"


def _ping(ev: dict[str, object], limit: int) -> str:
    status = str(ev.get("status", ""))
    if ev.get("code") and status.startswith("200"):
        return f"MAPI PING answered X-ResponseCode {response_code_text(ev['code'])}"
    code = f", X-ResponseCode {response_code_text(ev['code'])}" if ev.get("code") else ""
    return f"MAPI PING answered {wire(status, limit)}{code}"


# -- revocation (--revocation) ---------------------------------------------------------------

_VIA = {"crl": "CRL", "ocsp": "OCSP"}
# What a revocation source answered, when it was no answer (facts.revocation outcomes).
_UNANSWERED = {
    "unknown": "the responder does not know the certificate",
    "not-fetched": "not fetched",
    "stale": "answered with a response past its nextUpdate",
}


def _revoked_role(ev: dict[str, object], limit: int) -> str:
    what = "issuing CA" if ev.get("ca") else "certificate"
    return f"{what} {shown(ev['cert'], limit)}"


def _reason(name: object) -> str:
    """``key_compromise`` -> key compromise (cryptography's ReasonFlags names)."""
    text = str(name or "").replace("_", " ").strip()
    return "" if text == "unspecified" else text


def _revoked(ev: dict[str, object], limit: int) -> str:
    """Date and reason first: a serial is up to 40 digits and the first line is short."""
    via = _VIA.get(str(ev.get("via")), "")
    text = f"{_revoked_role(ev, limit)} revoked"
    if ev.get("date"):
        text += f" on {ev['date']}"
    reason = _reason(ev.get("reason"))
    if reason:
        text += f", reason {reason}"
    return text + f" ({via}, serial {ev['serial']})"


def _crl_lapsed(ev: dict[str, object], limit: int) -> str:
    hours = ev["hours"]
    assert isinstance(hours, float)
    return (
        f"{_revoked_role(ev, limit)}: CRL {shown(ev['url'], limit)} is past its nextUpdate"
        f" ({ev['date']}, {-hours:.1f} hours ago): Windows treats revocation as unknown"
    )


def _crl_expiring(ev: dict[str, object], limit: int) -> str:
    hours = ev["hours"]
    assert isinstance(hours, float)
    return (
        f"{_revoked_role(ev, limit)}: CRL {shown(ev['url'], limit)} nextUpdate in"
        f" {hours:.1f} hours ({ev['date']}): is the CRL still published?"
    )


def _no_revocation_source(ev: dict[str, object], limit: int) -> str:
    named = ev.get("named") or []
    assert isinstance(named, (list, tuple))
    only = f" (only {', '.join(shown(u, limit) for u in named[:3])})" if named else ""
    return (
        f"{_revoked_role(ev, limit)} has no HTTP CRL distribution point and no OCSP URL{only}:"
        " clients outside the domain cannot check revocation"
    )


def _revocation_unavailable(ev: dict[str, object], limit: int) -> str:
    failures = ev.get("failures") or []
    assert isinstance(failures, (list, tuple))
    said = []
    for url, outcome, detail in failures[:4]:
        what = _UNANSWERED.get(str(outcome)) or shown(detail or outcome, limit)
        said.append(f"{shown(url, limit)} {what}")
    return f"{_revoked_role(ev, limit)}: revocation cannot be checked: {', '.join(said)}"


def _revocation_bad_signature(ev: dict[str, object], limit: int) -> str:
    what = "CRL" if ev.get("via") == "crl" else "OCSP response"
    return f"{_revoked_role(ev, limit)}: {what} from {shown(ev['url'], limit)} has a bad signature"


def _intermediate_supplied(ev: dict[str, object], limit: int) -> str:
    return (
        f"chain incomplete: issuing CA {shown(ev['ca'], limit)} is not sent, Windows fetches it"
        f" from {shown(ev['url'], limit)}, other clients fail"
    )


# -- --proxy ----------------------------------------------------------------------------------

# The proxy's own failures: nothing is known about the array.
_OF_PROXY = (k.PROXY_UNREACHABLE, k.PROXY_AUTH, k.PROXY_REFUSED)
_NOTHING_KNOWN = ", so nothing is known about the array"
# This poller's installation, not the array: a line of their own, not Autodiscover's.
_OF_INSTALLATION = (k.LOGON_NTLM_MISSING,)


def _proxy(ev: dict[str, object], limit: int) -> str:
    kind, detail = ev["kind"], wire(ev.get("detail", ""), limit)
    status = wire(ev.get("status", ""), limit)
    if kind == k.PROXY_REFUSED:
        what = f"refused CONNECT to {shown(ev['target'], limit)} ({status or detail})"
    elif kind == k.PROXY_AUTH:
        what = detail or "wants authentication"
    else:  # unreachable, or not speaking HTTP: the evidence says which
        what = detail or "unreachable"
    return what + _NOTHING_KNOWN


def _through_proxy(ev: dict[str, object], limit: int) -> str:
    kind, status = ev["kind"], wire(ev.get("status", ""), limit)
    if kind == k.PROXY_GATEWAY:
        return f"unreachable through the proxy ({status})"
    if kind == k.PROXY_TIMEOUT:
        return "unreachable through the proxy: no answer to CONNECT within the deadline"
    failure = ev.get("failure")
    if failure == "proxy-refused":
        return f"not probed: the proxy refused CONNECT ({status})"
    if failure == "proxy-auth":
        return "not probed: no proxy authentication"
    return "not probed: no tunnel through the proxy"


def proxy_text(facts: object) -> str:
    """The proxy's long-output line: the tunnels it opened, and how the check authenticated."""
    from ..facts.proxy import ProxyFacts

    assert isinstance(facts, ProxyFacts)
    opened = [t for t in facts.tunnels if not t.kind]
    parts = [f"{len(opened)}/{len(facts.tunnels)} tunnels opened (CONNECT)"]
    schemes = dict.fromkeys(t.scheme for t in facts.tunnels if t.scheme)
    if schemes:
        parts.append(f"{', '.join(schemes)} as {shown(facts.user)}")
    else:
        parts.append("no proxy authentication")
    return "; ".join(parts)


# -- the front doors (--auth-certificate, --health, --build) -----------------------------------

_METADATA = "Auth metadata"
_METADATA_FAILURES = {
    "unauthorized": "answered 401: anonymous access refused (partner applications cannot read it)",
    "login-page": "answered a login page (HTML) instead of the JSON document",
    "not-metadata": "is JSON without a keys[] list",
    "no-signing-key": "publishes no x509Certificate signing key",
    "bad-base64": "publishes a signing key whose certificate is not valid base64",
}


def product_line(build: object) -> str:
    """The product a build number belongs to (15.2 from build 2562 is Subscription Edition)."""
    from ..facts.frontdoors import parse_build

    parsed = parse_build(str(build))
    if parsed is None or parsed[0] != 15:
        return "unknown product line"
    minor = parsed[1]
    if minor == 2 and len(parsed) > 2 and parsed[2] >= 2562:
        return "Exchange Server Subscription Edition"
    return {0: "Exchange 2013", 1: "Exchange 2016", 2: "Exchange 2019"}.get(
        minor, "unknown product line"
    )


def _auth_expires(ev: dict[str, object], limit: int) -> str:
    days, date = ev["days"], ev["date"]
    assert isinstance(days, float)
    if ev.get("range"):
        where = "inside" if str(ev["range"]).startswith("@") else "outside"
        return (
            f"Exchange Auth certificate: {_days(days)} left, {where} the {ev['level']} range"
            f" {ev['range']} (expires {date})"
        )
    return f"Exchange Auth certificate expires in {_days(days)} ({date})"


def _auth_expired(ev: dict[str, object], limit: int) -> str:
    days = ev["days"]
    assert isinstance(days, float)
    ago = _days(-days) if days <= -0.1 else "less than 0.1 days"
    return f"Exchange Auth certificate expired {ago} ago ({ev['date']})"


def _auth_different(ev: dict[str, object], limit: int) -> str:
    others = ev["others"]
    text = (
        f"publishes another Exchange Auth certificate than the {others} other"
        f" node{'s' * (others != 1)} (expires {ev['date']}, theirs {ev['their_date']})"
    )
    if limit < LONG:
        return text
    return text + f" (thumbprint {ev['thumbprint']}, theirs {ev['their_thumbprint']})"


def _auth_unavailable(ev: dict[str, object], limit: int) -> str:
    failure, detail = str(ev.get("failure")), wire(ev.get("detail", ""), limit)
    if failure == "status":
        said = f"answered {wire(ev.get('status', ''), limit)}"
    elif failure == "not-json":
        said = f"is not JSON ({detail})"
    elif failure == "too-deep":
        said = f"is nested more than {detail} levels deep: not read"
    elif failure == "bad-certificate":
        said = f"publishes a signing key whose certificate does not parse ({detail})"
    elif failure in _METADATA_FAILURES:
        said = _METADATA_FAILURES[failure]
    else:  # no answer: a timeout, a body over the bound, a network failure
        said = f"not read: {detail or 'no answer'}"
    everywhere = ", no node publishes the Exchange Auth certificate" if ev.get("everywhere") else ""
    return f"{_METADATA} {said}{everywhere}"


def _health_down(ev: dict[str, object], limit: int) -> str:
    vdir = shown(ev["vdir"], limit)
    return f"{vdir} is down: /{vdir}/healthcheck.htm {_health_said(ev.get('status'), limit)}"


def _health_said(status: object, limit: int) -> str:
    text = str(status or "")
    if text[:3].isdigit():
        return f"answered {wire(text, limit)}"
    return f"not read: {wire(text, limit) or 'no answer'}"


def _health_everywhere(ev: dict[str, object], limit: int) -> str:
    vdir, nodes, statuses = shown(ev["vdir"], limit), ev["down_on"], ev["statuses"]
    assert isinstance(nodes, (list, tuple)) and isinstance(statuses, (list, tuple))
    said = ", ".join(_health_said(s, limit) for s in statuses[:3])
    return f"{vdir} is down on every node ({len(nodes)}): /{vdir}/healthcheck.htm {said}"


def _build_behind(ev: dict[str, object], limit: int) -> str:
    ahead = ev["ahead"]
    return (
        f"build {ev['build']} ({product_line(ev['build'])}) is behind {ev['newest']} of"
        f" {ahead} other node{'s' * (ahead != 1)}: an update missed?"
    )


def _build_below(ev: dict[str, object], limit: int) -> str:
    return (
        f"build {ev['build']} ({product_line(ev['build'])}) is below {ev['option']}"
        f" {shown(ev['floor'], limit)}"
    )


def _build_unknown(ev: dict[str, object], limit: int) -> str:
    if ev.get("error"):
        return f"build not read: GET /owa/ {_health_said(ev['error'], limit)}"
    if ev.get("sent"):
        return f"X-OWA-Version '{wire(ev['sent'], 40)}' is not a build number"
    status = wire(ev.get("status", ""), limit)
    return f"build not read: GET /owa/ answered {status} without X-OWA-Version"


FRONT_DOOR_PHRASES = {
    k.AUTH_EXPIRED: _auth_expired,
    k.AUTH_EXPIRES_SOON: _auth_expires,
    k.AUTH_DIFFERENT: _auth_different,
    k.AUTH_UNAVAILABLE: _auth_unavailable,
    k.HEALTH_DOWN: _health_down,
    k.HEALTH_DOWN_EVERYWHERE: _health_everywhere,
    k.BUILD_BEHIND: _build_behind,
    k.BUILD_BELOW: _build_below,
    k.BUILD_UNKNOWN: _build_unknown,
}


def frontdoor_text(door: object, now: float) -> str:
    """What one node's front doors said, for its long-output line."""
    from ..facts.frontdoors import FrontDoorFacts

    assert isinstance(door, FrontDoorFacts)
    parts = []
    key = door.auth.latest() if door.auth is not None else None
    if door.auth is not None and key is not None:
        text = (
            f"Auth certificate {shown(key.subject)}, {key.days_left(now):.1f} days left"
            f" ({iso_date(key.not_after)}), thumbprint {key.thumbprint}"
        )
        if len(door.auth.keys) > 1:
            text += (
                f" ({len(door.auth.keys)} signing keys published: a next certificate? the one"
                " that expires last is judged)"
            )
        parts.append(text)
    if door.health is not None:
        ok = [page.vdir for page in door.health if page.ok]
        text = f"healthcheck.htm 200 for {len(ok)}/{len(door.health)}"
        if ok:
            text += f" ({', '.join(shown(v) for v in ok)})"
        if door.server:
            text += f", server {wire(door.server)}"
        parts.append(text)
    if door.build:
        parts.append(f"build {wire(door.build, 40)} ({product_line(door.build)})")
    return "; ".join(parts)


def frontdoors_all_well(doors: list[object], now: float) -> str:
    """The front doors' part of the first line when every node is OK."""
    from ..facts.frontdoors import FrontDoorFacts

    text = ""
    keys = [d.auth.latest() for d in doors if isinstance(d, FrontDoorFacts) and d.auth]
    dated = [key for key in keys if key is not None]
    if dated:
        first = min(dated, key=lambda key: key.not_after)
        text += (
            f", Auth certificate {first.days_left(now):.1f} days left"
            f" (expires {iso_date(first.not_after)})"
        )
    pages = [p for d in doors if isinstance(d, FrontDoorFacts) for p in d.health or []]
    if pages:
        text += f", {sum(p.ok for p in pages)}/{len(pages)} healthcheck.htm OK"
    builds = {d.build for d in doors if isinstance(d, FrontDoorFacts) and d.build}
    if len(builds) == 1:
        build = builds.pop()
        text += f", build {wire(build, 40)} ({product_line(build)})"
    return text


def frontdoor_shared(verdict: Verdict, address: str) -> list[Finding]:
    """The array's findings that concern a node too (a protocol down on every node)."""
    return [f for f in verdict.findings if address in f.evidence.get("down_on", ())]


def frontdoor_blocks(verdict: Verdict) -> list[tuple[object, list[str]]]:
    """The long output's line for a protocol down on every node (said once, for the array),
    with its state (the long output is ordered worst first)."""
    return [
        (f.state, [f"Health {_state(f.state)}: {phrase(f)}"])
        for f in verdict.findings
        if f.kind == k.HEALTH_DOWN_EVERYWHERE
    ]


_PHRASES = {
    k.PRINCIPAL_MISMATCH: _mismatch,
    k.SAN_ONLY: _san_only,
    k.WILDCARD_ONLY: _wildcard,
    k.SEVERAL_CNS: _several_cns,
    k.EXPIRES_SOON: _expires,
    k.EXPIRED: _expired,
    k.NOT_YET_VALID: _not_yet_valid,
    k.UNTRUSTED: _untrusted,
    k.WEAK_KEY: _weak_key,
    k.WEAK_SIGNATURE: _weak_signature,
    k.OLD_PROTOCOL: _old_protocol,
    k.UNPARSABLE: _unparsable,
    k.NO_CERTIFICATE: _no_certificate,
    k.CONNECTION: _connection,
    k.BROKEN_INSTALLATION: _broken,
    k.DIFFERENT_CERTIFICATE: _different,
    k.NO_ADDRESS: _no_address,
    k.AUTODISCOVER_FAILED: _autodiscover_failed,
    k.NOT_PUBLISHED: _not_published,
    k.UNPINNED: _unpinned,
    k.SSL_OFF: _ssl_off,
    k.NO_SERVER: _no_server,
    k.PRINCIPAL_DISAGREES: _disagrees,
    k.REVOKED: _revoked,
    k.CRL_LAPSED: _crl_lapsed,
    k.CRL_EXPIRING: _crl_expiring,
    k.NO_REVOCATION_SOURCE: _no_revocation_source,
    k.REVOCATION_UNAVAILABLE: _revocation_unavailable,
    k.REVOCATION_BAD_SIGNATURE: _revocation_bad_signature,
    k.INTERMEDIATE_SUPPLIED: _intermediate_supplied,
    **{kind: _proxy for kind in _OF_PROXY},
    k.PROXY_GATEWAY: _through_proxy,
    k.PROXY_TIMEOUT: _through_proxy,
    k.PROXY_BLOCKED: _through_proxy,
    **{
        kind: _rpc
        for kind in (
            k.RPC_UNREACHABLE,
            k.RPC_NO_SCHEME,
            k.RPC_MISSING_SCHEME,
            k.RPC_ANONYMOUS,
            k.RPC_REDIRECT,
            k.RPC_NOT_INSTALLED,
            k.RPC_FORBIDDEN,
            k.RPC_FAILURE,
        )
    },
    **{
        kind: _mapi
        for kind in (
            k.MAPI_HEALTH,
            k.MAPI_UNREACHABLE,
            k.MAPI_NO_SCHEME,
            k.MAPI_MISSING_SCHEME,
            k.MAPI_FAILURE,
        )
    },
    **{
        kind: _logon
        for kind in (
            k.LOGON_NO_SERVER,
            k.LOGON_BINDING_REFUSED,
            k.LOGON_UNBOUND,
            k.LOGON_REFUSED,
            k.LOGON_FAILED,
            k.LOGON_NO_SCHEME,
        )
    },
    k.LOGON_NTLM_MISSING: _module_missing,
    k.LOGON_KERBEROS: _kerberos,
    k.ECHO_FAILED: _echo,
    k.ENDPOINT_FAILED: _endpoint,
    k.PING_FAILED: _ping,
    **{
        kind: _mailbox
        for kind in (
            k.LOGON_CUT_OFF,
            k.LOGON_STEP_FAILED,
            k.LOGON_NO_LEGACY_DN,
            k.LOGON_NO_MAILBOX,
            k.MAILBOX_LOGON_FAILED,
        )
    },
    **FRONT_DOOR_PHRASES,
}


def phrase(finding: Finding, limit: int = LONG) -> str:
    """What is wrong, without its subject or fix: the same words on the first line and below."""
    ev = finding.evidence
    if finding.kind.startswith(("rpc-", "mapi-", "logon-", "proxy-", "mailbox-")):
        ev = {**ev, "kind": finding.kind}
    return _PHRASES[finding.kind](ev, limit)


def subject(finding: Finding, limit: int = LONG) -> str:
    """Who the finding is about: a node's address, the host name (DNS), or nothing."""
    if finding.node is not None:
        return finding.node
    if finding.kind == k.NO_ADDRESS:
        return shown(finding.evidence["host"], limit)
    if finding.kind in _OF_PROXY:
        return f"proxy {shown(finding.evidence['proxy'], limit)}"
    return ""


def fix_text(fix: Fix) -> str:
    """The ways out; a principal to publish is only ever one the certificates satisfy."""
    if fix.correct and fix.certificate:  # neither side is satisfied
        return (
            f"fix: a certificate whose CN is {shown(fix.certificate)}, and correct"
            f" {fix.correct} to {display(shown(fix.value or ''))}"
        )
    if fix.correct:
        return f"fix: correct {fix.correct} to {display(shown(fix.value or ''))}"
    publish = ""
    if fix.publish:
        name = display(shown(fix.publish))
        publish = " and ".join(
            f'Set-OutlookProvider {provider} -CertPrincipalName:"{name}"'
            for provider in fix.provider.split(" and ")
        )
    if fix.certificate and publish:
        return f"fix: a certificate whose CN is {shown(fix.certificate)}, or {publish}"
    if fix.certificate:
        return f"fix: replace the certificate with one whose CN is {shown(fix.certificate)}"
    return f"fix: {publish}" if publish else "fix: replace the certificate"


def resolution_text(failure: str, detail: str, source: str) -> str:
    via = f" ({source})"
    if failure == "nxdomain":
        return "no such name (NXDOMAIN)" + via
    if failure == "no-aaaa":
        return "no IPv6 (AAAA) address" + via
    if failure == "no-a":
        return "no IPv4 (A) address" + via
    if failure == "no-address":
        return "the name has no A or AAAA address" + via
    if failure == "timeout":
        return "DNS lookup timed out" + via
    if failure == "servfail":
        return "DNS lookup failed: server failure" + (f" ({detail}, {source})" if detail else via)
    if failure == "excluded":
        return "-4/-6 excludes every address"
    return f"DNS lookup failed: {shown(detail, SHORT)}" + via


def resolution_failure(resolution: Resolution) -> str:
    return resolution_text(resolution.failure, resolution.detail, resolution.source)


# -- descriptions for the long output -------------------------------------------------------


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.0f} ms"


def certificate_text(cert: object, now: float) -> str:
    """CN, e-mail, SAN, days left, issuer: what a certificate says about itself."""
    from ..facts.certificate import CertFacts

    assert isinstance(cert, CertFacts)
    cns = ", ".join(shown(cn) for cn in cert.cns) if cert.cns else "no subject CN"
    parts = [f"CN {cns}" if cert.cns else cns]
    if cert.emails:
        parts.append(f"e-mail {', '.join(shown(e) for e in cert.emails)}")
    if cert.sans:
        parts.append(f"SAN {', '.join(shown(s) for s in cert.sans)}")
    parts.append(f"{cert.days_left(now):.1f} days left ({iso_date(cert.not_after)})")
    parts.append(f"issuer {shown(cert.issuer)}")
    return "; ".join(parts)


def node_details(node: NodeFacts, now: float) -> str:
    """What one node served: certificate, thumbprint, protocol, time."""
    if node.leaf is None:
        timing = _ms(node.connect_time)
        return f"connected in {timing}" if timing else ""
    parts = [
        certificate_text(node.leaf, now),
        f"thumbprint {node.leaf.thumbprint}",
        node.tls_version,
        _ms(node.total_time),
    ]
    return "; ".join(p for p in parts if p)


def autodiscover_text(facts: object) -> str:
    """One long-output line: what was asked, where it answered, what it publishes."""
    from ..facts.http import AutodiscoverFacts
    from ..judgement.autodiscover import publications

    assert isinstance(facts, AutodiscoverFacts)

    def named(value: str) -> str:
        return wire(value) if value in facts.from_servers else shown(value)

    parts = [f"Autodiscover {shown(facts.email)}"]
    if facts.final_email != facts.email:
        parts.append(f"redirected to {named(facts.final_email)}")
    if facts.url:
        parts.append(f"answered by {named(facts.url)}")
    if facts.hops:
        parts.append(f"{len(facts.hops)} redirect(s)")
    for item in publications(facts):
        value = display(wire(item.name)) if item.name else "None"
        how = "CertPrincipalName" if item.explicit else "no CertPrincipalName, so"
        ssl = f", SSL {wire(item.ssl, 8)}" if item.ssl else ""
        parts.append(f"{item.provider} Server {wire(item.server or '(none)')}{ssl}, {how} {value}")
    if facts.attempts:
        tried = ", ".join(f"{named(a.url)}: {shown(a.outcome)}" for a in facts.attempts[:8])
        parts.append(f"tried {tried}")
    parts.append(f"{facts.elapsed * 1000:.0f} ms")
    return "; ".join(parts)


def rpc_text(facts: object) -> str:
    """What one node's RPC proxy answered, for its long-output line."""
    from ..facts.http import RpcFacts

    assert isinstance(facts, RpcFacts)
    parts = []
    if facts.status is not None:
        parts.append(f"rpcproxy.dll {facts.status} {wire(facts.reason, 80)}".strip())
    if facts.schemes:
        parts.append(f"schemes {', '.join(wire(s, 40) for s in facts.schemes)}")
    if facts.server_name:
        parts.append(f"server {wire(facts.server_name)}")
    if facts.fe_server:
        parts.append(f"X-FEServer {wire(facts.fe_server)}")
    if facts.elapsed is not None:
        parts.append(_ms(facts.elapsed))
    return "; ".join(parts)


def mapi_text(facts: object) -> str:
    """What one node's MAPI over HTTP answered without credentials."""
    from ..facts.logon import MapiProbe

    assert isinstance(facts, MapiProbe)
    parts = []
    if facts.health is not None:
        parts.append(f"healthcheck.htm {facts.health}")
    if facts.status is not None:
        parts.append(f"/mapi/emsmdb/ {facts.status} {wire(facts.reason, 80)}".strip())
    if facts.schemes:
        parts.append(f"schemes {', '.join(wire(s, 40) for s in facts.schemes)}")
    if facts.elapsed is not None:
        parts.append(_ms(facts.elapsed))
    return "; ".join(parts)


def _binding_text(auth: object, protocol: str) -> str:
    """How the node took the logon: the Extended Protection part of a long-output line."""
    from ..facts.logon import ACCEPTED, Authentication

    assert isinstance(auth, Authentication)
    if not auth.scheme or not auth.outcome:
        return ""
    if auth.scheme == "Basic":
        return f"{protocol} logon Basic {auth.outcome} (no channel binding)"
    text = f"{protocol} logon {shown(auth.scheme, 20)}"
    if auth.outcome == ACCEPTED:
        text += ", Extended Protection: binding accepted"
        if auth.unbound_outcome:
            text += f", without binding {auth.unbound_outcome}"
    elif auth.retry_outcome:
        text += f", with binding {auth.outcome}, without binding {auth.retry_outcome}"
    else:
        text += f" {auth.outcome}"
    if auth.elapsed is not None and auth.accepted:
        text += f" in {_ms(auth.elapsed)}"
    return text


def logon_text(rpc: object | None, mapi: object | None) -> str:
    """What logging on to one node showed: Extended Protection, echo, endpoints, PING."""
    from ..facts.logon import REACHED, MapiLogon, RpcLogon

    parts = []
    if isinstance(rpc, RpcLogon):
        said = _binding_text(rpc.auth, "RPC")
        if said:
            parts.append(said)
        if rpc.echo == "ok":
            parts.append("echo OK")
        reached = [e for e in rpc.endpoints if e.outcome == REACHED]
        if reached:
            answered = ", ".join(f"{endpoint_name(e.port)} {_ms(e.elapsed)}" for e in reached)
            parts.append(f"CONN/C2 from {answered}")
    if isinstance(mapi, MapiLogon):
        said = _binding_text(mapi.auth, "MAPI")
        if said:
            parts.append(said)
        if mapi.logged_on:  # "mailbox logon" only where Connect succeeded
            took = f" in {_ms(mapi.connect_elapsed)}" if mapi.connect_elapsed is not None else ""
            parts.append(f"mailbox logon (Connect){took}")
        if mapi.request == "PING" and mapi.status is not None and mapi.auth.accepted:
            code = mapi.response_code
            parts.append(
                f"PING {mapi.status}"
                + (f" X-ResponseCode {response_code_text(code)}" if code else "")
                + (f" {_ms(mapi.elapsed)}" if mapi.elapsed is not None else "")
            )
        if mapi.session:
            parts.append("Disconnect answered" if mapi.disconnected else "Disconnect not answered")
    return "; ".join(parts)


# -- the first line and the long output ---------------------------------------------------------


def _state(state: object) -> str:
    return str(state).upper()


def headline(verdict: Verdict, facts: CheckFacts, policy: Policy, budget: int) -> str:
    """The first line after ``OUTLOOK_ANYWHERE <STATE> - ``: at most ``budget`` characters, no
    ``;`` (Nagios 4 rewrites it to ``:``)."""
    from nagiosplugin.state import Ok

    tail = f" [{verdict.nodes_ok}/{verdict.nodes} nodes OK]" if verdict.nodes else ""
    bad = [f for f in verdict.findings if f.state != Ok]
    if bad:
        first = bad[0]
        who = subject(first, SHORT)
        text = (f"{who}: " if who else "") + phrase(first, SHORT)
        if len(bad) > 1:
            tail = f" (+{len(bad) - 1} more)" + tail
    else:
        text, tail = _all_well(verdict, facts, policy), ""
    text = text.replace(";", ",")
    room = budget - len(tail)
    if len(text) > room:
        text = text[: max(room - 3, 0)].rstrip() + "..."
    return text + tail


def _all_well(verdict: Verdict, facts: CheckFacts, policy: Policy) -> str:
    from ..judgement.principal import Match, match

    leaves = [n.leaf for n in facts.nodes if n.leaf is not None]
    if not leaves:
        return "no node to check"
    matched = []
    for wanted in verdict.principals:
        how = {match(wanted.name, leaf.cns, leaf.sans) for leaf in leaves}
        name = display(shown(wanted.name, SHORT))
        if how == {Match.CN}:
            matched.append(f"{name} matches the CN")
        elif how == {Match.SAN}:
            sans = {_san_matched(wanted.name, leaf.sans) for leaf in leaves}
            matched.append(f"{name} matches SAN {', '.join(shown(s, SHORT) for s in sorted(sans))}")
        else:
            matched.append(f"{name} matches the CN or a SAN")
    days = min(leaf.days_left(facts.now) for leaf in leaves)
    expires = iso_date(min(leaf.not_after for leaf in leaves))
    text = (
        f"{verdict.nodes_ok}/{verdict.nodes} nodes OK: {', '.join(matched)},"
        f" {days:.1f} days left (expires {expires})"
    )
    if facts.autodiscover is not None:
        text += ", as Autodiscover publishes"
    if not policy.check_trust:
        text += ", trust not checked"
    logon = facts.logon
    logged_on = logon is not None and not logon.skipped
    if facts.rpc and not (logged_on and logon is not None and logon.rpc):
        schemes = dict.fromkeys(s for r in facts.rpc for s in r.schemes)
        text += f", rpcproxy.dll 401 ({', '.join(wire(s, 20) for s in schemes)})"
    if logged_on and logon is not None:
        done = (["echo, 6001/6002/6004"] if logon.rpc else []) + (
            ["mailbox logon"] if logon.mapi else []
        )
        text += f", logged on: {', '.join(done)}"
    elif facts.mapi:
        text += ", MAPI over HTTP answers"
    if facts.revocation is not None:
        text += _revocation_checked(facts.revocation)
    if facts.frontdoors is not None:
        text += frontdoors_all_well(list(facts.frontdoors), facts.now)
    return text


def _revocation_checked(revocation: object) -> str:
    """How many certificates were looked up; one whose issuer nobody sent was not (only with
    --ignore-trust is such a chain OK)."""
    from ..facts.revocation import RevocationFacts

    assert isinstance(revocation, RevocationFacts)
    certs = [cert for chain in revocation.chains for cert in chain.certs]
    checked = sum(1 for cert in certs if not cert.without_issuer)
    unchecked = len(certs) - checked
    text = f", not revoked ({checked} certificate{'s' * (checked != 1)} checked)" if checked else ""
    if unchecked:
        text += f", revocation of {unchecked} not checked (issuer not sent)"
    return text


def _san_matched(principal: str, sans: tuple[str, ...]) -> str:
    from ..judgement.principal import normalize

    wanted = normalize(principal)
    return next((s for s in sans if normalize(s) == wanted), principal)


def long_output(verdict: Verdict, facts: CheckFacts, verbosity: int) -> list[str]:
    """One line for DNS and for Autodiscover where there is something to say, one per node
    (its findings and fixes, then what it served), and at ``-v`` the chain of every node.

    Worst first: front ends show the long output folded to its first lines (Icinga Web 2 until
    "expand"), so the parts and nodes that need action come before the OK ones; within one
    state, in the order they were checked (nodes by address)."""
    from nagiosplugin.state import Ok

    blocks: list[tuple[object, list[str]]] = []  # (state, lines that stay together)
    if facts.proxy is not None:  # its state only when it failed itself (nodes say the rest)
        about = [f for f in verdict.findings if f.kind in _OF_PROXY]
        said = "; ".join(phrase(f) for f in about)
        worst = max((f.state for f in about), default=Ok)
        state = f" {_state(worst)}: {said}" if about else ""
        line = f"proxy {shown(facts.proxy.proxy)}{state} -- {proxy_text(facts.proxy)}"
        blocks.append((worst, [line]))
    for finding in verdict.findings:
        if finding.kind == k.NO_ADDRESS:
            line = f"{_state(finding.state)}: {subject(finding)}: {phrase(finding)}"
            blocks.append((finding.state, [line]))
        elif finding.kind in _OF_INSTALLATION and finding.node is None:
            blocks.append((finding.state, [f"{_state(finding.state)}: {phrase(finding)}"]))
    logon = facts.logon
    if facts.autodiscover is not None:
        about = [
            f
            for f in verdict.findings
            if f.node is None
            and f.kind not in (k.NO_ADDRESS, k.HEALTH_DOWN_EVERYWHERE)  # lines of their own
            and f.kind not in _OF_PROXY
            and f.kind not in _OF_INSTALLATION
        ]
        state = max((f.state for f in about), default=Ok)
        said = "; ".join(_with_fix(f) for f in about)
        lines = [
            f"Autodiscover {_state(state)}"
            + (f": {said}" if said else "")
            + f" -- {autodiscover_text(facts.autodiscover)}"
        ]
        blocks.append((state, lines))
    if logon is not None and logon.skipped == "autodiscover":  # under Autodiscover's line
        said = "Logon not tried: Autodiscover did not accept the credentials"
        if blocks and facts.autodiscover is not None:
            blocks[-1][1].append(said)
        else:
            blocks.append((Ok, [said]))
    blocks += frontdoor_blocks(verdict)
    doors = {d.address: d for d in facts.frontdoors or []}
    rpc = {r.address: r for r in facts.rpc or []}
    mapi = {m.address: m for m in facts.mapi or []}
    rpc_logon = {r.address: r for r in logon.rpc or []} if logon else {}
    mapi_logon = {m.address: m for m in logon.mapi or []} if logon else {}
    for node in facts.nodes:
        own = verdict.of(node.address) + frontdoor_shared(verdict, node.address)
        state = max((f.state for f in own), default=Ok)
        line = f"{node.address} {_state(state)}"
        if own:
            line += ": " + "; ".join(_with_fix(f) for f in own)
        details = node_details(node, facts.now)
        if node.address in rpc:
            details = "; ".join(d for d in (details, rpc_text(rpc[node.address])) if d)
        if node.address in mapi:
            details = "; ".join(d for d in (details, mapi_text(mapi[node.address])) if d)
        if node.address in doors:
            said = frontdoor_text(doors[node.address], facts.now)
            details = "; ".join(d for d in (details, said) if d)
        said = logon_text(rpc_logon.get(node.address), mapi_logon.get(node.address))
        if said:
            details = "; ".join(d for d in (details, said) if d)
        lines = [line + (f" -- {details}" if details else "")]
        if facts.revocation is not None:
            lines += [
                f"  revocation: {revocation_text(chain, facts.now)}"
                for chain in facts.revocation.chains
                if chain.addresses[0] == node.address
            ]
        if verbosity >= 1:
            for depth, cert in enumerate(node.chain):
                lines.append(
                    f"  [{depth}] {certificate_text(cert, facts.now)}"
                    f"; serial {cert.serial}; SHA-256 {cert.sha256}"
                )
        blocks.append((state, lines))
    # A stable sort: equal states keep the order above
    blocks.sort(key=lambda block: block[0], reverse=True)  # type: ignore[arg-type,return-value]
    return [line for _, block in blocks for line in block]


def revocation_text(chain: object, now: float) -> str:
    """What every source of every certificate of one chain answered (long output, under the
    first node that sent the chain)."""
    from ..facts.revocation import ChainRevocation

    assert isinstance(chain, ChainRevocation)
    parts = []
    if len(chain.addresses) > 1:
        parts.append(f"the chain of {', '.join(chain.addresses)}")
    if chain.supplied:
        parts.append(f"{shown(chain.supplied_label)} fetched from {shown(chain.supplied)}")
    for cert in chain.certs:
        if cert.without_issuer:
            parts.append(f"{shown(cert.label)}: issuer not known, not checked")
            continue
        said = []
        for source in cert.sources:
            what = _source_text(source, now)
            said.append(f"{_VIA.get(source.kind, source.kind)} {shown(source.url)} {what}")
        parts.append(f"{shown(cert.label)}: {', '.join(said) or 'no source'}")
    return "; ".join(parts) if parts else "nothing to check"


def _source_text(source: object, now: float) -> str:
    from ..facts import revocation as r

    assert isinstance(source, r.Source)
    if source.outcome == r.GOOD:
        if source.next_update is None:
            return "good"
        if source.next_update < now:  # judged as stale: the line must not read "good"
            return f"not revoked, but stale: past its next update {iso_date(source.next_update)}"
        return f"good (next update {iso_date(source.next_update)})"
    if source.outcome == r.REVOKED:
        return "revoked"
    if source.outcome in _UNANSWERED:
        return _UNANSWERED[source.outcome]
    return shown(source.detail or source.outcome)


def trace_lines(steps: list[tuple[float, str, str]]) -> list[str]:
    """``-vvv``: every step of the check, in order, with its time since the start."""
    return ["trace:"] + [
        f"  {at * 1000:7.1f} ms  {shown(where)}: {shown(what)}" for at, where, what in steps
    ]


def _with_fix(finding: Finding) -> str:
    text = phrase(finding)
    if finding.kind == k.DIFFERENT_CERTIFICATE:
        ev = finding.evidence
        text += f" (thumbprint {ev['thumbprint']}, the others' {ev['their_thumbprint']})"
    if finding.fix is not None:
        text += "; " + fix_text(finding.fix)
    return text
