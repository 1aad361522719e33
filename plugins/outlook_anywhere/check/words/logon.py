"""The words of MAPI over HTTP and of logging on (``judgement.logon``, ``--mapi``, ``--logon``):
the MAPI endpoint without credentials, the logon and its channel binding, the RPC echo, the
endpoints behind the RPC proxy, the mailbox logon and its PING, the module NTLM needs; and the
node's part of the long output."""

from __future__ import annotations

from ...judgement import findings as k
from .shared import LONG, install_hint, ms_text, shown, wire

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
    "protocol": "an invalid HTTP answer",
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


def mapi(ev: dict[str, object], limit: int) -> str:
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


def logon(ev: dict[str, object], limit: int) -> str:
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


def mailbox_error_text(code: object) -> str:
    if not isinstance(code, int):
        return shown(code, 16)
    meaning = MAILBOX_ERRORS.get(code)
    return f"{code:#x} ({meaning})" if meaning else f"{code:#x}"


def _step(step: object) -> str:
    return _STEPS.get(str(step), shown(step, 30))


def mailbox(ev: dict[str, object], limit: int) -> str:
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
    if not code:  # the code every answer carries ([MS-OXCMAPIHTTP] 2.2.2.2), and none came
        return f"{refused} without X-ResponseCode"
    if code != "0":
        return f"{refused} X-ResponseCode {response_code_text(code)}"
    if ev.get("status_code"):
        return f"{refused} StatusCode {mailbox_error_text(ev['status_code'])}"
    if ev.get("error_code") is None:
        return f"{refused} without StatusCode and ErrorCode"
    return f"{refused} ErrorCode {mailbox_error_text(ev['error_code'])}"


def module_missing(ev: dict[str, object], limit: int) -> str:
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


def echo(ev: dict[str, object], limit: int) -> str:
    if ev.get("status"):
        return f"RPC echo answered {wire(ev['status'], limit)}"
    detail = str(ev.get("detail", ""))
    found = _NOT_RTS.get(detail) or f"a {shown(detail, 20)} PDU"
    return f"RPC echo answered 200 with {found} instead of an RTS echo"


def endpoint(ev: dict[str, object], limit: int) -> str:
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
        elif detail in ("", "timeout"):
            why = "no CONN/C2 within the deadline"
        else:  # the OUT channel broke off early: an invalid framing, TLS, the network
            why = f"{_no_verdict(detail)} before CONN/C2"
        seen = f", only {', '.join(shown(p, 20) for p in pdus)}" if pdus else ""
        return f"{who} did not answer through the RPC proxy ({why}{seen})"
    if outcome == "garbage":
        return f"{who}: the OUT channel sent {_NOT_RTS.get(detail, 'not RTS')}"
    if outcome == "http":
        return f"{who}: the OUT channel answered {wire(ev.get('status', ''), limit)}"
    if outcome == "refused":
        return f"{who}: the channel's logon was refused"
    return f"{who}: {_no_verdict(detail)}"


def ping(ev: dict[str, object], limit: int) -> str:
    status = str(ev.get("status", ""))
    if ev.get("code") and status.startswith("200"):
        return f"MAPI PING answered X-ResponseCode {response_code_text(ev['code'])}"
    if status.startswith("200"):  # a 200 alone is no success: the code every answer carries
        # ([MS-OXCMAPIHTTP] 2.2.2.2) did not come
        return f"MAPI PING answered {wire(status, limit)} without X-ResponseCode"
    code = f", X-ResponseCode {response_code_text(ev['code'])}" if ev.get("code") else ""
    return f"MAPI PING answered {wire(status, limit)}{code}"


def mapi_text(facts: object) -> str:
    """What one node's MAPI over HTTP answered without credentials."""
    from ...facts.logon import MapiProbe

    assert isinstance(facts, MapiProbe)
    parts = []
    if facts.health is not None:
        parts.append(f"healthcheck.htm {facts.health}")
    if facts.status is not None:
        parts.append(f"/mapi/emsmdb/ {facts.status} {wire(facts.reason, 80)}".strip())
    if facts.schemes:
        parts.append(f"schemes {', '.join(wire(s, 40) for s in facts.schemes)}")
    if facts.elapsed is not None:
        parts.append(ms_text(facts.elapsed))
    return "; ".join(parts)


def _binding_text(auth: object, protocol: str) -> str:
    """How the node took the logon: the Extended Protection part of a long-output line."""
    from ...facts.logon import ACCEPTED, Authentication

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
        text += f" in {ms_text(auth.elapsed)}"
    return text


def logon_text(rpc: object | None, mapi: object | None) -> str:
    """What logging on to one node showed: Extended Protection, echo, endpoints, PING."""
    from ...facts.logon import REACHED, MapiLogon, RpcLogon

    parts = []
    if isinstance(rpc, RpcLogon):
        said = _binding_text(rpc.auth, "RPC")
        if said:
            parts.append(said)
        if rpc.echo == "ok":
            parts.append("echo OK")
        reached = [e for e in rpc.endpoints if e.outcome == REACHED]
        if reached:
            answered = ", ".join(f"{endpoint_name(e.port)} {ms_text(e.elapsed)}" for e in reached)
            parts.append(f"CONN/C2 from {answered}")
    if isinstance(mapi, MapiLogon):
        said = _binding_text(mapi.auth, "MAPI")
        if said:
            parts.append(said)
        if mapi.logged_on:  # "mailbox logon" only where Connect succeeded
            elapsed = mapi.connect_elapsed
            took = f" in {ms_text(elapsed)}" if elapsed is not None else ""
            parts.append(f"mailbox logon (Connect){took}")
        if mapi.request == "PING" and mapi.status is not None and mapi.auth.accepted:
            code = mapi.response_code
            parts.append(
                f"PING {mapi.status}"
                + (f" X-ResponseCode {response_code_text(code)}" if code else "")
                + (f" {ms_text(mapi.elapsed)}" if mapi.elapsed is not None else "")
            )
        if mapi.session:
            parts.append("Disconnect answered" if mapi.disconnected else "Disconnect not answered")
    return "; ".join(parts)
