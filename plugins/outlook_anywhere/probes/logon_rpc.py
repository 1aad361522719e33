"""RPC over HTTP logon of one node (``--logon`` with ``--rpc``): facts only.

An authenticated echo of the RPC proxy, then a virtual connection to each RPC endpoint Outlook
uses (6001 mail store, 6002 directory referral, 6004 address book) of the EXCH server
Autodiscover published, CONN/C2 on the OUT channel proving the endpoint answered; the echo and
the channels carry the ``?<server>:<port>`` query.
"""

from __future__ import annotations

import os
import time

from ..facts import logon as f
from ..transport import TRACE, Deadline, fan_out, rts
from ..transport import auth as httpauth
from ..transport.http import Connection, HttpError, Response
from .logon_node import Node, choose, cut_off, failure, trace_auth

RPC_PATH = "/rpc/rpcproxy.dll"
RPC_HEADERS = [
    ("User-Agent", "MSRPC"),
    ("Accept", "application/rpc"),
    ("Cache-Control", "no-cache"),
    ("Connection", "Keep-Alive"),
]
# A stream ends this long before the deadline, so that what it read is judged ("no CONN/C2")
# rather than lost with a thread still waiting.
STREAM_MARGIN = 0.15
# RTS bytes read on an OUT channel before CONN/C2 at most (the proxy sends 72)
MAX_OUT_BYTES = 256 * 1024
# Names of the PDUs kept as evidence
MAX_PDU_NAMES = 6


def echo_path(server: str) -> str:
    """The echo's URL: like a channel's, with the ``?<server>:<port>`` query ([MS-RPCH]
    2.1.2.1.5, 2.2.2: it MUST be present; every client sends it)."""
    return f"{RPC_PATH}?{server}:{f.ENDPOINT_PORTS[0]}"


def logon_rpc(node: Node, server: str, facts: f.RpcLogon) -> None:
    """The echo, then the endpoints; fills ``facts`` as it goes (a node still busy at the
    deadline is judged on what it did, and on the step it was in)."""
    auth = facts.auth
    conn: Connection | None = None
    path = echo_path(server)
    facts.step = f.STEP_ECHO
    try:
        conn, auth.offered, first = node.offered("RPC_IN_DATA", path, RPC_HEADERS)
        if first is not None and first.status != 401:
            # not asking for credentials at all: the --rpc probe judges that
            auth.detail = f"status-{first.status}"
            facts.echo, facts.status, facts.reason = "status", first.status, first.reason
            return
        if not choose(auth, node.account):
            facts.step = ""
            return
        conn, response = node.authenticate(auth, conn, "RPC_IN_DATA", path, RPC_HEADERS)
    except (HttpError, httpauth.AuthError) as exc:
        failure(auth, exc)
        cut_off(facts, exc)
        return
    finally:
        if conn is not None:
            conn.close()
    trace_auth(node.address, "RPC", auth)
    if response is None:
        facts.step = ""
        return
    _read_echo(facts, response)
    TRACE(node.address, f"echo: {facts.echo} {facts.echo_detail}".strip())
    if facts.echo != "ok":
        facts.step = ""
        return
    endpoints = [f.Endpoint(port) for port in f.ENDPOINT_PORTS]
    facts.endpoints = endpoints
    facts.step = f.STEP_CHANNELS
    fan_out(
        facts.endpoints, lambda endpoint: _virtual_connection(node, auth, server, endpoint),
        node.deadline,
    )  # fmt: skip
    for endpoint in endpoints:
        if not endpoint.outcome:
            endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, "timeout"
        TRACE(node.address, f"{endpoint.port}: {endpoint.outcome} {', '.join(endpoint.pdus)}")
    facts.step = ""  # each endpoint that did not answer in time says so itself


def _read_echo(facts: f.RpcLogon, response: Response) -> None:
    facts.status, facts.reason = response.status, response.reason
    if response.status != 200:
        facts.echo = "status"
        return
    reader = rts.Reader(limit=4096)
    pdus = reader.feed(response.body)
    if reader.failure or not pdus:
        facts.echo, facts.echo_detail = "garbage", reader.failure or "empty"
    elif pdus[0].name != rts.ECHO:
        facts.echo, facts.echo_detail = "garbage", pdus[0].name
    else:
        facts.echo = "ok"


def _virtual_connection(
    node: Node, auth: f.Authentication, server: str, endpoint: f.Endpoint
) -> None:
    """The OUT channel with CONN/A1, the IN channel with CONN/B1, CONN/A3 and CONN/C2 read on
    the OUT channel; both channels closed when C2 came or the deadline is near."""
    path = f"{RPC_PATH}?{server}:{endpoint.port}"
    stream_deadline = Deadline(node.deadline.seconds, reserve=0)
    stream_deadline.at = node.deadline.at - STREAM_MARGIN
    connection, group = os.urandom(16), os.urandom(16)  # virtual connection, association
    out_conn: Connection | None = None
    in_conn: Connection | None = None
    try:
        a1 = rts.conn_a1(connection, os.urandom(16))
        started = time.monotonic()
        out_conn, response = node.channel(
            auth, "RPC_OUT_DATA", path, RPC_HEADERS, a1, stream=True, deadline=stream_deadline
        )
        assert response is not None
        if not _channel_answer(endpoint, response):
            return
        b1 = rts.conn_b1(connection, os.urandom(16), group)
        in_conn, _ = node.channel(
            auth, "RPC_IN_DATA", path, RPC_HEADERS, b1, length=rts.IN_CHANNEL_LENGTH,
            deadline=stream_deadline,
        )  # fmt: skip
        _read_out_channel(endpoint, out_conn, started)
    except HttpError as exc:
        if not endpoint.outcome:
            endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, exc.kind
    except httpauth.AuthError as exc:
        endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, exc.kind
    finally:
        for channel in (in_conn, out_conn):
            if channel is not None:
                channel.close()


def _channel_answer(endpoint: f.Endpoint, response: Response) -> bool:
    """The OUT channel's HTTP answer; True when its stream of PDUs follows."""
    endpoint.status, endpoint.reason = response.status, response.reason
    if response.status == 200:
        return True
    if response.status == 401:
        endpoint.outcome = f.CHANNEL_REFUSED
    elif response.status == 503 and rpc_error_code(response.reason) is not None:
        endpoint.outcome = f.RPC_ERROR
        endpoint.code = rpc_error_code(response.reason) or ""
    else:
        endpoint.outcome = f.HTTP_STATUS
    return False


def rpc_error_code(reason: str) -> str | None:
    """The hex code of a ``503 RPC Error: <hex>[, EEInfo: <base64>]`` reason ([MS-RPCH]
    2.1.2.1.3), EEInfo dropped; None when the reason is not one."""
    import re

    found = re.match(r"\s*RPC Error\s*:?\s*([0-9A-Fa-f]{1,8})\b", reason, re.IGNORECASE)
    return found.group(1).lower() if found else None


def _read_out_channel(endpoint: f.Endpoint, conn: Connection, started: float) -> None:
    reader = rts.Reader(limit=MAX_OUT_BYTES)
    names: list[str] = []
    endpoint.outcome = f.NO_C2  # until C2 comes
    while True:
        try:
            data = conn.read_some()
        except HttpError as exc:
            endpoint.detail = "timeout" if exc.kind == "timeout" else exc.kind
            break
        if not data:
            endpoint.detail = "closed"
            break
        for pdu in reader.feed(data):
            if len(names) < MAX_PDU_NAMES and pdu.name not in names:
                names.append(pdu.name)
            if pdu.name == rts.CONN_C2:
                endpoint.outcome, endpoint.elapsed = f.REACHED, time.monotonic() - started
            elif pdu.name == rts.FAULT:
                endpoint.outcome = f.RTS_FAULT
                endpoint.code = f"{pdu.status:x}" if pdu.status is not None else ""
            if endpoint.outcome != f.NO_C2:
                endpoint.pdus = tuple(names)
                return
        if reader.failure:
            if reader.failure == "too-long":
                endpoint.detail = "too-long"
            else:
                endpoint.outcome, endpoint.detail = f.GARBAGE, reader.failure
            break
    endpoint.pdus = tuple(names)
