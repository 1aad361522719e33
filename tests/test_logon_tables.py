"""The code tables of the logon's words, every entry exact, each against its source: the Win32
codes of "503 RPC Error" and RTS faults, [MS-OXCMAPIHTTP] 2.2.3.3.3's X-ResponseCode, the
ErrorCode of a refused Connect ([MS-OXCDATA] 2.4, [MS-OXCSTOR] 3.2.5.1.3), the endpoints behind
the RPC proxy as the Remote Connectivity Analyzer names them, the steps of a logon and why one
got no verdict.  In-process: each through the function or phrase that says it."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical

from outlook_anywhere.check.words import phrase
from outlook_anywhere.check.words.logon import (
    endpoint_name,
    mailbox_error_text,
    response_code_text,
    rpc_error_text,
)
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding

RPC_ERRORS = [
    ("5", "access denied"),
    ("6ba", "the RPC server is unavailable"),
    ("6be", "the remote procedure call failed"),
    ("6bf", "the remote procedure call failed and did not execute"),
    ("6d9", "no such endpoint is registered"),
    ("721", "a security package specific error occurred"),
]
RESPONSE_CODES = [
    ("0", "success"), ("1", "unknown failure"), ("2", "invalid verb"), ("3", "invalid path"),
    ("4", "invalid header"), ("5", "invalid request type"), ("6", "invalid context cookie"),
    ("7", "missing header"), ("8", "anonymous not allowed"), ("9", "request too large"),
    ("10", "session not found"), ("11", "no privilege"), ("12", "invalid request body"),
    ("13", "missing cookie"), ("15", "invalid sequence"), ("16", "endpoint disabled"),
    ("17", "invalid response"), ("18", "endpoint shutting down"),
]  # fmt: skip
MAILBOX_ERRORS = [
    (0x3EB, "unknown user: no mailbox for this account"),
    (0x3ED, "the server is stopping"),
    (0x3EE, "the user's protocol settings are incorrect"),
    (0x3F0, "the server is out of memory"),
    (0x3F2, "no access rights to the mailbox"),
    (0x478, "wrong server: the mailbox is not on this server (moved?)"),
    (0x47F, "server paused: over five logons in 10 s to a mailbox it does not host"),
    (0x50C, "the mailbox is being moved"),
    (0x96C, "the mailbox is disabled"),
    (0x6BB, "server busy (RPC_S_SERVER_TOO_BUSY)"),
    (0x80040111, "logon failed"),
    (0x80070005, "access denied"),
]


@pytest.mark.parametrize(("code", "meaning"), RPC_ERRORS)
def test_each_rpc_error_says_its_meaning(code: str, meaning: str) -> None:
    assert rpc_error_text(code) == f"{code} ({meaning})"
    assert rpc_error_text(code.upper()) == f"{code.upper()} ({meaning})"
    fault = {"port": 6001, "outcome": "fault", "code": code}
    assert phrase(Finding(k.ENDPOINT_FAILED, Critical, "10.0.0.1", fault)) == (
        f"endpoint 6001 mail store: RTS fault {code} ({meaning})"
    )


def test_an_rpc_error_without_meaning_is_its_code_bounded() -> None:
    assert rpc_error_text("6bb") == "6bb"
    assert rpc_error_text("f" * 17) == "f" * 13 + "..."
    assert rpc_error_text("f" * 16) == "f" * 16


@pytest.mark.parametrize(("code", "meaning"), RESPONSE_CODES)
def test_each_x_response_code_says_its_meaning(code: str, meaning: str) -> None:
    assert response_code_text(code) == f"{code} ({meaning})"


def test_an_x_response_code_without_meaning_is_its_code_bounded() -> None:
    assert response_code_text("14") == "14"
    assert response_code_text("9" * 17) == "9" * 13 + "..."


@pytest.mark.parametrize(("code", "meaning"), MAILBOX_ERRORS)
def test_each_mailbox_error_says_its_meaning(code: int, meaning: str) -> None:
    assert mailbox_error_text(code) == f"{code:#x} ({meaning})"
    refused = {"status": "200 OK", "code": "0", "status_code": 0, "error_code": code}
    assert phrase(Finding(k.MAILBOX_LOGON_FAILED, Critical, "10.0.0.1", refused)) == (
        f"mailbox logon refused: Connect answered ErrorCode {code:#x} ({meaning})"
    )


def test_a_mailbox_error_without_meaning_is_its_code() -> None:
    assert mailbox_error_text(0x3EC) == "0x3ec"
    assert mailbox_error_text("garbage" * 3) == "garbagegarbag..."  # cut at 16


@pytest.mark.parametrize(
    ("port", "name"),
    [(6001, "6001 mail store"), (6002, "6002 directory referral"), (6004, "6004 address book"),
     (6003, "6003"), ("6001", "6001")],
)  # fmt: skip
def test_each_endpoint_is_named(port: object, name: str) -> None:
    assert endpoint_name(port) == name


STEPS = [
    ("echo", "the echo", "echo"),
    ("virtual connections", "the virtual connections", "virtual connections"),
    ("Connect", "Connect", "Connect"),
    ("PING", "the PING in its session", "PING in the session"),
    ("Disconnect", "Disconnect", "Disconnect"),
    ("other", "other", "other"),
]


@pytest.mark.parametrize(("step", "during", "failed"), STEPS)
def test_each_step_of_a_logon_is_named(step: str, during: str, failed: str) -> None:
    cut = {"protocol": "MAPI", "step": step}
    assert phrase(Finding(k.LOGON_CUT_OFF, Critical, "10.0.0.1", cut)) == (
        f"MAPI logon cut off by the deadline during {during}"
    )
    broken = {"protocol": "MAPI", "step": step, "detail": "closed"}
    assert phrase(Finding(k.LOGON_STEP_FAILED, Critical, "10.0.0.1", broken)) == (
        f"MAPI {failed} failed: the server closed the connection during the logon"
    )


NO_VERDICT = [
    ("timeout", "no answer within the deadline"),
    ("untrusted", "the certificate does not verify for the host name, credentials not sent"),
    ("tls", "TLS failure"),
    ("network", "network failure"),
    ("refused", "connection refused"),
    ("closed", "the server closed the connection during the logon"),
    ("protocol", "an invalid HTTP answer"),
    ("too-big", "an answer too big"),
    ("no-challenge", "no NTLM/Negotiate challenge in the 401"),
    ("bad-challenge", "an invalid NTLM/Negotiate challenge"),
    ("ntlm-start", "NTLM could not start"),
    ("internal", "internal error"),
    ("", "no answer"),
    ("x" * 41, "x" * 37 + "..."),
    ("x" * 40, "x" * 40),
]


@pytest.mark.parametrize(("detail", "why"), NO_VERDICT)
def test_each_reason_for_no_verdict_is_said(detail: str, why: str) -> None:
    failed = {"port": 6002, "outcome": "failed", "detail": detail}
    assert phrase(Finding(k.ENDPOINT_FAILED, Critical, "10.0.0.1", failed)) == (
        f"endpoint 6002 directory referral: {why}"
    )


@pytest.mark.parametrize(
    ("detail", "found"),
    [("not-rts", "not RTS"), ("bad-length", "an RTS PDU of impossible length"),
     ("bad-command", "a malformed RTS command"), ("empty", "an empty body"),
     ("CONN/A3", "a CONN/A3 PDU"), ("p" * 21, f"a {'p' * 17}... PDU")],
)  # fmt: skip
def test_what_the_echo_answered_instead(detail: str, found: str) -> None:
    echo = {"detail": detail}
    assert phrase(Finding(k.ECHO_FAILED, Critical, "10.0.0.1", echo)) == (
        f"RPC echo answered 200 with {found} instead of an RTS echo"
    )
