"""Autodiscover's paths that the lab's own sites do not take, through the CLI: redirects a
server may send that are no usable https URL or address, a redirect URL with a query, and the
SRV step of the standard lookup when DNS has no SRV record or fails.

An Autodiscover endpoint written for these tests answers each POST with the next document of a
list (XML built by the lab's helpers) and records the request lines it got.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints import hostile_servers
from contrib.lab.endpoints.autodiscover import _redirect, _settings
from contrib.lab.identities.hostile_certificates import HostilePKI
from tests.conftest import Outcome, run_plugin

HOST = "adpaths.contoso.test"
ADDRESS = "127.0.71.1"


@dataclass
class Scripted:
    """An on_tls handler: the next document of ``documents`` for each request (200, XML), or
    the next answer as it stands when it starts with ``HTTP/`` (then the connection is closed
    after it if it says ``Connection: close``)."""

    documents: list[bytes] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def __call__(self, sock: ssl.SSLSocket) -> None:
        sock.settimeout(5)
        buffer: bytes | None = b""
        while True:
            head = buffer or b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                head += chunk
            self.requests.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
            buffer = hostile_servers._read_request(sock, head)
            if buffer is None:
                return
            body = self.documents.pop(0) if self.documents else b""
            if body.startswith(b"HTTP/"):
                sock.sendall(body)
                if b"Connection: close" in body:
                    return
                continue
            sock.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n"
                % len(body)
                + body
            )


@pytest.fixture(scope="module")
def endpoint(lab: Lab) -> Iterator[Scripted]:
    handler = Scripted()
    pki = HostilePKI(lab.pki)
    lab.set_node(ADDRESS, "tls", pki.leaf(HOST, HOST), on_tls=handler)
    lab.dns.set_records(HOST, "A", [ADDRESS])
    yield handler
    lab.reset()


def lookup(lab: Lab, password_file: str, *extra: str) -> Outcome:
    return run_plugin(
        "--autodiscover", f"monitor@{HOST}", "--password-file", password_file,
        "--dns-server", lab.dns_server, "--ca-file", lab.ca_file, "-p", str(lab.port),
        "-t", "5", "-vv", *extra,
    )  # fmt: skip


def url(lab: Lab, tail: str = "/autodiscover/autodiscover.xml") -> str:
    return f"https://{HOST}:{lab.port}{tail}"


@pytest.mark.parametrize(
    ("redirect", "evidence"),
    [
        ("https://monitor@{host}:{port}/autodiscover/autodiscover.xml", "user information"),
        ("https:///autodiscover/autodiscover.xml", "no host name"),
        ("https://{host}:{port}/auto discover.xml", "white space or control characters"),
        ("http://{host}/autodiscover/autodiscover.xml", "not an https URL"),
    ],
    ids=["user-information", "no-host", "white-space", "plain-http"],
)
def test_redirect_url_that_is_no_usable_https_url(
    lab: Lab, endpoint: Scripted, password_file: str, redirect: str, evidence: str
) -> None:
    target = redirect.format(host=HOST, port=lab.port)
    endpoint.documents[:] = [_redirect("redirectUrl", target)]
    endpoint.requests.clear()
    out = lookup(lab, password_file, "--autodiscover-url", url(lab))
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert evidence in out.stdout, out.stdout
    assert len(endpoint.requests) == 1, endpoint.requests  # nothing sent to the redirect


def test_redirect_url_keeps_its_query(lab: Lab, endpoint: Scripted, password_file: str) -> None:
    endpoint.documents[:] = [
        _redirect("redirectUrl", url(lab, "/autodiscover/autodiscover.xml?site=2")),
        _settings(HOST, f"msstd:{HOST}"),
    ]
    endpoint.requests.clear()
    out = lookup(lab, password_file, "--autodiscover-url", url(lab))
    assert out.stderr == "", out.stderr
    assert endpoint.requests[-1].startswith("POST /autodiscover/autodiscover.xml?site=2 "), (
        endpoint.requests
    )
    assert f"msstd:{HOST}" in out.stdout, out.stdout  # the published principal was read


@pytest.mark.parametrize("address", ["not-an-address", "two@at@contoso.test", "a b@contoso.test"])
def test_redirect_address_that_is_no_address(
    lab: Lab, endpoint: Scripted, password_file: str, address: str
) -> None:
    endpoint.documents[:] = [_redirect("redirectAddr", address)]
    out = lookup(lab, password_file, "--autodiscover-url", url(lab))
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert "redirectAddr to an invalid address" in out.stdout, out.stdout


# -- the SRV step of the standard lookup -------------------------------------------------------


@pytest.fixture()
def srv_domain(lab: Lab) -> Iterator[str]:
    domain = "srvpath.contoso.test"
    yield domain
    lab.dns.set_failure(f"_autodiscover._tcp.{domain}", None)
    lab.dns.set_records(f"_autodiscover._tcp.{domain}", "A", [])


@pytest.mark.parametrize(
    ("dns", "evidence"),
    [("no-record", "no SRV record"), ("servfail", "DNS query failed"), ("none", "not found")],
)
def test_srv_step_without_a_usable_answer(
    lab: Lab, password_file: str, srv_domain: str, dns: str, evidence: str
) -> None:
    """Every candidate of the standard lookup fails (no such names); the SRV query then finds
    the name without an SRV record, or fails, or finds no name: CRITICAL, each step named."""
    name = f"_autodiscover._tcp.{srv_domain}"
    if dns == "no-record":
        lab.dns.set_records(name, "A", ["127.0.71.9"])  # the name exists, without SRV
    elif dns == "servfail":
        lab.dns.set_failure(name, "servfail")
    out = run_plugin(
        "--autodiscover", f"monitor@{srv_domain}", "--password-file", password_file,
        "--dns-server", lab.dns_server, "--ca-file", lab.ca_file, "-t", "5", "-vv",
        "--autodiscover-port", str(lab.port),
    )  # fmt: skip
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert f"SRV {name}" in out.stdout, out.stdout
    assert evidence in out.stdout, out.stdout


# -- authentication ----------------------------------------------------------------------------


def _401(*challenges: str, close: bool = False) -> bytes:
    lines = "".join(f"WWW-Authenticate: {c}\r\n" for c in challenges)
    closing = "Connection: close\r\n" if close else ""
    return f"HTTP/1.1 401 Unauthorized\r\n{lines}{closing}Content-Length: 0\r\n\r\n".encode()


def test_a_401_offering_no_scheme_the_plugin_speaks(
    lab: Lab, endpoint: Scripted, password_file: str
) -> None:
    endpoint.documents[:] = [_401('Digest realm="x", nonce="1"', "Bearer")]
    endpoint.requests.clear()
    out = lookup(lab, password_file, "--autodiscover-url", url(lab))
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert "no scheme this plugin speaks (offered: Digest, Bearer)" in out.stdout, out.stdout
    assert len(endpoint.requests) == 1  # no credentials sent in any form


def test_basic_after_a_401_that_closed_the_connection(
    lab: Lab, endpoint: Scripted, password_file: str
) -> None:
    """IIS may close the connection with its 401: the credentials go on a new (verified)
    connection."""
    endpoint.documents[:] = [_401('Basic realm="x"', close=True), _settings(HOST, f"msstd:{HOST}")]
    endpoint.requests.clear()
    out = lookup(lab, password_file, "--autodiscover-url", url(lab))
    assert out.stderr == "", out.stderr
    assert len(endpoint.requests) == 2, endpoint.requests
    assert f"msstd:{HOST}" in out.stdout, out.stdout


def test_an_ntlm_challenge_that_is_not_base64(
    lab: Lab, endpoint: Scripted, password_file: str
) -> None:
    endpoint.documents[:] = [_401("NTLM"), _401("NTLM !!not-base64!!")]
    endpoint.requests.clear()
    out = lookup(lab, password_file, "--autodiscover-url", url(lab))
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert "challenge" in out.stdout and "from the server" in out.stdout, out.stdout
    assert len(endpoint.requests) == 2  # the third leg is never sent


def test_an_endpoint_named_by_its_ip_address_gets_no_credentials(
    lab: Lab, endpoint: Scripted, password_file: str
) -> None:
    """An Autodiscover URL naming the server by address: the certificate names a host, so TLS
    does not verify for the address and no request (no credentials) is sent."""
    endpoint.requests.clear()
    out = lookup(lab, password_file, "--autodiscover-url", f"https://{ADDRESS}:{lab.port}/")
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert "does not verify" in out.stdout, out.stdout
    assert endpoint.requests == []


def test_a_name_without_addresses(lab: Lab, password_file: str) -> None:
    """--dns-server: the name exists (it has a TXT record) but no A or AAAA record."""
    name = "noaddress.contoso.test"
    lab.dns.set_records(name, "TXT", ['"v=spf1 -all"'])
    try:
        out = run_plugin(
            "-H", name, "--dns-server", lab.dns_server, "-p", str(lab.port), "-t", "5"
        )  # fmt: skip
    finally:
        lab.dns.set_records(name, "TXT", [])
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert f"{name}: " in out.status and "no A or AAAA address" in out.status, out.status
