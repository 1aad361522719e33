"""``--revocation`` where the lab's PKI site has nothing to say: URLs a fetch cannot follow,
the AIA caIssuers URLs Windows walks to complete a chain (which of them count, and against
which trust anchors), a chain with more URLs than one check fetches, and answers the plugin
cannot read.  Through the CLI, against a PKI of the test's own (tests/edge_servers.py): TLS
nodes and a plain-HTTP PKI site on 127.77.1.x, every URL in the certificates an address of it.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from contrib.lab import Lab
from contrib.lab.network.http11 import Request, Response
from outlook_anywhere.probes.revocation import MAX_FETCHES, MAX_REDIRECTS
from outlook_anywhere.probes.revocation_answers import MAX_URLS
from tests.conftest import Outcome, run_plugin
from tests.edge_servers import (
    NOW,
    Issued,
    Servers,
    crl_of,
    issue,
    ok,
    resigned,
    server_context,
    status,
    write_chain,
    write_key,
)

PKI = "127.77.1.1"
DOWN = "127.77.1.2"  # nothing listens there on the site's port
NODES = {
    "fetch": "127.77.1.10",
    "fallback": "127.77.1.11",
    "impostor": "127.77.1.12",
    "system": "127.77.1.13",
    "many": "127.77.1.14",
    "v2": "127.77.1.15",
    "v2-issuer": "127.77.1.16",
    "anchor": "127.77.1.17",
    "long-label": "127.77.1.18",
}
ECDSA_SHA256 = bytes.fromhex("06082a8648ce3d040302")  # the OID 1.2.840.10045.4.3.2, as DER
# The version field of a certificate, as DER: v3 (2), and v2 (1), which OpenSSL reads and
# cryptography refuses with InvalidVersion (no ValueError)
V3, V2 = b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x01"


def host(label: str) -> str:
    return f"rev-{label}.contoso.test"


@dataclass
class Site:
    """The PKI of these tests and the servers that publish it."""

    servers: Servers
    root: Issued
    issuing: Issued
    folder: Path

    @property
    def port(self) -> int:
        return self.servers.port

    def url(self, path: str, address: str = PKI) -> str:
        return f"http://{address}:{self.port}{path}"

    @property
    def root_file(self) -> str:
        path = self.folder / "root.pem"
        path.write_bytes(self.root.pem)
        return str(path)

    def node(self, label: str, leaf: Issued, *sent: Issued) -> None:
        """The node of ``label`` serves ``leaf`` and the certificates ``sent`` after it."""
        chain = write_chain(self.folder, label, leaf, *(s.cert for s in sent))
        self.servers.contexts[NODES[label]] = server_context(chain)

    def run(
        self,
        label: str,
        leaf: Issued,
        *sent: Issued,
        anchors: str | None = "",
        extra: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> tuple[Outcome, list[str]]:
        """The node of ``label`` serves ``leaf`` (and ``sent``) and is checked with
        --revocation, --ca-file ``anchors`` ("": the root; None: none, the system store): the
        outcome (one clean status line, nothing on stderr) and the paths the site was asked."""
        self.node(label, leaf, *sent)
        before = len(self.servers.requests(PKI))
        trust = () if anchors is None else ("--ca-file", anchors or self.root_file)
        out = self.check(label, *trust, *extra, env=env)
        clean(out)
        return out, self.servers.requests(PKI)[before:]

    def check(self, label: str, *extra: str, env: dict[str, str] | None = None) -> Outcome:
        return run_plugin(
            "-H", host(label), "-I", NODES[label], "-p", str(self.port), "--revocation",
            "-t", "10", *extra, env=env,
        )  # fmt: skip


def ocsp_answer(issuer: Issued, request: Request, odd_algorithm: bool = False) -> Response:
    """A "good" OCSP answer of ``issuer`` for the serial the GET request asks about;
    ``odd_algorithm``: its signature algorithm then made one no one knows (the signature
    itself untouched)."""
    encoded = request.path.rsplit("/", 1)[-1]
    asked = ocsp.load_der_ocsp_request(base64.b64decode(unquote(encoded)))
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=asked.issuer_name_hash,
            issuer_key_hash=asked.issuer_key_hash,
            serial_number=asked.serial_number,
            algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=NOW - dt.timedelta(hours=1),
            next_update=NOW + dt.timedelta(days=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.cert)
    )
    der = builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    if odd_algorithm:
        assert der.count(ECDSA_SHA256) == 1  # the response's own signatureAlgorithm
        der = der.replace(ECDSA_SHA256, ECDSA_SHA256[:-1] + b"\x7f")
    return ok(der, ("Content-Type", "application/ocsp-response"))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    servers = Servers(tls=tuple(NODES.values()), plain=(PKI,), refuse=(DOWN,))
    root = issue("Edge Root CA", ca=True)
    root_crl = f"http://{PKI}:{servers.port}/root.crl"
    issuing = issue("Edge Issuing CA", root, ca=True, cdp=(root_crl,))
    made = Site(servers, root, issuing, tmp_path_factory.mktemp("edge-pki"))
    routes = {
        "/root.crl": lambda _: ok(crl_of(root)),
        "/issuing.crl": lambda _: ok(crl_of(issuing)),
        "/ca/edge-issuing.cer": lambda _: ok(issuing.der),
        "/ocsp/odd/": lambda request: ocsp_answer(issuing, request, odd_algorithm=True),
        "/loop.crl": lambda _: status(302, "Found", ("Location", "/loop.crl")),
        "/to-https.crl": lambda _: status(
            302, "Found", ("Location", made.url("/issuing.crl").replace("http:", "https:"))
        ),
        "/no-location/": lambda _: status(302, "Found"),
    }
    for path, answer in routes.items():
        servers.route(PKI, path, answer)
    yield made
    servers.close()


def revocation_line(out: Outcome) -> str:
    [line] = [x for x in out.long_output if x.startswith("  revocation: ")]
    return line


def clean(out: Outcome) -> None:
    assert out.stderr == "" and "Traceback" not in out.stdout, out.stdout + out.stderr
    assert "internal error" not in out.stdout, out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


# -- URLs a fetch cannot follow ------------------------------------------------------------


def test_every_url_that_cannot_be_fetched_says_why(site: Site) -> None:
    """A redirect loop, a port out of range, a URL without a host, a redirect to https (a
    client fetching revocation over TLS would need revocation to trust it), a redirect
    without a Location, and an OCSP answer signed with an algorithm no one knows: each
    source named with its own reason, and the certificate cannot be checked (WARNING)."""
    crls = (
        site.url("/loop.crl"),
        f"http://{PKI}:99999/bad-port.crl",
        "http:///no-host.crl",
        site.url("/to-https.crl"),
    )
    responders = (site.url("/no-location/ocsp"), site.url("/ocsp/odd"))
    leaf = issue(host("fetch"), site.issuing, cdp=crls, ocsp=responders)
    out, asked = site.run("fetch", leaf, site.issuing)
    assert out.code == 1, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {NODES['fetch']}: certificate {host('fetch')}: revocation"
        f" cannot be checked: {crls[0]} more than {MAX_REDIRECTS} redirects"
    ), out.status
    https = site.url("/issuing.crl").replace("http:", "https:")
    said = {
        crls[0]: f"more than {MAX_REDIRECTS} redirects",
        crls[1]: "invalid port in the URL",
        crls[2]: "no host name in the URL",
        crls[3]: f"redirected to a URL that is not plain http: {https}",
        responders[0]: "HTTP 302 without a Location",
        responders[1]: "not readable",
    }
    line = revocation_line(out)
    for url, why in said.items():
        assert f"{url} {why}" in line, (url, line)
    # the loop was followed MAX_REDIRECTS times after the first GET, then given up
    assert asked.count("/loop.crl") == MAX_REDIRECTS + 1, asked
    assert "/issuing.crl" not in asked  # never fetched over https, nor over http instead


@pytest.mark.parametrize("resolver", ["system", "dns-server"])
def test_a_host_name_no_resolver_can_ask_for_is_no_address(
    site: Site, lab: Lab, resolver: str
) -> None:
    """A label of 64 characters (DNS allows 63): neither the system resolver nor a DNS server
    can be asked; the source has no address, said so, and nothing is sent anywhere."""
    too_long = "a" * 64 + ".contoso.test"
    url = f"http://{too_long}:{site.port}/issuing.crl"
    leaf = issue(host("long-label"), site.issuing, cdp=(url,))
    queries = lab.dns.queries
    extra = ("--dns-server", lab.dns_server) if resolver == "dns-server" else ()
    out, _ = site.run("long-label", leaf, site.issuing, extra=extra)
    assert out.code == 1, out.stdout
    assert f"{url} {too_long}: no address (failed)" in revocation_line(out), out.stdout
    assert lab.dns.queries == queries


# -- caIssuers: what completes a chain -------------------------------------------------------


def test_the_ca_issuers_urls_are_tried_in_order_until_one_completes_the_chain(
    site: Site,
) -> None:
    """The node sends its leaf alone.  Its caIssuers URLs: an ldap: URL (never fetched), an
    address that refuses, another CA's certificate (it did not issue the leaf), then the
    issuing CA: that one completes the chain, as Windows would.  The leaf's OCSP URL is ldap:
    too: named, not fetched; its CRL answers."""
    other = issue("Some Other CA", site.root, ca=True)
    site.servers.route(PKI, "/ca/other.cer", lambda _: ok(other.der))
    walked = (
        "ldap:///CN=Edge%20Issuing%20CA,CN=AIA?cACertificate",
        site.url("/ca/edge-issuing.cer", DOWN),
        site.url("/ca/other.cer"),
        site.url("/ca/edge-issuing.cer"),
    )
    assert len(walked) == MAX_URLS
    leaf = issue(
        host("fallback"),
        site.issuing,
        cdp=(site.url("/issuing.crl"),),
        ocsp=("ldap:///CN=Edge%20OCSP",),
        ca_issuers=walked,
    )
    out, asked = site.run("fallback", leaf)
    assert out.code == 1, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {NODES['fallback']}: chain incomplete: issuing CA Edge"
        f" Issuing CA is not sent, Windows fetches it from {walked[3]}"
    ), out.status
    assert "untrusted" not in out.stdout
    assert asked[:2] == ["/ca/other.cer", "/ca/edge-issuing.cer"], asked
    line = revocation_line(out)
    assert f"Edge Issuing CA fetched from {walked[3]}" in line, line
    assert f"OCSP {leaf_ocsp(leaf)} not fetched" in line, line
    assert f"CRL {site.url('/issuing.crl')} good" in line, line


def leaf_ocsp(leaf: Issued) -> str:
    from outlook_anywhere.probes.revocation_answers import urls

    return urls(leaf.cert)[1][0]


@pytest.mark.parametrize("supplied", ["impostor", "v2-issuer"])
def test_an_intermediate_that_cannot_complete_the_chain_completes_nothing(
    site: Site, supplied: str
) -> None:
    """caIssuers serves a certificate with the issuing CA's name and key that does not lead to
    a trusted root (a root of the same name, another key, issued it), or one cryptography
    refuses (version 2): the chain stays incomplete and untrusted, as without --revocation."""
    if supplied == "impostor":
        rogue = issue("Edge Root CA", ca=True)
        answer = issue("Edge Issuing CA", rogue, ca=True, key=site.issuing.key).der
    else:
        answer = resigned(site.issuing.cert, site.root, V3, V2)
    site.servers.route(PKI, f"/ca/{supplied}.cer", lambda _: ok(answer))
    leaf = issue(
        host(supplied),
        site.issuing,
        cdp=(site.url("/issuing.crl"),),
        ca_issuers=(site.url(f"/ca/{supplied}.cer"),),
    )
    out, asked = site.run(supplied, leaf)
    assert out.code == 2, out.stdout
    assert "missing intermediate?" in out.status, out.status
    assert "chain incomplete" not in out.stdout and "fetched from" not in out.stdout
    assert asked[:1] == [f"/ca/{supplied}.cer"]


def test_an_issuing_ca_trusted_itself_is_supplied_as_the_anchor(site: Site) -> None:
    """--ca-file holds the issuing CA alone (no root): the one caIssuers supplies is that
    anchor, so the chain is complete as Windows builds it, and the anchor is not looked up."""
    leaf = issue(
        host("anchor"),
        site.issuing,
        cdp=(site.url("/issuing.crl"),),
        ca_issuers=(site.url("/ca/edge-issuing.cer"),),
    )
    anchor = site.folder / "issuing-only.pem"
    anchor.write_bytes(site.issuing.pem)
    out, asked = site.run("anchor", leaf, anchors=str(anchor))
    assert out.code == 1, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {NODES['anchor']}: chain incomplete: issuing CA Edge"
        f" Issuing CA is not sent, Windows fetches it from {site.url('/ca/edge-issuing.cer')}"
    ), out.status
    assert revocation_line(out) == (
        f"  revocation: Edge Issuing CA fetched from {site.url('/ca/edge-issuing.cer')};"
        f" {host('anchor')}: CRL {site.url('/issuing.crl')} good"
        f" (next update {(NOW + dt.timedelta(days=7)).date().isoformat()})"
    )
    assert "/root.crl" not in asked


def system_store_check(site: Site, env: dict[str, str]) -> Outcome:
    """The check of a node that sends its leaf alone, without --ca-file: the trust anchors are
    the system's (OpenSSL's SSL_CERT_FILE / SSL_CERT_DIR)."""
    leaf = issue(
        host("system"),
        site.issuing,
        cdp=(site.url("/issuing.crl"),),
        ca_issuers=(site.url("/ca/edge-issuing.cer"),),
    )
    return site.run("system", leaf, anchors=None, env=env)[0]


def supplied_from_the_system_store(site: Site, out: Outcome) -> None:
    assert out.code == 1, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {NODES['system']}: chain incomplete: issuing CA Edge"
        f" Issuing CA is not sent, Windows fetches it from {site.url('/ca/edge-issuing.cer')}"
    ), out.status


@pytest.mark.parametrize("before_root", ["damaged", "version-2"])
def test_the_system_bundle_holds_the_root_that_completes_a_supplied_chain(
    site: Site, tmp_path: Path, before_root: str
) -> None:
    """What cannot be read in the bundle (a damaged block, or a version 2 root, which OpenSSL
    loads and cryptography refuses with an exception of its own) hides none of the
    certificates after it."""
    if before_root == "damaged":
        unread = b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"
    else:
        other = issue("Version 2 Root", ca=True)
        unread = ssl.DER_cert_to_PEM_cert(resigned(other.cert, other, V3, V2)).encode()
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(unread + site.root.pem)
    out = system_store_check(site, {"SSL_CERT_FILE": str(bundle)})
    supplied_from_the_system_store(site, out)


def test_the_system_certificate_directory_holds_the_root_without_a_bundle(
    site: Site, tmp_path: Path
) -> None:
    """No bundle file (as where only a hashed directory is installed): every file of the
    directory is read for the anchors."""
    store = tmp_path / "certs"
    store.mkdir()
    (store / "edge-root.pem").write_bytes(site.root.pem)
    (store / "unrelated.pem").write_bytes(issue("Unrelated Root", ca=True).pem)
    env = {"SSL_CERT_FILE": str(tmp_path / "no-bundle.pem"), "SSL_CERT_DIR": str(store)}
    supplied_from_the_system_store(site, system_store_check(site, env))


def test_without_a_system_store_nothing_is_supplied(site: Site, tmp_path: Path) -> None:
    """The control of the two above: the same node, and neither a bundle nor a directory."""
    env = {"SSL_CERT_FILE": str(tmp_path / "no-bundle.pem"), "SSL_CERT_DIR": str(tmp_path / "no")}
    out = system_store_check(site, env)
    assert out.code == 2, out.stdout
    assert "chain incomplete" not in out.stdout


# -- how much one check fetches -------------------------------------------------------------


def test_a_chain_with_more_urls_than_one_check_fetches_names_the_rest(site: Site) -> None:
    """Nine certificates below the root, each with four CRL and four OCSP URLs of its own:
    72 fetches, of which one check makes MAX_FETCHES; the last ones planned (the certificate
    nearest the root) are named as not fetched."""
    per_cert = 2 * MAX_URLS

    def own_urls(label: str) -> dict[str, tuple[str, ...]]:
        return {
            "cdp": tuple(site.url(f"/many/{label}/{n}.crl") for n in range(MAX_URLS)),
            "ocsp": tuple(site.url(f"/many/{label}/ocsp{n}") for n in range(MAX_URLS)),
        }

    issuer, cas = site.root, []
    for depth in range(1, 9):
        issuer = issue(f"Edge Tier {depth} CA", issuer, ca=True, **own_urls(f"tier{depth}"))
        cas.append(issuer)
    leaf = issue(host("many"), issuer, **own_urls("leaf"))
    assert (len(cas) + 1) * per_cert > MAX_FETCHES
    out, asked = site.run("many", leaf, *reversed(cas))
    assert out.code == 1, out.stdout
    assert len(asked) == MAX_FETCHES, len(asked)
    assert not [p for p in asked if p.startswith("/many/tier1/")], asked
    line = revocation_line(out)
    over = f"not fetched: over {MAX_FETCHES} URLs in one check"
    assert line.count(over) == (len(cas) + 1) * per_cert - MAX_FETCHES, line
    tier1 = re.search(r"Edge Tier 1 CA: (.*?)(; |$)", line)
    assert tier1 is not None, line
    assert tier1.group(1).count(over) == per_cert, tier1.group(1)
    first = site.url("/many/tier1/0.crl")
    assert f"issuing CA Edge Tier 1 CA: revocation cannot be checked: {first} {over}" in out.stdout


# -- certificates OpenSSL reads and cryptography refuses --------------------------------------


def test_a_version_2_certificate_from_a_node_is_judged_without_a_lookup(site: Site) -> None:
    """A leaf whose version field says v2: OpenSSL verifies the chain, cryptography refuses
    the certificate.  The node is judged as without --revocation, nothing is fetched for a
    certificate that cannot be read, and the first line claims no revocation check."""
    leaf = issue(host("v2"), site.issuing, cdp=(site.url("/v2/issuing.crl"),))
    odd = resigned(leaf.cert, site.issuing, V3, V2)
    chain = site.folder / "v2.pem"
    chain.write_bytes(ssl.DER_cert_to_PEM_cert(odd).encode() + site.issuing.pem)
    write_key(chain.with_suffix(".key"), leaf)
    site.servers.contexts[NODES["v2"]] = server_context(chain)
    out = site.check("v2", "--ca-file", site.root_file)
    clean(out)
    assert out.code == 0, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:{host('v2')} matches the CN"
    ), out.status
    assert "revoked" not in out.status and "checked" not in out.status, out.status
    assert revocation_line(out) == "  revocation: nothing to check"
    assert not [p for p in site.servers.requests(PKI) if p.startswith("/v2/")]
