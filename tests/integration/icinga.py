"""An Icinga 2 instance in a scratch directory: its own config, certificates, API port on
loopback, run as the nagios user; the REST API to force checks and read their results.

Every path the daemon uses is moved off /etc, /var and /run with ``-DConfiguration.*``, so an
installed Icinga 2 is neither touched nor needed to be stopped.
"""

from __future__ import annotations

import base64
import datetime
import json
import ssl
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .daemons import Daemon, chown_to_daemon_user, wait_until

API_USER = "root"
API_PASSWORD = "integration"


class ClusterCA:
    """The CA every endpoint's API certificate comes from (what `icinga2 pki` would make)."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Icinga CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(self, cn: str) -> tuple[bytes, bytes]:
        """Certificate and key (PEM) for the endpoint ``cn``."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM), key_pem


class Icinga2:
    """One endpoint: ``write()`` its config, ``validate()``, ``start()``, ``check()``,
    ``stop()``."""

    def __init__(self, root: Path, endpoint: str, api_port: int, ca: ClusterCA) -> None:
        self.root = root
        self.endpoint = endpoint
        self.api_port = api_port
        self.dirs = {
            name: root / name for name in ("etc", "zones", "data", "cache", "log", "spool", "run")
        }
        for path in self.dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        certs = self.dirs["data"] / "certs"
        certs.mkdir()
        cert, key = ca.issue(endpoint)
        (certs / "ca.crt").write_bytes(ca.pem)
        (certs / f"{endpoint}.crt").write_bytes(cert)
        (certs / f"{endpoint}.key").write_bytes(key)
        self.log = root / "daemon.log"
        self.daemon: Daemon | None = None
        self._tls = ssl.create_default_context(cadata=ca.pem.decode())
        self._tls.check_hostname = False  # the API certificate names the endpoint, not 127.0.0.1

    # -- configuration ----------------------------------------------------------------------

    @property
    def config(self) -> Path:
        return self.dirs["etc"] / "icinga2.conf"

    def write(self, relative: str, text: str, base: str = "etc") -> Path:
        path = self.dirs[base] / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def install(self, source: Path, relative: str, base: str = "etc") -> Path:
        """A shipped file, byte for byte, where a user would put it."""
        return self.write(relative, source.read_text(), base)

    def defines(self) -> list[str]:
        return [
            f"-DConfiguration.ConfigDir={self.dirs['etc']}",
            f"-DConfiguration.ZonesDir={self.dirs['zones']}",
            f"-DConfiguration.DataDir={self.dirs['data']}",
            f"-DConfiguration.CacheDir={self.dirs['cache']}",
            f"-DConfiguration.LogDir={self.dirs['log']}",
            f"-DConfiguration.SpoolDir={self.dirs['spool']}",
            f"-DConfiguration.InitRunDir={self.dirs['run']}",
            f"-DConfiguration.PidPath={self.dirs['run'] / 'icinga2.pid'}",
            "-DConfiguration.RunAsUser=nagios",
            "-DConfiguration.RunAsGroup=nagios",
        ]

    def base_config(self, *, zones: str | None = None, extra: str = "") -> str:
        """Constants, the ITL, the API listener (``extra`` goes inside it) and the zones, by
        default this endpoint alone in its own zone."""
        if zones is None:
            zones = (
                "object Endpoint NodeName { }\nobject Zone ZoneName { endpoints = [ NodeName ] }"
            )
        return f"""
const NodeName = "{self.endpoint}"
const ZoneName = "{self.endpoint}"
include <itl>
include <plugins>

object ApiListener "api" {{
  bind_host = "127.0.0.1"
  bind_port = {self.api_port}
  {extra}
}}
object ApiUser "{API_USER}" {{
  password = "{API_PASSWORD}"
  permissions = [ "*" ]
}}
object CheckerComponent "checker" {{ }}
{zones}
"""

    def validate(self) -> subprocess.CompletedProcess[str]:
        self._own()
        return subprocess.run(
            ["icinga2", "daemon", "-C", "-c", str(self.config), *self.defines()],
            capture_output=True,
            text=True,
            timeout=60,
        )

    # -- life cycle -------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> None:
        self._own()
        self.daemon = Daemon(
            ["icinga2", "daemon", "-c", str(self.config), *self.defines()], self.log
        )
        wait_until("the Icinga 2 API", self._api_up, timeout, self.log)

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()

    def _own(self) -> None:
        chown_to_daemon_user(*self.dirs.values())

    def _api_up(self) -> bool | None:
        assert self.daemon is not None
        if not self.daemon.running():
            raise AssertionError(f"icinga2 exited:\n{self.log.read_text(errors='replace')}")
        try:
            self.api("GET", "/v1/status/IcingaApplication")
        except (OSError, urllib.error.URLError):
            return None
        return True

    # -- the REST API ------------------------------------------------------------------------

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        token = base64.b64encode(f"{API_USER}:{API_PASSWORD}".encode()).decode()
        request = urllib.request.Request(
            f"https://127.0.0.1:{self.api_port}{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Accept": "application/json", "Authorization": f"Basic {token}"},
        )
        with urllib.request.urlopen(request, context=self._tls, timeout=10) as response:
            return json.load(response)

    def check_result(self, host: str, service: str) -> dict[str, Any] | None:
        name = urllib.parse.quote(f"{host}!{service}", safe="")
        try:
            reply = self.api("GET", f"/v1/objects/services/{name}?attrs=last_check_result")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # not (yet) known here, e.g. before a config sync
                return None
            raise
        result: dict[str, Any] | None = reply["results"][0]["attrs"]["last_check_result"]
        return result

    def force_check(self, host: str, service: str) -> None:
        self.api(
            "POST",
            "/v1/actions/reschedule-check",
            {
                "type": "Service",
                "filter": "host.name == h && service.name == s",
                "filter_vars": {"h": host, "s": service},
                "force": True,
            },
        )

    def check(self, host: str, service: str, timeout: float = 30) -> dict[str, Any]:
        """Force a check now and return the result the daemon recorded for it."""
        started = time.time()
        self.force_check(host, service)

        def fresh() -> dict[str, Any] | None:
            result = self.check_result(host, service)
            if result is None or result["execution_start"] < started:
                return None
            return result

        return wait_until(f"a check result of {host}!{service}", fresh, timeout, self.log)
