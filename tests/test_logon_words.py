"""The words of MAPI over HTTP and of logging on, in-process: every finding kind's phrase, the
first line of a node whose certificate binding a TLS-offloading device breaks, and the
long-output line of a healthy node (Extended Protection, echo, endpoints, PING)."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Unknown, Warn

from outlook_anywhere.check.words import headline, long_output, phrase
from outlook_anywhere.check.words.logon import logon_text, mapi_text
from outlook_anywhere.facts import CheckFacts
from outlook_anywhere.facts.logon import ACCEPTED, REFUSED, LogonFacts, MapiProbe
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.judgement.verdict import judge
from tests.test_logon_rules import auth, ping, rpc
from tests.test_words import NOW, cert, node, policy

A, B = "10.0.0.1", "10.0.0.2"


@pytest.mark.parametrize(
    ("kind", "state", "evidence", "words"),
    [
        (k.MAPI_HEALTH, Critical, {"status": "503 Service Unavailable"},
         "MAPI healthcheck.htm answered 503 Service Unavailable"),
        (k.MAPI_UNREACHABLE, Critical, {"detail": "connection refused"},
         "MAPI over HTTP: connection refused"),
        (k.MAPI_NO_SCHEME, Warn, {},
         "/mapi/emsmdb/ answered 401 without any WWW-Authenticate scheme"),
        (k.MAPI_MISSING_SCHEME, Warn, {"missing": ["Basic"], "offered": ["NTLM"]},
         "/mapi/emsmdb/ does not offer Basic (offers NTLM)"),
        (k.MAPI_FAILURE, Critical, {"status": "404 Not Found", "code": 404},
         "/mapi/emsmdb/ answered 404 Not Found: MAPI over HTTP is not enabled"),
        (k.MAPI_FAILURE, Warn, {"status": "200 OK", "code": 200},
         "/mapi/emsmdb/ answered 200 without authentication (anonymous access enabled)"),
        (k.LOGON_NO_SERVER, Critical, {"server": ""},
         "Autodiscover publishes no EXCH Server: the RPC endpoints cannot be tried"),
        (k.LOGON_BINDING_REFUSED, Critical, {"protocol": "RPC", "scheme": "NTLM"},
         "RPC logon refused with channel binding, accepted without: the node binds another"
         " certificate than it presents (a TLS-offloading device?), Outlook on current Windows"
         " prompts for credentials"),
        (k.LOGON_UNBOUND, Warn, {"protocol": "MAPI", "scheme": "NTLM", "basic": False},
         "MAPI logon accepted without channel binding: Extended Protection not enforced"),
        (k.LOGON_UNBOUND, Warn, {"protocol": "RPC", "scheme": "Basic", "basic": True},
         "RPC offers only Basic: no channel binding (Extended Protection)"),
        (k.LOGON_REFUSED, Critical, {"protocol": "RPC", "scheme": "NTLM"},
         "RPC logon refused (NTLM) although Autodiscover accepted the credentials"),
        (k.LOGON_FAILED, Critical, {"protocol": "RPC", "scheme": "NTLM", "detail": "timeout"},
         "RPC logon failed (NTLM): no answer within the deadline"),
        (k.LOGON_FAILED, Critical, {"protocol": "MAPI", "scheme": "", "detail": "untrusted"},
         "MAPI logon failed: the certificate does not verify for the host name, credentials"
         " not sent"),
        (k.LOGON_NO_SCHEME, Critical, {"protocol": "RPC", "scheme": "", "offered": ["Bearer"]},
         "RPC offers no scheme Outlook logs on with (offers Bearer)"),
        (k.LOGON_CUT_OFF, Critical, {"protocol": "MAPI", "step": "PING"},
         "MAPI logon cut off by the deadline during the PING in its session"),
        (k.LOGON_CUT_OFF, Critical, {"protocol": "RPC", "step": "echo"},
         "RPC logon cut off by the deadline during the echo"),
        (k.LOGON_STEP_FAILED, Critical, {"protocol": "MAPI", "step": "PING", "detail": "closed"},
         "MAPI PING in the session failed: the server closed the connection during the logon"),
        (k.LOGON_NO_LEGACY_DN, Critical, {},
         "Autodiscover publishes no User/LegacyDN: no mailbox logon tried"),
        (k.LOGON_NO_LEGACY_DN, Critical, {"legacy_dn": "/o=Cöntoso"},
         "Autodiscover publishes a User/LegacyDN that is not ASCII (/o=Cöntoso): no mailbox"
         " logon tried"),
        (k.LOGON_NO_MAILBOX, Critical, {"mailbox": "a b"},
         "Autodiscover publishes no mapiHttp MailboxId usable in a URL (a b): no mailbox logon"
         " tried"),
        (k.MAILBOX_LOGON_FAILED, Critical,
         {"status": "200 OK", "code": "0", "status_code": 0, "error_code": 0x3EB},
         "mailbox logon refused: Connect answered ErrorCode 0x3eb (unknown user: no mailbox for"
         " this account)"),
        (k.MAILBOX_LOGON_FAILED, Critical,
         {"status": "200 OK", "code": "0", "status_code": 0, "error_code": 0x478},
         "mailbox logon refused: Connect answered ErrorCode 0x478 (wrong server: the mailbox is"
         " not on this server (moved?))"),
        (k.MAILBOX_LOGON_FAILED, Critical,
         {"status": "200 OK", "code": "0", "status_code": 0x80004005, "error_code": None},
         "mailbox logon refused: Connect answered StatusCode 0x80004005"),
        (k.MAILBOX_LOGON_FAILED, Critical,
         {"status": "200 OK", "code": "7", "status_code": None, "error_code": None},
         "mailbox logon refused: Connect answered X-ResponseCode 7 (missing header)"),
        (k.MAILBOX_LOGON_FAILED, Critical,
         {"status": "200 OK", "code": "", "status_code": None, "error_code": None},
         "mailbox logon refused: Connect answered without X-ResponseCode"),
        (k.MAILBOX_LOGON_FAILED, Critical,
         {"status": "503 Service Unavailable", "code": "", "status_code": None,
          "error_code": None},
         "mailbox logon refused: Connect answered 503 Service Unavailable"),
        (k.ECHO_FAILED, Critical, {"status": "500 Internal Server Error"},
         "RPC echo answered 500 Internal Server Error"),
        (k.ECHO_FAILED, Critical, {"detail": "not-rts"},
         "RPC echo answered 200 with not RTS instead of an RTS echo"),
        (k.ENDPOINT_FAILED, Critical,
         {"port": 6002, "outcome": "rpc-error", "code": "6ba", "status": "503 RPC Error: 6ba",
          "detail": "", "pdus": []},
         "endpoint 6002 directory referral: RPC Error 6ba (the RPC server is unavailable)"),
        (k.ENDPOINT_FAILED, Critical,
         {"port": 6004, "outcome": "no-c2", "code": "", "status": "200 Success",
          "detail": "timeout", "pdus": ["CONN/A3"]},
         "endpoint 6004 address book did not answer through the RPC proxy (no CONN/C2 within"
         " the deadline, only CONN/A3)"),
        (k.ENDPOINT_FAILED, Critical,
         {"port": 6001, "outcome": "no-c2", "code": "", "status": "200 Success",
          "detail": "too-long", "pdus": ["other"]},
         "endpoint 6001 mail store did not answer through the RPC proxy (no CONN/C2 in 256 KiB"
         " of RTS PDUs, only other)"),
        (k.ENDPOINT_FAILED, Critical,
         {"port": 6001, "outcome": "garbage", "code": "", "status": "200 Success",
          "detail": "not-rts", "pdus": []},
         "endpoint 6001 mail store: the OUT channel sent not RTS"),
        (k.ENDPOINT_FAILED, Critical,
         {"port": 6001, "outcome": "fault", "code": "6be", "status": "200 Success",
          "detail": "", "pdus": ["fault"]},
         "endpoint 6001 mail store: RTS fault 6be (the remote procedure call failed)"),
        (k.PING_FAILED, Critical, {"status": "200 OK", "code": "10"},
         "MAPI PING answered X-ResponseCode 10 (session not found)"),
        (k.PING_FAILED, Critical, {"status": "200 OK", "code": "8"},
         "MAPI PING answered X-ResponseCode 8 (anonymous not allowed)"),
        (k.PING_FAILED, Critical, {"status": "503 Service Unavailable", "code": ""},
         "MAPI PING answered 503 Service Unavailable"),
    ],
)  # fmt: skip
def test_the_phrase_of_every_kind(
    kind: str, state: object, evidence: dict[str, object], words: str
) -> None:
    assert phrase(Finding(kind, state, A, evidence)) == words  # type: ignore[arg-type]


def test_a_missing_module_is_one_line_naming_how_to_install_it() -> None:
    """The one finding of every node and protocol that needed pyspnego: short on the first
    line, with the way to install it (for this installation: a venv) below."""
    import sys

    ev = {"module": "pyspnego", "protocols": ["RPC", "MAPI"], "nodes": 3}
    finding = Finding(k.LOGON_NTLM_MISSING, Unknown, None, ev)
    first = (
        "Python module pyspnego is not installed (RPC and MAPI on 3 nodes accept only"
        " NTLM/Negotiate)"
    )
    assert phrase(finding, 60) == first
    assert phrase(finding) == f"{first}: the [ntlm] extra: {sys.prefix}/bin/pip install pyspnego"
    one = Finding(k.LOGON_NTLM_MISSING, Unknown, None, {**ev, "protocols": ["RPC"], "nodes": 1})
    assert phrase(one, 60).endswith("(RPC accepts only NTLM/Negotiate)")


def facts_with(logon: LogonFacts, mapi: list[MapiProbe] | None = None) -> CheckFacts:
    leaf = cert()
    nodes = [node(A, leaf), node(B, leaf)]
    return CheckFacts(NOW, "mail.contoso.com", None, nodes, mapi=mapi, logon=logon)


def test_the_first_line_names_the_node_that_binds_another_certificate() -> None:
    logon = LogonFacts(server="guid@contoso.com", mailbox="guid@contoso.com")
    logon.rpc = [rpc(A), rpc(B, auth(REFUSED, retry_outcome=ACCEPTED))]
    facts = facts_with(logon)
    verdict = judge(facts, policy())
    line = headline(verdict, facts, policy(), 200)
    assert line == (
        "10.0.0.2: RPC logon refused with binding, accepted without: the node binds another"
        " certificate than it presents (a TLS-offloading device?) [1/2 nodes OK]"
    )
    lines = long_output(verdict, facts, 0)
    assert lines[0].startswith("10.0.0.2 CRITICAL: RPC logon refused with channel binding")
    assert "RPC logon NTLM, with binding refused, without binding accepted" in lines[0]


def test_a_healthy_node_says_extended_protection_binding_accepted() -> None:
    logon = LogonFacts(server="guid@contoso.com", mailbox="guid@contoso.com")
    logon.rpc = [rpc(A, auth(elapsed=0.012)), rpc(B)]
    logon.mapi = [ping(A, elapsed=0.008), ping(B)]
    text = logon_text(logon.rpc[0], logon.mapi[0])
    assert text == (
        "RPC logon NTLM, Extended Protection: binding accepted in 12 ms; echo OK; CONN/C2 from"
        " 6001 mail store 10 ms, 6002 directory referral 10 ms, 6004 address book 10 ms;"
        " MAPI logon NTLM, Extended Protection: binding accepted; mailbox logon (Connect) in"
        " 20 ms; PING 200 X-ResponseCode 0 (success) 8 ms; Disconnect answered"
    )
    facts = facts_with(logon)
    verdict = judge(facts, policy())
    line = headline(verdict, facts, policy(), 200)
    assert line.startswith("2/2 nodes OK: msstd:mail.contoso.com matches the CN")
    assert line.endswith(", logged on: echo, 6001/6002/6004, mailbox logon")


def test_mailbox_logon_is_said_only_where_connect_succeeded() -> None:
    refused = ping(request="Connect", error_code=0x3EB, session=False, disconnected=False)
    assert "mailbox logon" not in logon_text(None, refused)
    assert "PING" not in logon_text(None, refused)
    left = ping(disconnected=False)
    assert logon_text(None, left).endswith("; Disconnect not answered")


def test_a_skipped_logon_is_said_in_the_long_output() -> None:
    facts = facts_with(LogonFacts(skipped="autodiscover"))
    lines = long_output(judge(facts, policy()), facts, 0)
    assert "Logon not tried: Autodiscover did not accept the credentials" in lines


def test_mapi_text() -> None:
    probe = MapiProbe(A)
    probe.health, probe.status, probe.reason = 200, 401, "Unauthorized"
    probe.schemes, probe.elapsed = ["Negotiate", "NTLM"], 0.004
    assert mapi_text(probe) == (
        "healthcheck.htm 200; /mapi/emsmdb/ 401 Unauthorized; schemes Negotiate, NTLM; 4 ms"
    )
