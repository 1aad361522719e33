"""Logging on to every node as Outlook does (``--logon``): facts only.

Per node, concurrently: with ``--rpc``, an authenticated echo of the RPC proxy, then a virtual
connection to each RPC endpoint Outlook uses (6001 mail store, 6002 directory referral, 6004
address book) of the EXCH server Autodiscover published, CONN/C2 on the OUT channel proving the
endpoint answered; the echo and the channels carry the ``?<server>:<port>`` query.  With
``--mapi``, a mailbox logon over MAPI/HTTP: ``Connect`` with the mailbox's LegacyDN, a ``PING``
in the session it opened, ``Disconnect``.  This module fans the logons out over the nodes;
each node's authenticated HTTP is :mod:`.logon_node`, the RPC logon :mod:`.logon_rpc`, the MAPI
logon :mod:`.logon_mapi`.

Account safety: the caller logs on only after Autodiscover accepted the credentials.  Per node
and protocol the first authentication decides: NTLM and Negotiate always carry the
``tls-server-end-point`` binding of the certificate that node presented; a logon refused with
the binding is retried once without it (to tell Extended Protection apart from a refused
account), and a logon refused twice is never tried again in this check.  The endpoints, the
PING and Disconnect reuse what was accepted.  The only server state touched is the MAPI session
the plugin opens itself, and it is always disconnected: Connect and PING work to a deadline a
little earlier than the check's, which leaves Disconnect its time on the deadline path too.

A node still at work when the deadline comes is recorded with the step it was in
(``cut_off``), never as not tried.

Credentials go only over TLS that verifies for the host name (the chain against ``--ca-file``
or the system store), as with Autodiscover.
"""

from __future__ import annotations

from ..facts import logon as f
from ..transport import Deadline, client_context, fan_out
from .logon_mapi import logon_mapi, mapi_path
from .logon_node import Account, Node
from .logon_rpc import logon_rpc

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# Characters of an EXCH Server value put in a URL as it is
_SERVER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@{}")
# Disconnect's share of the deadline: Connect and PING stop this much earlier, so that a
# session opened is closed on the deadline path too (at most 1 s, a fifth of a short -t)
DISCONNECT_RESERVE = 1.0


def usable_server(server: str) -> bool:
    """An EXCH Server value fit for ``?<server>:<port>`` and ``?MailboxId=`` as it is."""
    return bool(server) and len(server) <= 255 and set(server) <= _SERVER_CHARS


def logon_all(
    addresses: tuple[str, ...],
    port: int,
    host: str,
    account: Account,
    facts: f.LogonFacts,
    rpc: bool,
    mapi: bool,
    ca_file: str | None,
    deadline: Deadline,
    mapi_url: str = "",
    unbound: bool = False,
) -> None:
    """Every node concurrently, RPC and MAPI side by side on each; fills ``facts``."""
    ctx = client_context(verify=True, ca_file=ca_file, check_hostname=True)
    path = mapi_path(facts.mailbox, mapi_url)
    nodes = [Node(a, port, host, account, ctx, deadline, unbound) for a in addresses]
    # Connect and PING end before the check does: a session opened is then disconnected
    session = Deadline(deadline.seconds, reserve=0)
    session.at = deadline.at - min(DISCONNECT_RESERVE, deadline.seconds / 5)
    mapi_nodes = [Node(a, port, host, account, ctx, session, unbound) for a in addresses]
    if rpc:
        facts.rpc = [f.RpcLogon(a) for a in addresses]
    if mapi:
        facts.mapi = [f.MapiLogon(a) for a in addresses]
    work: list[tuple[str, int]] = []
    for i in range(len(nodes)):
        work += [("rpc", i)] if rpc else []
        work += [("mapi", i)] if mapi else []

    def run(item: tuple[str, int]) -> None:
        kind, i = item
        if kind == "rpc":
            assert facts.rpc is not None
            logon_rpc(nodes[i], facts.server, facts.rpc[i])
        else:
            assert facts.mapi is not None
            logon_mapi(mapi_nodes[i], path, facts.mapi[i], facts.legacy_dn, deadline)

    settle(facts, work, fan_out(work, run, deadline))


def settle(
    facts: f.LogonFacts,
    work: list[tuple[str, int]],
    outcomes: list[tuple[bool, object]],
) -> None:
    """Each logon as the fan-out left it (``outcomes``, in ``work``'s order): a logon still at
    work at the deadline is cut off (never "not tried", never OK), and one that raised (a bug)
    failed."""
    for (kind, i), (finished, outcome) in zip(work, outcomes, strict=True):
        target = (facts.rpc if kind == "rpc" else facts.mapi) or []
        if not finished:
            _as_at_deadline(target, i)
        item = target[i]
        if isinstance(outcome, BaseException):
            item.auth.detail = "internal"
            item.auth.outcome = item.auth.outcome or f.FAILED
            continue
        if finished:
            continue
        if not item.cut_off:
            item.cut_off = item.step or (f.STEP_ECHO if kind == "rpc" else f.STEP_CONNECT)
        if not item.auth.outcome:
            item.auth.outcome, item.auth.detail = f.FAILED, "timeout"
        elif _retry_pending(item.auth):  # as failure() records it
            item.auth.retry_outcome, item.auth.detail = f.FAILED, "timeout"
        elif isinstance(item, f.RpcLogon):
            for endpoint in item.endpoints:  # still waiting at the deadline
                if not endpoint.outcome:
                    endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, "timeout"


def _as_at_deadline(items: list[Any], i: int) -> None:
    """Its thread, left at work, still writes to ``items[i]``: what is judged is a copy, the
    facts as they stand at the deadline."""
    import copy

    items[i] = copy.deepcopy(items[i])


def _retry_pending(auth: f.Authentication) -> bool:
    """Refused with the binding, the retry without it under way: the refusal alone would say
    the account was refused, which no answer said."""
    return auth.binding_sent and auth.outcome == f.REFUSED and not auth.retry_outcome
