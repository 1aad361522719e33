"""The logon's words, every branch exact (``check.words.logon``), beyond the rows of
tests/test_logon_words.py: each phrase with its optional parts present and absent and its names
at their bounds, and the node's long-output line for every way a logon went (with binding,
without it on the retry, Basic, refused, not tried) and every part a MAPI logon adds."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical

from outlook_anywhere.check.words import phrase
from outlook_anywhere.check.words.logon import logon_text, mapi_text
from outlook_anywhere.facts.logon import ACCEPTED, REFUSED, Endpoint, MapiProbe
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from tests.test_logon_rules import auth, ping, rpc

A = "10.0.0.1"

CASES = [
    (
        k.MAPI_MISSING_SCHEME,
        {
            "missing": ["Negotiate", "NTLM"],
            "offered": ["Basic", "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"],
        },
        200,
        "/mapi/emsmdb/ does not offer Negotiate, NTLM (offers Basic,"
        " BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB...)",
    ),
    (
        k.MAPI_MISSING_SCHEME,
        {"missing": ["NTLM"], "offered": []},
        200,
        "/mapi/emsmdb/ does not offer NTLM (offers )",
    ),
    (
        k.MAPI_FAILURE,
        {"status": "404 Not Found", "code": 404},
        200,
        "/mapi/emsmdb/ answered 404 Not Found: MAPI over HTTP is not enabled",
    ),
    (
        k.MAPI_FAILURE,
        {"status": "200 OK", "code": 200},
        200,
        "/mapi/emsmdb/ answered 200 without authentication (anonymous access enabled)",
    ),
    (k.MAPI_FAILURE, {"code": 500}, 200, "/mapi/emsmdb/ answered "),
    (
        k.MAPI_FAILURE,
        {"status": "5555555555555555555555555555555555555555555555555555555555555", "code": 500},
        60,
        "/mapi/emsmdb/ answered 555555555555555555555555555555555555555555555555555555555...",
    ),
    (
        k.MAPI_HEALTH,
        {"status": "503 Service Unavailable"},
        200,
        "MAPI healthcheck.htm answered 503 Service Unavailable",
    ),
    (
        k.MAPI_UNREACHABLE,
        {"detail": "ddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"},
        60,
        "MAPI over HTTP: ddddddddddddddddddddddddddddddddddddddddddddddddddddddddd...",
    ),
    (
        k.LOGON_NO_SCHEME,
        {
            "protocol": "RPC",
            "scheme": "",
            "offered": ["Digest", "DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD"],
        },
        200,
        "RPC offers no scheme Outlook logs on with (offers Digest,"
        " DDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDDD...)",
    ),
    (
        k.LOGON_NO_SCHEME,
        {"protocol": "RPC", "scheme": "", "offered": []},
        200,
        "RPC offers no scheme Outlook logs on with (offers none)",
    ),
    (
        k.LOGON_NO_SCHEME,
        {"protocol": "RPC", "scheme": ""},
        200,
        "RPC offers no scheme Outlook logs on with (offers none)",
    ),
    (
        k.LOGON_NO_SERVER,
        {},
        200,
        "Autodiscover publishes no EXCH Server: the RPC endpoints cannot be tried",
    ),
    (
        k.LOGON_BINDING_REFUSED,
        {"protocol": "RPC", "scheme": "NTLM"},
        200,
        "RPC logon refused with channel binding, accepted without: the node binds another"
        " certificate than it presents (a TLS-offloading device?), Outlook on current Windows"
        " prompts for credentials",
    ),
    (
        k.LOGON_BINDING_REFUSED,
        {"protocol": "RPC", "scheme": "NTLM"},
        199,
        "RPC logon refused with binding, accepted without: the node binds another certificate"
        " than it presents (a TLS-offloading device?)",
    ),
    (
        k.LOGON_UNBOUND,
        {"protocol": "RPC", "scheme": "NTLM"},
        200,
        "RPC logon accepted without channel binding: Extended Protection not enforced",
    ),
    (
        k.LOGON_UNBOUND,
        {"protocol": "MAPI", "scheme": "Basic", "basic": True},
        200,
        "MAPI offers only Basic: no channel binding (Extended Protection)",
    ),
    (
        k.LOGON_REFUSED,
        {"protocol": "RPC", "scheme": "NTLM"},
        200,
        "RPC logon refused (NTLM) although Autodiscover accepted the credentials",
    ),
    (
        k.LOGON_REFUSED,
        {"protocol": "RPC", "scheme": ""},
        200,
        "RPC logon refused although Autodiscover accepted the credentials",
    ),
    (
        k.LOGON_FAILED,
        {"protocol": "RPC", "scheme": "NTLM", "detail": "timeout"},
        200,
        "RPC logon failed (NTLM): no answer within the deadline",
    ),
    (
        k.LOGON_NO_MAILBOX,
        {"protocol": "MAPI", "mailbox": "a/b"},
        200,
        "Autodiscover publishes no mapiHttp MailboxId usable in a URL (a/b): no mailbox logon"
        " tried",
    ),
    (
        k.LOGON_NO_MAILBOX,
        {"protocol": "MAPI"},
        200,
        "Autodiscover publishes no mapiHttp MailboxId usable in a URL: no mailbox logon tried",
    ),
    (
        k.LOGON_NO_LEGACY_DN,
        {"protocol": "MAPI", "legacy_dn": "/o=Ä"},
        200,
        "Autodiscover publishes a User/LegacyDN that is not ASCII (/o=Ä): no mailbox logon tried",
    ),
    (
        k.LOGON_NO_LEGACY_DN,
        {"protocol": "MAPI"},
        200,
        "Autodiscover publishes no User/LegacyDN: no mailbox logon tried",
    ),
    (
        k.LOGON_CUT_OFF,
        {"protocol": "MAPI", "step": "sssssssssssssssssssssssssssssss"},
        200,
        "MAPI logon cut off by the deadline during sssssssssssssssssssssssssss...",
    ),
    (
        k.MAILBOX_LOGON_FAILED,
        {"status": "200 OK", "code": "0", "status_code": 1003},
        200,
        "mailbox logon refused: Connect answered StatusCode 0x3eb (unknown user: no mailbox for"
        " this account)",
    ),
    (
        k.MAILBOX_LOGON_FAILED,
        {"status": "200 OK", "code": "6"},
        200,
        "mailbox logon refused: Connect answered X-ResponseCode 6 (invalid context cookie)",
    ),
    (
        k.MAILBOX_LOGON_FAILED,
        {"status": "200 OK"},
        200,
        "mailbox logon refused: Connect answered without X-ResponseCode",
    ),
    (
        k.MAILBOX_LOGON_FAILED,
        {"status": "503 Service Unavailable"},
        200,
        "mailbox logon refused: Connect answered 503 Service Unavailable",
    ),
    (
        k.MAILBOX_LOGON_FAILED,
        {"code": "0", "status_code": 0, "error_code": 5},
        200,
        "mailbox logon refused: Connect answered , X-ResponseCode 0 (success)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {"protocols": ["RPC", "MAPI"], "nodes": 3},
        80,
        "Python module pyspnego is not installed (RPC and MAPI on 3 nodes accept only"
        " NTLM/Negotiate)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {"protocols": ["RPC"], "nodes": 1},
        80,
        "Python module pyspnego is not installed (RPC accepts only NTLM/Negotiate)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {"protocols": ["RPC"], "nodes": 2},
        80,
        "Python module pyspnego is not installed (RPC on 2 nodes accept only NTLM/Negotiate)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {"protocols": ["RPC", "MAPI"]},
        80,
        "Python module pyspnego is not installed (RPC and MAPI accept only NTLM/Negotiate)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {"protocols": ["RPC"], "nodes": "2"},
        80,
        "Python module pyspnego is not installed (RPC accepts only NTLM/Negotiate)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {},
        80,
        "Python module pyspnego is not installed ( accepts only NTLM/Negotiate)",
    ),
    (
        k.LOGON_NTLM_MISSING,
        {"module": "gssapi", "protocols": ["RPC"]},
        80,
        "Python module gssapi is not installed (RPC accepts only NTLM/Negotiate)",
    ),
    (k.ECHO_FAILED, {"status": "403 Forbidden"}, 200, "RPC echo answered 403 Forbidden"),
    (k.ECHO_FAILED, {}, 200, "RPC echo answered 200 with a  PDU instead of an RTS echo"),
    (
        k.ENDPOINT_FAILED,
        {"port": 6001, "outcome": "rpc-error", "code": "6ba"},
        200,
        "endpoint 6001 mail store: RPC Error 6ba (the RPC server is unavailable)",
    ),
    (
        k.ENDPOINT_FAILED,
        {
            "port": 6001,
            "outcome": "no-c2",
            "detail": "too-long",
            "pdus": ["CONN/A3", "ppppppppppppppppppppp"],
        },
        200,
        "endpoint 6001 mail store did not answer through the RPC proxy (no CONN/C2 in 256 KiB of"
        " RTS PDUs, only CONN/A3, ppppppppppppppppp...)",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6001, "outcome": "no-c2", "detail": "closed"},
        200,
        "endpoint 6001 mail store did not answer through the RPC proxy (the proxy closed the OUT"
        " channel before CONN/C2)",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6001, "outcome": "no-c2"},
        200,
        "endpoint 6001 mail store did not answer through the RPC proxy (no CONN/C2 within the"
        " deadline)",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6004, "outcome": "garbage", "detail": "odd"},
        200,
        "endpoint 6004 address book: the OUT channel sent not RTS",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6004, "outcome": "garbage", "detail": "bad-command"},
        200,
        "endpoint 6004 address book: the OUT channel sent a malformed RTS command",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6004, "outcome": "http", "status": "404 Not Found"},
        200,
        "endpoint 6004 address book: the OUT channel answered 404 Not Found",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6004, "outcome": "http"},
        200,
        "endpoint 6004 address book: the OUT channel answered ",
    ),
    (
        k.ENDPOINT_FAILED,
        {
            "port": 6004,
            "outcome": "http",
            "status": "4444444444444444444444444444444444444444444444444444444444444",
        },
        60,
        "endpoint 6004 address book: the OUT channel answered"
        " 444444444444444444444444444444444444444444444444444444444...",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6004, "outcome": "refused"},
        200,
        "endpoint 6004 address book: the channel's logon was refused",
    ),
    (
        k.ENDPOINT_FAILED,
        {"port": 6004, "outcome": "failed"},
        200,
        "endpoint 6004 address book: no answer",
    ),
    (
        k.PING_FAILED,
        {"status": "200 OK", "code": "10"},
        200,
        "MAPI PING answered X-ResponseCode 10 (session not found)",
    ),
    (
        k.PING_FAILED,
        {"status": "500 Internal Server Error"},
        200,
        "MAPI PING answered 500 Internal Server Error",
    ),
    (
        k.PING_FAILED,
        {"code": "10"},
        200,
        "MAPI PING answered , X-ResponseCode 10 (session not found)",
    ),
    (
        k.PING_FAILED,
        {"status": "5555555555555555555555555555555555555555555555555555555555555"},
        60,
        "MAPI PING answered 555555555555555555555555555555555555555555555555555555555...",
    ),
]


@pytest.mark.parametrize(("kind", "evidence", "limit", "words"), CASES)
def test_the_words_of_each_logon_finding(
    kind: str, evidence: dict[str, object], limit: int, words: str
) -> None:
    assert phrase(Finding(kind, Critical, A, evidence), limit) == words


def test_what_mapi_answered_without_credentials() -> None:
    probe = MapiProbe(A)
    probe.health, probe.status, probe.reason = 200, 401, "Unauthorized"
    probe.schemes, probe.elapsed = ["Negotiate", "N" * 41], 0.0123
    assert mapi_text(probe) == (
        f"healthcheck.htm 200; /mapi/emsmdb/ 401 Unauthorized; schemes Negotiate, {'N' * 37}...;"
        " 12 ms"
    )
    bare = MapiProbe(A)
    bare.status, bare.reason = 401, ""
    assert mapi_text(bare) == "/mapi/emsmdb/ 401"


ENDPOINTS = (
    "echo OK; CONN/C2 from 6001 mail store 10 ms, 6002 directory referral 10 ms,"
    " 6004 address book 10 ms"
)


def test_the_rpc_logon_line_for_every_outcome() -> None:
    assert logon_text(rpc(A, auth(elapsed=0.05)), None) == (
        f"RPC logon NTLM, Extended Protection: binding accepted in 50 ms; {ENDPOINTS}"
    )
    unbound = auth(elapsed=0.02)
    unbound.unbound_outcome = REFUSED
    assert logon_text(rpc(A, unbound), None) == (
        "RPC logon NTLM, Extended Protection: binding accepted, without binding refused in"
        f" 20 ms; {ENDPOINTS}"
    )
    retried = auth(REFUSED, elapsed=0.03)
    retried.retry_outcome = ACCEPTED
    assert logon_text(rpc(A, retried), None) == (
        f"RPC logon NTLM, with binding refused, without binding accepted in 30 ms; {ENDPOINTS}"
    )
    assert logon_text(rpc(A, auth(REFUSED, elapsed=0.03)), None) == (
        f"RPC logon NTLM refused; {ENDPOINTS}"
    )


def test_a_logon_not_tried_says_nothing() -> None:
    untried = auth()
    untried.scheme = ""
    assert logon_text(rpc(A, untried, echo="", endpoints=[]), None) == ""
    assert logon_text(rpc(A, auth(outcome=""), echo="", endpoints=[]), None) == ""
    assert logon_text(None, None) == ""


def test_a_scheme_is_cut_and_an_endpoint_without_c2_is_left_out() -> None:
    odd = auth()
    odd.scheme = "S" * 21
    facts = rpc(A, odd, echo="", endpoints=[Endpoint(6002, "no-c2")])
    assert logon_text(facts, None) == (
        f"RPC logon {'S' * 17}..., Extended Protection: binding accepted"
    )


def test_the_mapi_logon_line_for_every_part() -> None:
    basic = auth(binding=False, elapsed=0.01)
    assert logon_text(None, ping(A, basic)) == (
        "MAPI logon Basic accepted (no channel binding); mailbox logon (Connect) in 20 ms;"
        " PING 200 X-ResponseCode 0 (success); Disconnect answered"
    )
    timed = ping(A, auth(), response_code="0", elapsed=0.004)
    assert logon_text(None, timed) == (
        "MAPI logon NTLM, Extended Protection: binding accepted; mailbox logon (Connect) in"
        " 20 ms; PING 200 X-ResponseCode 0 (success) 4 ms; Disconnect answered"
    )
    bare = ping(A, auth(), response_code="", connect_elapsed=None, disconnected=False)
    assert logon_text(None, bare) == (
        "MAPI logon NTLM, Extended Protection: binding accepted; mailbox logon (Connect);"
        " PING 200; Disconnect not answered"
    )
    connect_only = ping(A, auth(), session=False, request="Connect")
    assert logon_text(None, connect_only) == (
        "MAPI logon NTLM, Extended Protection: binding accepted; mailbox logon (Connect) in 20 ms"
    )


def test_the_reason_mapi_answered_is_cut_at_80() -> None:
    probe = MapiProbe(A)
    probe.status, probe.reason = 401, "r" * 81
    assert mapi_text(probe) == f"/mapi/emsmdb/ 401 {'r' * 77}..."
    probe.reason = "r" * 80
    assert mapi_text(probe) == f"/mapi/emsmdb/ 401 {'r' * 80}"
