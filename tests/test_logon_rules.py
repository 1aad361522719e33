"""The rows of MAPI over HTTP and of logging on, one condition at a time, in-process: facts built
here, every finding asserted as exact data (kind, state, node, evidence), each expectation taken
from the logon states table of docs/design.md."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Ok, Unknown, Warn

from outlook_anywhere.facts import CheckFacts
from outlook_anywhere.facts.logon import (
    ACCEPTED,
    FAILED,
    REFUSED,
    Authentication,
    Endpoint,
    LogonFacts,
    MapiLogon,
    MapiProbe,
    RpcLogon,
)
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.judgement.logon import (
    judge_authentication,
    judge_logon,
    judge_mapi,
    judge_mapi_logon,
    judge_rpc_logon,
)
from outlook_anywhere.judgement.verdict import judge
from tests.test_words import cert, node, policy

A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"


def data(found: list[Finding]) -> list[tuple[object, ...]]:
    return [(f.kind, f.state, f.node, f.evidence) for f in found]


def auth(outcome: str = ACCEPTED, binding: bool = True, **kw: object) -> Authentication:
    scheme = "NTLM" if binding else "Basic"
    facts = Authentication(scheme, ["Negotiate", "NTLM"], binding, outcome)
    for name, value in kw.items():
        setattr(facts, name, value)
    return facts


def reached(port: int) -> Endpoint:
    return Endpoint(port, "reached", 200, "Success", pdus=("CONN/A3", "CONN/C2"), elapsed=0.01)


def rpc(address: str = A, logon: Authentication | None = None, **kw: object) -> RpcLogon:
    facts = RpcLogon(address, logon or auth())
    facts.echo, facts.status, facts.reason = "ok", 200, "Success"
    facts.endpoints = [reached(6001), reached(6002), reached(6004)]
    for name, value in kw.items():
        setattr(facts, name, value)
    return facts


def ping(address: str = A, logon: Authentication | None = None, **kw: object) -> MapiLogon:
    """A mailbox logon that went well: Connect, the PING in its session, Disconnect."""
    facts = MapiLogon(address, logon or auth())
    facts.status_code, facts.error_code, facts.connect_elapsed = 0, 0, 0.02
    facts.session = facts.disconnected = True
    facts.request, facts.status, facts.reason, facts.response_code = "PING", 200, "OK", "0"
    for name, value in kw.items():
        setattr(facts, name, value)
    return facts


NTLM = {"protocol": "RPC", "scheme": "NTLM"}


# -- authentication and Extended Protection ------------------------------------------------------


@pytest.mark.parametrize("ep", ["off", "accept", "require"])
def test_accepted_with_binding_is_ok(ep: str) -> None:
    assert judge_authentication(A, "RPC", auth(), ep) == []


def test_refused_with_binding_accepted_without_is_critical() -> None:
    facts = auth(REFUSED, retry_outcome=ACCEPTED)
    found = judge_authentication(B, "RPC", facts, "accept")
    assert data(found) == [(k.LOGON_BINDING_REFUSED, Critical, B, NTLM)]
    assert data(judge_authentication(B, "RPC", facts, "require")) == data(found)


def test_refused_with_binding_accepted_without_is_not_judged_with_extended_protection_off() -> None:
    assert judge_authentication(B, "RPC", auth(REFUSED, retry_outcome=ACCEPTED), "off") == []


def test_refused_both_ways_is_the_account() -> None:
    found = judge_authentication(C, "MAPI", auth(REFUSED, retry_outcome=REFUSED), "accept")
    assert data(found) == [(k.LOGON_REFUSED, Critical, C, {"protocol": "MAPI", "scheme": "NTLM"})]


def test_basic_refused_is_the_account() -> None:
    found = judge_authentication(A, "RPC", auth(REFUSED, binding=False), "accept")
    assert data(found) == [(k.LOGON_REFUSED, Critical, A, {"protocol": "RPC", "scheme": "Basic"})]


def test_require_warns_when_a_logon_without_binding_is_accepted() -> None:
    facts = auth(unbound_outcome=ACCEPTED)
    assert judge_authentication(A, "RPC", facts, "accept") == []
    found = judge_authentication(A, "RPC", facts, "require")
    assert data(found) == [(k.LOGON_UNBOUND, Warn, A, {**NTLM, "basic": False})]


def test_require_is_met_when_the_logon_without_binding_is_refused() -> None:
    assert judge_authentication(A, "RPC", auth(unbound_outcome=REFUSED), "require") == []


def test_require_warns_on_basic() -> None:
    found = judge_authentication(A, "RPC", auth(binding=False), "require")
    assert data(found) == [
        (k.LOGON_UNBOUND, Warn, A, {"protocol": "RPC", "scheme": "Basic", "basic": True})
    ]
    assert judge_authentication(A, "RPC", auth(binding=False), "accept") == []


def test_no_verdict_from_the_server_is_a_failed_logon() -> None:
    found = judge_authentication(A, "RPC", auth(FAILED, detail="timeout"), "accept")
    assert data(found) == [(k.LOGON_FAILED, Critical, A, {**NTLM, "detail": "timeout"})]
    retry = auth(REFUSED, retry_outcome=FAILED, detail="closed")
    found = judge_authentication(A, "RPC", retry, "accept")
    assert data(found) == [(k.LOGON_FAILED, Critical, A, {**NTLM, "detail": "closed"})]


def test_no_scheme_and_no_pyspnego() -> None:
    none = Authentication("", ["Bearer"], detail="no-scheme")
    assert data(judge_authentication(A, "RPC", none, "accept")) == [
        (k.LOGON_NO_SCHEME, Critical, A, {"protocol": "RPC", "scheme": "", "offered": ["Bearer"]})
    ]
    missing = Authentication("", ["NTLM"], detail="ntlm-missing")
    assert data(judge_authentication(A, "RPC", missing, "accept")) == [
        (k.LOGON_NTLM_MISSING, Unknown, A, {"protocol": "RPC", "scheme": ""})
    ]


def test_a_missing_module_is_one_finding_of_no_node() -> None:
    """pyspnego missing on 2 nodes for RPC and MAPI: one UNKNOWN of the check (this poller's
    installation), naming the protocols; the other findings stay with their nodes."""
    from outlook_anywhere.facts.logon import LogonFacts, MapiLogon, RpcLogon

    missing = Authentication("", ["NTLM"], detail="ntlm-missing")
    logon = LogonFacts(server="guid@contoso.com", mailbox="guid@contoso.com")
    logon.rpc = [RpcLogon(A, auth=missing), RpcLogon(B, auth=missing)]
    logon.mapi = [MapiLogon(A, auth=missing), MapiLogon(B, auth=missing)]
    assert data(judge_logon(logon, "accept")) == [
        (
            k.LOGON_NTLM_MISSING,
            Unknown,
            None,
            {"module": "pyspnego", "protocols": ["RPC", "MAPI"], "nodes": 2},
        )
    ]


def test_not_tried_is_no_finding() -> None:
    assert judge_authentication(A, "RPC", Authentication(), "accept") == []


# -- RPC over HTTP ------------------------------------------------------------------------------


def test_echo_and_every_endpoint_answered_is_ok() -> None:
    assert judge_rpc_logon(rpc(), "accept") == []


def test_an_echo_that_is_not_200_or_not_rts() -> None:
    found = judge_rpc_logon(rpc(echo="status", status=500, reason="Internal"), "accept")
    assert data(found) == [(k.ECHO_FAILED, Critical, A, {"status": "500 Internal"})]
    found = judge_rpc_logon(rpc(echo="garbage", echo_detail="not-rts"), "accept")
    assert data(found) == [(k.ECHO_FAILED, Critical, A, {"detail": "not-rts"})]


def test_a_503_rpc_error_names_the_endpoint_and_code() -> None:
    failed = Endpoint(6002, "rpc-error", 503, "RPC Error: 6ba", code="6ba")
    found = judge_rpc_logon(rpc(endpoints=[reached(6001), failed, reached(6004)]), "accept")
    evidence = {
        "port": 6002,
        "outcome": "rpc-error",
        "code": "6ba",
        "status": "503 RPC Error: 6ba",
        "detail": "",
        "pdus": [],
    }
    assert data(found) == [(k.ENDPOINT_FAILED, Critical, A, evidence)]


def test_no_c2_names_the_endpoint() -> None:
    silent = Endpoint(6004, "no-c2", 200, "Success", pdus=("CONN/A3",), detail="timeout")
    found = judge_rpc_logon(rpc(endpoints=[reached(6001), reached(6002), silent]), "accept")
    assert [(f.kind, f.state, f.evidence["port"], f.evidence["pdus"]) for f in found] == [
        (k.ENDPOINT_FAILED, Critical, 6004, ["CONN/A3"])
    ]


def test_refused_logon_tries_no_echo() -> None:
    facts = rpc(logon=auth(REFUSED, retry_outcome=REFUSED), echo="", endpoints=[])
    assert [f.kind for f in judge_rpc_logon(facts, "accept")] == [k.LOGON_REFUSED]


# -- MAPI over HTTP -----------------------------------------------------------------------------


def test_ping_response_code_zero_is_ok_anything_else_critical() -> None:
    assert judge_mapi_logon(ping(), "accept") == []
    found = judge_mapi_logon(ping(response_code="10"), "accept")
    assert data(found) == [(k.PING_FAILED, Critical, A, {"status": "200 OK", "code": "10"})]
    found = judge_mapi_logon(ping(status=500, reason="Error", response_code=""), "accept")
    assert data(found) == [(k.PING_FAILED, Critical, A, {"status": "500 Error", "code": ""})]


def connect(error_code: int | None = 0, **kw: object) -> MapiLogon:
    """A mailbox logon that ended with Connect's answer."""
    values: dict[str, object] = {"request": "Connect", "status_code": 0, "error_code": error_code}
    return ping(session=False, disconnected=False, **{**values, **kw})


@pytest.mark.parametrize(
    ("facts", "evidence"),
    [
        (connect(0x3EB), {"status": "200 OK", "code": "0", "status_code": 0, "error_code": 0x3EB}),
        (connect(None, status_code=5),
         {"status": "200 OK", "code": "0", "status_code": 5, "error_code": None}),
        (connect(None, status_code=None, response_code="10"),
         {"status": "200 OK", "code": "10", "status_code": None, "error_code": None}),
        (connect(None, status_code=None, status=503, reason="Service Unavailable",
                 response_code=""),
         {"status": "503 Service Unavailable", "code": "", "status_code": None,
          "error_code": None}),
    ],
)  # fmt: skip
def test_a_refused_connect_is_critical_with_its_codes(
    facts: MapiLogon, evidence: dict[str, object]
) -> None:
    assert data(judge_mapi_logon(facts, "accept")) == [
        (k.MAILBOX_LOGON_FAILED, Critical, A, evidence)
    ]


@pytest.mark.parametrize("step", ["Connect", "PING", "Disconnect"])
def test_a_mapi_logon_cut_off_is_critical_naming_the_step(step: str) -> None:
    facts = ping(cut_off=step, status=None, request="")
    assert data(judge_mapi_logon(facts, "accept")) == [
        (k.LOGON_CUT_OFF, Critical, A, {"protocol": "MAPI", "step": step})
    ]
    # the authentication's own "no answer in time" is the same fact, said once
    timed_out = auth(FAILED, detail="timeout")
    facts = ping(logon=timed_out, cut_off="Connect", status=None, request="")
    assert [f.kind for f in judge_mapi_logon(facts, "accept")] == [k.LOGON_CUT_OFF]


def test_an_rpc_logon_cut_off_in_the_echo_is_critical() -> None:
    facts = rpc(logon=auth(FAILED, detail="timeout"), echo="", endpoints=[], cut_off="echo")
    assert data(judge_rpc_logon(facts, "accept")) == [
        (k.LOGON_CUT_OFF, Critical, A, {"protocol": "RPC", "step": "echo"})
    ]


def test_a_step_without_answer_after_connect_is_critical() -> None:
    facts = ping(error="network", request="PING")
    assert data(judge_mapi_logon(facts, "accept")) == [
        (
            k.LOGON_STEP_FAILED,
            Critical,
            A,
            {"protocol": "MAPI", "step": "PING", "detail": "network"},
        )
    ]


def skipped(rpc: str = "", mapi: str = "", **kw: str) -> LogonFacts:
    facts = LogonFacts(**kw)
    facts.rpc_skipped, facts.mapi_skipped = rpc, mapi
    return facts


def test_no_legacy_dn_published() -> None:
    found = judge_logon(skipped(mapi="no-legacy-dn"), "accept")
    assert data(found) == [(k.LOGON_NO_LEGACY_DN, Critical, None, {})]
    found = judge_logon(skipped(mapi="no-legacy-dn", legacy_dn="/o=Cöntoso"), "accept")
    assert data(found) == [(k.LOGON_NO_LEGACY_DN, Critical, None, {"legacy_dn": "/o=Cöntoso"})]


def test_no_mapi_mailbox_id_published() -> None:
    found = judge_logon(skipped(mapi="no-mailbox", mailbox="a b"), "accept")
    assert data(found) == [(k.LOGON_NO_MAILBOX, Critical, None, {"mailbox": "a b"})]


def test_a_protocol_without_its_prerequisite_leaves_the_other_judged() -> None:
    """--rpc --mapi, no EXCH Server: the RPC logon says so, the MAPI logon is judged."""
    mapi = MapiLogon(A)
    mapi.auth.outcome = ACCEPTED
    mapi.request, mapi.status, mapi.reason, mapi.response_code = "Connect", 200, "OK", "0"
    mapi.status_code, mapi.error_code = 0, 0x3EB
    facts = skipped(rpc="no-server")
    facts.mapi = [mapi]
    assert [f.kind for f in judge_logon(facts, "accept")] == [
        k.LOGON_NO_SERVER,
        k.MAILBOX_LOGON_FAILED,
    ]


def mapi_probe(**kw: object) -> MapiProbe:
    facts = MapiProbe(A)
    facts.health, facts.health_reason = 200, "OK"
    facts.status, facts.reason, facts.schemes = 401, "Unauthorized", ["Negotiate", "NTLM"]
    for name, value in kw.items():
        setattr(facts, name, value)
    return facts


def test_mapi_without_credentials() -> None:
    assert judge_mapi(mapi_probe(), ()) == []
    assert judge_mapi(mapi_probe(), ("ntlm",)) == []
    found = judge_mapi(mapi_probe(), ("Basic",))
    evidence = {"missing": ["Basic"], "offered": ["Negotiate", "NTLM"]}
    assert data(found) == [(k.MAPI_MISSING_SCHEME, Warn, A, evidence)]
    assert data(judge_mapi(mapi_probe(schemes=[]), ())) == [(k.MAPI_NO_SCHEME, Warn, A, {})]
    found = judge_mapi(mapi_probe(health=503, health_reason="Service Unavailable"), ())
    assert data(found) == [(k.MAPI_HEALTH, Critical, A, {"status": "503 Service Unavailable"})]
    found = judge_mapi(mapi_probe(status=404, reason="Not Found"), ())
    assert data(found) == [(k.MAPI_FAILURE, Critical, A, {"status": "404 Not Found", "code": 404})]
    found = judge_mapi(mapi_probe(status=200, reason="OK"), ())
    assert data(found) == [(k.MAPI_FAILURE, Warn, A, {"status": "200 OK", "code": 200})]
    found = judge_mapi(mapi_probe(health=None, status=None, error="connection refused"), ())
    assert data(found) == [(k.MAPI_UNREACHABLE, Critical, A, {"detail": "connection refused"})]


# -- the whole check ----------------------------------------------------------------------------


def test_no_exch_server_published() -> None:
    found = judge_logon(skipped(rpc="no-server"), "accept")
    assert data(found) == [(k.LOGON_NO_SERVER, Critical, None, {"server": ""})]


def test_skipped_after_autodiscover_says_nothing_itself() -> None:
    assert judge_logon(LogonFacts(skipped="autodiscover"), "accept") == []


def test_findings_count_against_their_node() -> None:
    leaf = cert(cns=("mail.contoso.com",))
    nodes = [node(a, leaf) for a in (A, B, C)]
    logon = LogonFacts(server="guid@contoso.com", mailbox="guid@contoso.com")
    logon.rpc = [rpc(A), rpc(B, auth(REFUSED, retry_outcome=ACCEPTED)), rpc(C)]
    logon.mapi = [ping(A), ping(B), ping(C, response_code="10")]
    facts = CheckFacts(1_800_000_000.0, "mail.contoso.com", None, nodes, logon=logon)
    verdict = judge(facts, policy())
    assert (verdict.nodes, verdict.nodes_ok) == (3, 1)
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.LOGON_BINDING_REFUSED, B),
        (k.PING_FAILED, C),
    ]
    assert verdict.state == Critical
    logon.rpc[1] = rpc(B)
    logon.mapi[2] = ping(C)
    assert judge(facts, policy()).state == Ok
