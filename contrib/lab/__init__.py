"""A local fake Exchange Client Access array for demos and tests.

Every scenario of :mod:`contrib.lab.scenarios` is a host name under ``contoso.test`` whose
addresses (on loopback) serve TLS the way the scenario says, all on one shared port, with a DNS
server on 127.0.0.53 that resolves the names::

    with Lab("/tmp/lab") as lab:
        s = lab.scenario("stale")
        # check_outlook_anywhere -H s.host -p lab.port --dns-server lab.dns_server
        #     --ca-file lab.ca_file

The tests' ``lab`` fixture, ``make demo`` (:mod:`.demo`) and ``python -m contrib.lab serve``
(:mod:`.__main__`) all start and stop it so.  Its parts are in layers, each importing only the
ones before it (docs/design.md, "The lab"): :mod:`.network` (addresses, DNS, TLS nodes, HTTP/1.1),
:mod:`.identities` (PKI, accounts, Kerberos), :mod:`.endpoints` (what the servers answer); this
package, the scenarios (:mod:`.scenarios`, :mod:`.hostile`) and the command line are on top.
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from .endpoints.frontdoors import FrontDoors
from .endpoints.proxy import LabProxy
from .endpoints.revocation import RevocationSite
from .endpoints.web import LabWeb
from .identities.pki import LabPKI
from .network.dns import LabDNS
from .network.nodes import NodeArray, NodeConfig, TLSHandler
from .network.tls import Chain
from .scenarios import BY_NAME, CERTS, DEMO, SCENARIOS, Scenario, node_configs

__all__ = ["DEMO", "Lab", "Scenario", "default_workdir"]


def default_workdir() -> Path:
    """``$XDG_RUNTIME_DIR/check_outlook_anywhere-lab`` (or under /tmp)."""
    base = os.environ.get("XDG_RUNTIME_DIR") or "/tmp"
    return Path(base) / "check_outlook_anywhere-lab"


class Lab:
    """The whole lab: PKI, TLS nodes and DNS.  :meth:`start` returns once everything listens."""

    def __init__(self, workdir: str | os.PathLike[str], port: int = 0, dns_port: int = 0) -> None:
        self.workdir = Path(workdir)
        self.pki = LabPKI(self.workdir)
        self.nodes = NodeArray(port)
        self.dns = LabDNS(port=dns_port)
        self.web = LabWeb(self.pki, self.dns, self.workdir / "web")
        """Autodiscover endpoints and RPC proxy nodes (contrib/lab/endpoints/web.py), on their own
        port."""
        self.revocation = RevocationSite(self.pki, self.dns)
        """CRLs, OCSP and caIssuers of the ``rev-`` scenarios
        (contrib/lab/endpoints/revocation.py)."""
        self.proxy = LabProxy(self.web.ntlm_file)
        """HTTP CONNECT proxies for --proxy (contrib/lab/endpoints/proxy.py), on their own port."""
        self.frontdoors = FrontDoors(self.pki, self.dns)
        """Auth metadata, health and builds of the fd- arrays
        (contrib/lab/endpoints/frontdoors.py)."""
        self._lock = threading.Lock()
        self._running = False

    # -- life cycle ---------------------------------------------------------------------------

    def start(self) -> Lab:
        with self._lock:
            if self._running:
                return self
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.pki.load_keys()
            self.revocation.bind()  # the rev- certificates' URLs carry its port
            self.pki.issue_all(CERTS)
            self._load_zone()
            self.dns.start()
            try:
                self.nodes.start(self._table_configs())
                self.web.start()
                self.proxy.start()
                self.proxy.allowed_ports = {self.nodes.port, self.web.port}
                self.revocation.start()
                self.frontdoors.start()
            except BaseException:
                self.frontdoors.stop()
                self.revocation.stop()
                self.proxy.stop()
                self.web.stop()
                self.nodes.stop()
                self.dns.stop()
                raise
            self._running = True
        return self

    def stop(self) -> None:
        with self._lock:
            if not self._running:
                return
            self._running = False
            self.frontdoors.stop()
            self.revocation.stop()
            self.proxy.stop()
            self.web.stop()
            self.nodes.stop()
            self.dns.stop()

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- facts --------------------------------------------------------------------------------

    @property
    def ca_file(self) -> str:
        """PEM file with the lab root CA (the trust anchor to give the plugin)."""
        return str(self.pki.ca_file)

    @property
    def rogue_ca_file(self) -> str:
        """PEM file with the unrelated Rogue Root CA."""
        return str(self.pki.rogue_ca_file)

    @property
    def port(self) -> int:
        """The TCP port every node listens on."""
        return self.nodes.port

    @property
    def ipv6(self) -> bool:
        """Whether the ::1 node runs (False on hosts without IPv6 on loopback)."""
        return "::1" in self.nodes.nodes

    @property
    def dns_server(self) -> str:
        """``127.0.0.53:PORT``, the value for ``--dns-server``."""
        return self.dns.server

    def scenario(self, name: str) -> Scenario:
        try:
            return BY_NAME[name]
        except KeyError:
            raise KeyError(f"no lab scenario {name!r}; one of {', '.join(BY_NAME)}") from None

    def scenarios(self) -> list[Scenario]:
        return list(SCENARIOS)

    def chain(self, cert: str) -> Chain:
        """The issued chain of certificate id ``cert`` (see ``scenarios.CERTS``)."""
        try:
            return self.pki.chains[cert]
        except KeyError:
            raise KeyError(f"no lab certificate {cert!r} (is the lab started?)") from None

    def describe(self) -> dict[str, Any]:
        """What a test or a demo needs to know, as JSON-ready data."""
        return {
            "ca_file": self.ca_file,
            "rogue_ca_file": self.rogue_ca_file,
            "port": self.port,
            "dns_server": self.dns_server,
            "demo": list(DEMO),
            "web": self.web.describe(),
            "revocation": self.revocation.describe(),
            "proxy": self.proxy.describe(),
            "frontdoors": self.frontdoors.describe(),
            "scenarios": {
                s.name: {
                    "host": s.host,
                    "addresses": s.addresses,
                    "principal": s.principal,
                    "description": s.description,
                }
                for s in SCENARIOS
            },
        }

    # -- changes at run time ------------------------------------------------------------------

    def set_node(
        self,
        address: str,
        behaviour: str | None = None,
        chain: str | Chain | None = None,
        *,
        sni: Mapping[str, str | Chain] | None = None,
        strict_sni: bool | None = None,
        on_tls: TLSHandler | None = None,
    ) -> None:
        """Change the node on ``address`` for new connections; None leaves a setting as is.

        ``chain`` (a certificate id or a :class:`Chain`) becomes the default chain;
        ``sni`` replaces the per-name chains.  An address without a node gets a new one.
        """
        self.nodes.set_node(
            address,
            behaviour,
            self._chain(chain) if chain is not None else None,
            sni={k: self._chain(v) for k, v in sni.items()} if sni is not None else None,
            strict_sni=strict_sni,
            on_tls=on_tls,
        )

    def reset(self) -> None:
        """Put every node and DNS record back as the scenario table has them.

        Nodes added with :meth:`set_node` on addresses outside the table are removed.
        """
        table = self._table_configs()
        for address in list(self.nodes.nodes):
            if address not in table:
                self.nodes.remove(address)
        for address, config in table.items():
            node = self.nodes.nodes.get(address)
            if node is not None:
                node.configure(config)
        self._load_zone()

    # -- internals ----------------------------------------------------------------------------

    def _chain(self, chain: str | Chain) -> Chain:
        return chain if isinstance(chain, Chain) else self.chain(chain)

    def _table_configs(self) -> dict[str, NodeConfig]:
        configs: dict[str, NodeConfig] = {}
        for address, entry in node_configs().items():
            cert = entry["cert"]
            sni = entry["sni"]
            assert isinstance(sni, dict)
            configs[address] = NodeConfig(
                behaviour=str(entry["behaviour"]),
                chain=self.chain(cert) if isinstance(cert, str) else None,
                sni={name: self.chain(c) for name, c in sni.items()},
                strict_sni=bool(entry["strict_sni"]),
            )
        return configs

    def _load_zone(self) -> None:
        dns = self.dns
        dns.clear()
        for s in SCENARIOS:
            if s.dns in ("servfail", "timeout"):
                dns.set_failure(s.host, s.dns)
            elif s.dns == "cname":
                names = (s.host, *s.cname)
                for name, target in itertools.pairwise(names):
                    dns.set_records(name, "CNAME", [target.rstrip(".") + "."])
            else:
                v4 = [a for a in s.addresses if ":" not in a]
                v6 = [a for a in s.addresses if ":" in a]
                if v4:
                    dns.set_records(s.host, "A", v4)
                if v6:
                    dns.set_records(s.host, "AAAA", v6)
        self.web.load_zone()
        self.revocation.load_zone()
        self.frontdoors.load_zone()
