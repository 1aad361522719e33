"""The RPC proxy seen without credentials, on every node: facts only (domain.md §4).

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
import threading
from dataclasses import dataclass, field

from .deadline import Deadline
from .httpclient import Connection, HttpError, auth_schemes

RPC_PATH = "/rpc/rpcproxy.dll"
HEALTHCHECK_PATH = "/rpc/healthcheck.htm"
# The health check is a label, never worth more than this share of what is left.
HEALTHCHECK_SHARE = 0.5
_RPC_ERROR = re.compile(r"RPC Error:\s*([0-9A-Fa-f]+)")


@dataclass
class RpcFacts:
    address: str
    status: int | None = None
    reason: str = ""
    schemes: list[str] = field(default_factory=list)
    location: str = ""
    rpc_error: str = ""  # the hex code of "RPC Error: 6ba"
    error: str = ""  # no answer: timeout, refused, TLS...
    elapsed: float | None = None
    fe_server: str = ""  # X-FEServer
    server_name: str = ""  # what /rpc/healthcheck.htm names


def _context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _label(text: str) -> str:
    return "".join(ch for ch in text if 32 < ord(ch) < 127)[:100]


def probe(address: str, port: int, host: str, deadline: Deadline, ctx: ssl.SSLContext) -> RpcFacts:
    facts = RpcFacts(address)
    headers = [("User-Agent", "MSRPC"), ("Accept", "application/rpc"), ("Connection", "close")]
    try:
        conn = Connection(address, port, deadline, ctx, host)
        try:
            response = conn.request("RPC_IN_DATA", RPC_PATH, host, headers, read_body=False)
        finally:
            conn.close()
    except HttpError as exc:
        facts.error = exc.text
        return facts
    facts.status, facts.reason = response.status, response.reason
    facts.elapsed = response.elapsed
    facts.schemes = auth_schemes(response)
    facts.location = _label(response.header("Location") or "")
    facts.fe_server = _label(response.header("X-FEServer") or "")
    found = _RPC_ERROR.search(response.reason)
    if found:
        facts.rpc_error = found.group(1).lower()[:16]
    _healthcheck(facts, port, host, deadline, ctx)
    return facts


def _healthcheck(
    facts: RpcFacts, port: int, host: str, deadline: Deadline, ctx: ssl.SSLContext
) -> None:
    share = Deadline(deadline.remaining() * HEALTHCHECK_SHARE, reserve=0)
    share.at = min(share.at, deadline.at)
    try:
        conn = Connection(facts.address, port, share, ctx, host)
        try:
            response = conn.request(
                "GET", HEALTHCHECK_PATH, host, [("User-Agent", "MSRPC"), ("Connection", "close")]
            )
        finally:
            conn.close()
    except HttpError:
        return
    if not facts.fe_server:
        facts.fe_server = _label(response.header("X-FEServer") or "")
    if response.status == 200:
        # "200 OK<br/>SERVER.contoso.com"
        text = response.body[:512].decode("latin-1")
        name = text.rsplit(">", 1)[-1].strip() if "<br" in text.lower() else ""
        facts.server_name = _label(name)


def probe_all(
    addresses: tuple[str, ...], port: int, host: str, deadline: Deadline
) -> list[RpcFacts]:
    """Every node concurrently; a node still busy at the deadline did not answer in time."""
    ctx = _context()
    results: dict[str, RpcFacts] = {}

    def run(address: str) -> None:
        try:
            results[address] = probe(address, port, host, deadline, ctx)
        except Exception as exc:  # a bug: report it on the node, never on stderr
            results[address] = RpcFacts(address, error=f"internal error: {exc.__class__.__name__}")

    threads = [threading.Thread(target=run, args=(a,), daemon=True) for a in addresses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(deadline.remaining())
    return [results.get(a) or RpcFacts(a, error="no answer within the deadline") for a in addresses]
