"""MAPI over HTTP seen without credentials, on every node (``--mapi``): facts only.

``GET /mapi/healthcheck.htm`` answers 200 on a healthy Exchange 2013+ without a logon, and
``POST /mapi/emsmdb/`` without credentials answers 401 with one ``WWW-Authenticate`` header per
enabled scheme.  No credentials are sent, so the certificate is not verified here: the TLS probe
judges it.
"""

from __future__ import annotations

import ssl

from ..facts.logon import MapiProbe
from ..transport import Deadline, client_context, fan_out, unanswered_why
from ..transport.http import Connection, HttpError, auth_schemes

HEALTHCHECK_PATH = "/mapi/healthcheck.htm"
EMSMDB_PATH = "/mapi/emsmdb/"
USER_AGENT = "Microsoft Office/16.0 (check_outlook_anywhere)"


def probe(address: str, port: int, host: str, deadline: Deadline, ctx: ssl.SSLContext) -> MapiProbe:
    facts = MapiProbe(address)
    try:
        conn = Connection(address, port, deadline, ctx, host)
        try:
            health = conn.request(
                "GET", HEALTHCHECK_PATH, host, [("User-Agent", USER_AGENT)], read_body=True
            )
            facts.health, facts.health_reason = health.status, health.reason
            if conn.closed:
                conn = Connection(address, port, deadline, ctx, host)
            headers = [
                ("User-Agent", USER_AGENT),
                ("Content-Type", "application/mapi-http"),
                ("X-RequestType", "Connect"),
                ("Connection", "close"),
            ]
            response = conn.request("POST", EMSMDB_PATH, host, headers, read_body=False)
        finally:
            conn.close()
    except HttpError as exc:
        facts.error = exc.text
        return facts
    facts.status, facts.reason = response.status, response.reason
    facts.schemes = auth_schemes(response)
    facts.elapsed = response.elapsed
    return facts


def probe_all(
    addresses: tuple[str, ...], port: int, host: str, deadline: Deadline
) -> list[MapiProbe]:
    """Every node concurrently; a node still busy at the deadline did not answer in time."""
    ctx = client_context(verify=False)
    outcomes = fan_out(
        addresses, lambda address: probe(address, port, host, deadline, ctx), deadline
    )
    found = []
    for address, (finished, outcome) in zip(addresses, outcomes, strict=True):
        if isinstance(outcome, MapiProbe):
            found.append(outcome)
            continue
        facts = MapiProbe(address)
        facts.error = unanswered_why(finished, outcome)
        found.append(facts)
    return found
