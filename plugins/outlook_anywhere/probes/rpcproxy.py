"""The RPC proxy seen without credentials, on every node: facts only.

``RPC_IN_DATA /rpc/rpcproxy.dll`` with ``User-Agent: MSRPC`` and an empty body, the first
request an Outlook Anywhere client makes; a healthy Exchange answers 401 with one
``WWW-Authenticate`` header per enabled scheme.  ``/rpc/healthcheck.htm`` (Exchange 2013 SP1+)
names the server behind the address.

No credentials are sent, so the certificate is not verified here: the TLS probe judges it, and
a node with a bad certificate would otherwise hide what its RPC proxy does.
"""

from __future__ import annotations

import re
import ssl

from ..facts.http import RpcFacts
from ..transport import NO_ANSWER, Deadline, client_context, fan_out, unanswered_why, wire_text
from ..transport.http import Connection, HttpError, Response, auth_schemes

RPC_PATH = "/rpc/rpcproxy.dll"
HEALTHCHECK_PATH = "/rpc/healthcheck.htm"
# The health check is a label, never worth more than this share of what is left.
HEALTHCHECK_SHARE = 0.5
# The longest 401 body read to keep the connection for the health check
MAX_DRAINED = 16 * 1024
_RPC_ERROR = re.compile(r"RPC Error:\s*([0-9A-Fa-f]+)")


def _label(text: str) -> str:
    return wire_text(text.replace(" ", ""), 100)


def probe(address: str, port: int, host: str, deadline: Deadline, ctx: ssl.SSLContext) -> RpcFacts:
    facts = RpcFacts(address)
    headers = [("User-Agent", "MSRPC"), ("Accept", "application/rpc")]
    kept = None
    try:
        conn = Connection(address, port, deadline, ctx, host)
        try:
            response = conn.request("RPC_IN_DATA", RPC_PATH, host, headers, stream=True)
            kept = conn if _drained(conn, response) else None
            session = conn.session
        finally:
            if kept is None:
                conn.close()
    except HttpError as exc:
        # the probe's own timeout and the fan-out's cut come at the same moment: one fact, one
        # sentence, whichever is first
        facts.error = NO_ANSWER if exc.kind == "timeout" else exc.text
        return facts
    facts.status, facts.reason = response.status, response.reason
    facts.elapsed = response.elapsed
    facts.schemes = auth_schemes(response)
    facts.location = _label(response.header("Location") or "")
    facts.fe_server = _label(response.header("X-FEServer") or "")
    found = _RPC_ERROR.search(response.reason)
    if found:
        facts.rpc_error = found.group(1).lower()[:16]
    _healthcheck(facts, port, host, deadline, ctx, session, kept)
    return facts


def _drained(conn: Connection, response: Response) -> bool:
    """True when the answer is a 401 whose whole body (of a declared length or chunked) was
    read, the connection left open for the health check: a healthy RPC proxy's 401 page is a
    few hundred bytes.  Any other answer (a 200 would open an RPC channel), or a body that does
    not end soon, ends the connection."""
    framed = response.header("Content-Length") or response.header("Transfer-Encoding")
    if response.status != 401 or not response.keep_alive or not framed:
        return False
    size = 0
    try:
        while size <= MAX_DRAINED:
            data = conn.read_some()
            if not data:
                return not conn.closed
            size += len(data)
    except HttpError:
        pass
    return False


def _healthcheck(
    facts: RpcFacts,
    port: int,
    host: str,
    deadline: Deadline,
    ctx: ssl.SSLContext,
    session: ssl.SSLSession | None,
    kept: Connection | None,
) -> None:
    """``kept``: the RPC_IN_DATA probe's connection, still open; else (or when the server has
    closed it meanwhile) a new one, resuming ``session``."""
    share = Deadline(deadline.remaining() * HEALTHCHECK_SHARE, reserve=0)
    share.at = min(share.at, deadline.at)
    headers = [("User-Agent", "MSRPC"), ("Connection", "close")]
    try:
        response = _ask(kept, facts.address, port, host, share, ctx, session, headers)
    except HttpError:
        return
    if not facts.fe_server:
        facts.fe_server = _label(response.header("X-FEServer") or "")
    if response.status == 200:
        # "200 OK<br/>SERVER.contoso.com"
        text = response.body[:512].decode("latin-1")
        name = text.rsplit(">", 1)[-1].strip() if "<br" in text.lower() else ""
        facts.server_name = _label(name)


def _ask(
    kept: Connection | None,
    address: str,
    port: int,
    host: str,
    share: Deadline,
    ctx: ssl.SSLContext,
    session: ssl.SSLSession | None,
    headers: list[tuple[str, str]],
) -> Response:
    """The health check's answer, on ``kept`` when the server has not closed it meanwhile."""
    if kept is not None:
        kept.deadline = share
        try:
            return _get(kept, host, headers)
        except HttpError as exc:
            if exc.kind not in ("closed", "network"):
                raise
    return _get(Connection(address, port, share, ctx, host, session), host, headers)


def _get(conn: Connection, host: str, headers: list[tuple[str, str]]) -> Response:
    try:
        return conn.request("GET", HEALTHCHECK_PATH, host, headers)
    finally:
        conn.close()


def probe_all(
    addresses: tuple[str, ...], port: int, host: str, deadline: Deadline
) -> list[RpcFacts]:
    """Every node concurrently; a node still busy at the deadline did not answer in time.
    No credentials are sent, so the certificate is not verified here (the TLS probe judges it)."""
    ctx = client_context(verify=False)
    outcomes = fan_out(
        addresses, lambda address: probe(address, port, host, deadline, ctx), deadline
    )
    return [
        outcome
        if isinstance(outcome, RpcFacts)
        else RpcFacts(address, error=unanswered_why(finished, outcome))
        for address, (finished, outcome) in zip(addresses, outcomes, strict=True)
    ]
