"""probes.logon.settle, in-process: each logon as the fan-out left it.  What a logon still at
work at the deadline becomes is decided here, with no thread racing the deadline: the facts as
they stood (a copy, the thread may still write to its own), cut off where it was, its
authentication or the retry or a waiting channel failed by the deadline; a logon that raised
failed with "internal"; a finished one as it is."""

from __future__ import annotations

from outlook_anywhere.facts import logon as f
from outlook_anywhere.probes.logon import settle

A, B = "192.0.2.1", "192.0.2.2"


def logons(
    rpc: list[f.RpcLogon] | None = None, mapi: list[f.MapiLogon] | None = None
) -> f.LogonFacts:
    facts = f.LogonFacts(server="ex01@contoso.test")
    facts.rpc, facts.mapi = rpc, mapi
    return facts


def test_an_rpc_logon_at_work_before_any_answer_is_cut_off_at_the_echo() -> None:
    facts = logons(rpc=[f.RpcLogon(A)])
    running = facts.rpc[0] if facts.rpc else None
    settle(facts, [("rpc", 0)], [(False, None)])
    [rpc] = facts.rpc or []
    assert rpc is not running  # a copy: the thread left at work keeps its own
    assert (rpc.cut_off, rpc.auth.outcome, rpc.auth.detail) == (f.STEP_ECHO, f.FAILED, "timeout")
    assert running is not None and (running.cut_off, running.auth.outcome) == ("", f.NOT_TRIED)


def test_a_mapi_logon_at_work_before_any_answer_is_cut_off_at_connect() -> None:
    facts = logons(mapi=[f.MapiLogon(A)])
    settle(facts, [("mapi", 0)], [(False, None)])
    [mapi] = facts.mapi or []
    assert (mapi.cut_off, mapi.auth.outcome, mapi.auth.detail) == (
        f.STEP_CONNECT,
        f.FAILED,
        "timeout",
    )


def test_a_logon_accepted_and_at_work_is_cut_off_where_it_was() -> None:
    mapi = f.MapiLogon(A, f.Authentication("NTLM", outcome=f.ACCEPTED))
    mapi.step = f.STEP_PING
    facts = logons(mapi=[mapi])
    settle(facts, [("mapi", 0)], [(False, None)])
    [settled] = facts.mapi or []
    assert (settled.cut_off, settled.auth.outcome, settled.auth.detail) == (
        f.STEP_PING,
        f.ACCEPTED,
        "",
    )


def test_a_cut_off_already_recorded_is_kept() -> None:
    rpc = f.RpcLogon(A, f.Authentication("NTLM", outcome=f.ACCEPTED))
    rpc.step, rpc.cut_off = f.STEP_CHANNELS, f.STEP_ECHO
    facts = logons(rpc=[rpc])
    settle(facts, [("rpc", 0)], [(False, None)])
    assert (facts.rpc or [])[0].cut_off == f.STEP_ECHO


def test_a_retry_without_binding_at_work_fails_by_the_deadline() -> None:
    """Refused with the binding, the retry not answered: never "the account was refused"."""
    auth = f.Authentication("NTLM", binding_sent=True, outcome=f.REFUSED)
    facts = logons(rpc=[f.RpcLogon(A, auth)])
    settle(facts, [("rpc", 0)], [(False, None)])
    [rpc] = facts.rpc or []
    assert (rpc.auth.outcome, rpc.auth.retry_outcome, rpc.auth.detail) == (
        f.REFUSED,
        f.FAILED,
        "timeout",
    )


def test_the_channels_still_waiting_fail_by_the_deadline_and_the_others_keep_their_answer() -> None:
    rpc = f.RpcLogon(A, f.Authentication("NTLM", outcome=f.ACCEPTED))
    rpc.step = f.STEP_CHANNELS
    rpc.endpoints = [f.Endpoint(6001, f.REACHED), f.Endpoint(6002)]
    facts = logons(rpc=[rpc])
    settle(facts, [("rpc", 0)], [(False, None)])
    [reached, waiting] = (facts.rpc or [])[0].endpoints
    assert (reached.outcome, reached.detail) == (f.REACHED, "")
    assert (waiting.outcome, waiting.detail) == (f.CHANNEL_FAILED, "timeout")


def test_a_logon_that_raised_failed_as_internal_and_keeps_an_earlier_outcome() -> None:
    refused = f.RpcLogon(B, f.Authentication("NTLM", outcome=f.REFUSED))
    facts = logons(rpc=[f.RpcLogon(A), refused])
    settle(facts, [("rpc", 0), ("rpc", 1)], [(True, KeyError("x")), (True, ValueError())])
    first, second = facts.rpc or []
    assert (first.auth.outcome, first.auth.detail, first.cut_off) == (f.FAILED, "internal", "")
    assert (second.auth.outcome, second.auth.detail) == (f.REFUSED, "internal")


def test_a_finished_logon_is_left_as_it_is() -> None:
    done = f.RpcLogon(A, f.Authentication("NTLM", outcome=f.ACCEPTED))
    facts = logons(rpc=[done])
    settle(facts, [("rpc", 0)], [(True, None)])
    [rpc] = facts.rpc or []
    assert rpc is done and (rpc.cut_off, rpc.auth.outcome, rpc.auth.detail) == ("", f.ACCEPTED, "")
