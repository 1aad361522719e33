"""The words of MAPI over HTTP and of logging on, for the answers tests/test_logon_words.py does
not cover: an emsmdb status with no meaning of its own, an EXCH Server that cannot go in a URL,
a Connect answer with no codes or an unknown one, a channel that got no verdict, and a node
whose MAPI probe got only part of its answers."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical

from outlook_anywhere.check.words import phrase
from outlook_anywhere.check.words.logon import mapi_text
from outlook_anywhere.facts.logon import MapiProbe
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding

A = "10.0.0.1"


@pytest.mark.parametrize(
    ("kind", "evidence", "words"),
    [
        (k.MAPI_FAILURE, {"status": "500 Internal Server Error", "code": 500},
         "/mapi/emsmdb/ answered 500 Internal Server Error"),
        (k.LOGON_NO_SERVER, {"server": "ex01/../admin"},
         "Autodiscover publishes an EXCH Server ex01/../admin that cannot be used in a URL: no"
         " logon tried"),
        (k.MAILBOX_LOGON_FAILED,
         {"status": "200 OK", "code": "0", "status_code": 0, "error_code": None},
         "mailbox logon refused: Connect answered without StatusCode and ErrorCode"),
        (k.MAILBOX_LOGON_FAILED,
         {"status": "200 OK", "code": "0", "status_code": 0, "error_code": 0x1234},
         "mailbox logon refused: Connect answered ErrorCode 0x1234"),
        (k.MAILBOX_LOGON_FAILED,
         {"status": "500 Internal Server Error", "code": "1", "status_code": None,
          "error_code": None},
         "mailbox logon refused: Connect answered 500 Internal Server Error, X-ResponseCode 1"
         " (unknown failure)"),
        (k.ENDPOINT_FAILED, {"port": 6001, "outcome": "failed", "detail": "closed"},
         "endpoint 6001 mail store: the server closed the connection during the logon"),
        (k.ENDPOINT_FAILED, {"port": 6004, "outcome": "failed", "detail": "timeout"},
         "endpoint 6004 address book: no answer within the deadline"),
        (k.ENDPOINT_FAILED, {"port": 6002, "outcome": "garbage", "detail": "bad-length"},
         "endpoint 6002 directory referral: the OUT channel sent an RTS PDU of impossible"
         " length"),
        (k.ENDPOINT_FAILED, {"port": 6003, "outcome": "no-c2", "detail": "timeout"},
         "endpoint 6003 did not answer through the RPC proxy (no CONN/C2 within the deadline)"),
        (k.ENDPOINT_FAILED,
         {"port": 6001, "outcome": "no-c2", "detail": "protocol", "pdus": ["CONN/A3"]},
         "endpoint 6001 mail store did not answer through the RPC proxy (an invalid HTTP answer"
         " before CONN/C2, only CONN/A3)"),
        (k.PING_FAILED, {"status": "503 Service Unavailable", "code": "18"},
         "MAPI PING answered 503 Service Unavailable, X-ResponseCode 18 (endpoint shutting"
         " down)"),
        (k.PING_FAILED, {"status": "200 OK", "code": ""},
         "MAPI PING answered 200 OK without X-ResponseCode"),
        (k.LOGON_STEP_FAILED, {"protocol": "MAPI", "step": "Connect", "detail": "protocol"},
         "MAPI Connect failed: an invalid HTTP answer"),
        (k.LOGON_FAILED, {"protocol": "MAPI", "scheme": "NTLM", "detail": "weird"},
         "MAPI logon failed (NTLM): weird"),
    ],
)  # fmt: skip
def test_the_phrase_of_each_answer(kind: str, evidence: dict[str, object], words: str) -> None:
    assert phrase(Finding(kind, Critical, A, evidence)) == words


def test_mapi_text_says_only_what_was_answered() -> None:
    """A node whose healthcheck answered and whose emsmdb endpoint did not: no status, no
    schemes and no time are made up."""
    probe = MapiProbe(A)
    probe.health = 503
    assert mapi_text(probe) == "healthcheck.htm 503"
    nothing = MapiProbe(A)
    assert mapi_text(nothing) == ""
