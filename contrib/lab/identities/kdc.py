"""The lab's Kerberos realm: a real MIT Kerberos KDC (Debian's ``krb5-kdc``) on loopback.

Everything lives in one directory of its own (the ``workdir``): ``kdc.conf`` (read by the KDC and
``kdb5_util``/``kadmin.local`` through ``KRB5_KDC_PROFILE``), ``krb5.conf`` (the clients' view,
through ``KRB5_CONFIG``), the database and its stash, the keytabs, the logs, and the default
ticket cache, keytabs and replay cache that ``krb5.conf`` names, so that a client or an acceptor
run with :attr:`Kdc.env` never falls back on ``/tmp/krb5cc_<uid>``, ``/etc/krb5.keytab`` or
``/var/tmp``.  No system file is read or written (``/etc/krb5.conf`` and ``/etc/krb5kdc`` are
ignored), and :meth:`Kdc.stop` leaves no process::

    with Kdc("/tmp/kdc", hosts=["mail.contoso.test"]) as kdc:
        kdc.keytab("mail.contoso.test")   # the acceptor's key of HTTP/mail.contoso.test
        kdc.user_keytab                   # monitor@CONTOSO.TEST's key; kdc.password its password
        # a process run with env=kdc.env uses this realm and nothing else

The principals, made when the KDC first starts (``kdb5_util``, ``kadmin.local``):

- ``monitor@CONTOSO.TEST``, with :attr:`Kdc.password` and pre-authentication required (as Active
  Directory does); :attr:`Kdc.user_keytab` holds its current key, :attr:`Kdc.stale_user_keytab`
  the key of its previous password (a poller's keytab not renewed after a password change: the
  KDC answers ``KDC_ERR_PREAUTH_FAILED``).
- ``HTTP/<host>@CONTOSO.TEST`` for every host given, a random key like an Alternate Service
  Account's.  :meth:`Kdc.keytab` is the key every healthy node holds; :meth:`Kdc.foreign_keytab`
  holds another key under the *same* key version number (a node set up with another account's or
  another password's key: MIT's acceptor cannot decrypt the ticket and says
  ``KRB_AP_ERR_BAD_INTEGRITY``, where Windows says ``KRB_AP_ERR_MODIFIED``);
  :meth:`Kdc.stale_keytab` holds the key of the previous version (the ASA's password was reset
  and this node was not updated: ``KRB_AP_ERR_BADKEYVER``).  A host not given has no SPN: its
  ticket request is answered ``KDC_ERR_S_PRINCIPAL_UNKNOWN``.

Clock skew: a Kerberos clock is only ever wrong relative to another one, and of the three parties
(client, KDC, acceptor) the KDC is the one that runs as a process of its own.  ``clock_offset``
runs it under libfaketime (Debian's ``libfaketime``), its clock that many seconds ahead (or
behind).  MIT's client adopts the KDC's time during the AS exchange (measured on Debian 12, with
``kdc_timesync`` on and off): a poller an hour away from its KDC still gets its tickets.  The
skew shows where a node keeps another time than the realm: an acceptor on the real clock refuses
a ticket from a KDC ahead of it (``KRB_AP_ERR_TKT_NYV``, not yet valid) and an authenticator
dated by a KDC behind it (``KRB_AP_ERR_SKEW``).  (One acceptor of the lab's single process cannot
have a clock of its own; a process can, by running under :func:`faketime_env`.)

The KDC listens on UDP and TCP on one free port of a loopback address (:data:`DEFAULT_ADDRESS`).
It ends with the process that started it, even one killed by SIGKILL (:func:`_orphan_guard`).
MIT Kerberos 1.20 (Debian 12) has no client setting for how long it waits for a KDC (no
``kdc_timeout``, ``max_retries`` or ``request_timeout``; ``udp_preference_limit`` only chooses the
transport): a closed port fails at once, but a KDC that never answers
(:class:`silent_kdc.SilentKdc`) is tried over UDP and TCP for the better part of a minute
(tests/lab/test_kdc.py measures it).  A caller with a deadline of its own must bound the call
itself.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from ..network.addresses import check_loopback, free_port

REALM = "CONTOSO.TEST"
DEFAULT_ADDRESS = "127.0.0.88"
"""The KDC's loopback address (88 after the Kerberos port; the KDC listens on a free port)."""
USER = "monitor"
START_TIMEOUT = 10.0
"""Seconds the KDC has to say that it listens (it takes a fraction of a second)."""
STOP_TIMEOUT = 5.0

PROGRAMS = {
    "krb5kdc": ("/usr/sbin/krb5kdc", "krb5-kdc"),
    "kdb5_util": ("/usr/sbin/kdb5_util", "krb5-kdc"),
    "kadmin.local": ("/usr/sbin/kadmin.local", "krb5-admin-server"),
    "kinit": ("/usr/bin/kinit", "krb5-user"),
}
"""The programs the realm needs: their paths on Debian and the packages that install them."""
FAKETIME_DIRS = ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime")
FAKETIME_PACKAGE = "libfaketime"
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")
_REALM = re.compile(r"[A-Z0-9]([A-Z0-9.-]*[A-Z0-9])?")
ENCTYPES = "aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal"
"""Active Directory's AES enctypes (RC4 is off in hardened domains, and MIT 1.20 deprecates it)."""


class KdcUnavailable(RuntimeError):
    """A program or library the realm needs is not installed; the message names the package."""


def _which(name: str) -> str | None:
    path, _package = PROGRAMS[name]
    if os.access(path, os.X_OK):
        return path
    return shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def missing_programs(*, clock: bool = False) -> list[str]:
    """What is not installed, as ``program (Debian package)``; empty when the realm can run."""
    found = [
        f"{name} (Debian package {package})"
        for name, (_path, package) in PROGRAMS.items()
        if _which(name) is None
    ]
    if clock and faketime_library() is None:
        found.append(f"libfaketime.so.1 (Debian package {FAKETIME_PACKAGE})")
    return found


def faketime_library() -> str | None:
    """The path of libfaketime, or None."""
    for directory in FAKETIME_DIRS:
        path = Path(directory) / "libfaketime.so.1"
        if path.exists():
            return str(path)
    return None


def faketime_env(offset: int) -> dict[str, str]:
    """Environment that runs a process with its clock ``offset`` seconds away from the real one.

    Monotonic clocks are left alone (``DONT_FAKE_MONOTONIC``): timeouts still measure real time.
    """
    library = faketime_library()
    if library is None:
        raise KdcUnavailable(f"libfaketime.so.1 is missing (Debian package {FAKETIME_PACKAGE})")
    return {
        "LD_PRELOAD": library,
        "FAKETIME": f"{offset:+d}",
        "DONT_FAKE_MONOTONIC": "1",
    }


def endpoint(address: str, port: int) -> str:
    """``address:port`` as krb5.conf and kdc.conf write it (IPv6 in brackets)."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def spn(host: str, realm: str = REALM) -> str:
    """The service principal of ``host``'s web server: ``HTTP/<host>@REALM``."""
    return f"HTTP/{host.lower()}@{realm}"


class Kdc:
    """A Kerberos realm with its KDC, in ``workdir``.  :meth:`start` returns once it listens."""

    def __init__(
        self,
        workdir: str | os.PathLike[str],
        hosts: Iterable[str] = (),
        *,
        realm: str = REALM,
        address: str = DEFAULT_ADDRESS,
        clock_offset: int = 0,
    ) -> None:
        self.workdir = Path(workdir)
        self.hosts = list(dict.fromkeys(h.lower() for h in hosts))
        for host in self.hosts:
            if not _HOST.fullmatch(host):
                raise ValueError(f"not a host name: {host!r}")
        if not _REALM.fullmatch(realm):
            raise ValueError(f"not a realm name (upper case, dots): {realm!r}")
        self.realm = realm
        self.address = check_loopback(address)
        self.port = 0
        self.clock_offset = clock_offset
        """Seconds the KDC's clock is ahead of the real one (negative: behind)."""
        self.user = f"{USER}@{realm}"
        """The user principal the poller logs on as."""
        self.password = secrets.token_urlsafe(18)
        """The user's current password (:attr:`user_keytab` holds the keys made from it)."""
        self._master = secrets.token_urlsafe(18)
        self._process: subprocess.Popen[bytes] | None = None
        self._made = False
        self._lock = threading.Lock()

    # -- files --------------------------------------------------------------------------------

    @property
    def kdc_conf(self) -> Path:
        return self.workdir / "kdc.conf"

    @property
    def krb5_conf(self) -> Path:
        """The clients' configuration: this realm only, no DNS, defaults inside the workdir."""
        return self.workdir / "krb5.conf"

    @property
    def log(self) -> Path:
        return self.workdir / "kdc.log"

    @property
    def kdc(self) -> str:
        """``address:port`` of the KDC (UDP and TCP)."""
        return endpoint(self.address, self.port)

    @property
    def user_keytab(self) -> Path:
        """The keytab with the user's current key (what ``--keytab`` is given)."""
        return self.workdir / "keytabs" / "monitor.keytab"

    @property
    def stale_user_keytab(self) -> Path:
        """The user's key of the password before the current one (key version 1)."""
        return self.workdir / "keytabs" / "monitor-stale.keytab"

    def _host_keytab(self, host: str, kind: str) -> Path:
        host = host.lower()
        if host not in self.hosts:
            raise KeyError(f"{host} has no SPN in this realm (hosts: {', '.join(self.hosts)})")
        return self.workdir / "keytabs" / f"HTTP_{host}{kind}.keytab"

    def keytab(self, host: str) -> Path:
        """The acceptor keytab with the current key of ``HTTP/<host>``."""
        return self._host_keytab(host, "")

    def foreign_keytab(self, host: str) -> Path:
        """A keytab for ``HTTP/<host>`` with the current key version number but another key."""
        return self._host_keytab(host, "-foreign")

    def stale_keytab(self, host: str) -> Path:
        """A keytab for ``HTTP/<host>`` with the previous key version and its key."""
        return self._host_keytab(host, "-stale")

    @property
    def env(self) -> dict[str, str]:
        """Environment for a process that uses this realm (a client, an acceptor, a tool)."""
        return {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
        }

    def describe(self) -> dict[str, object]:
        """What a test or a demo needs to know, as JSON-ready data (like ``Lab.describe``)."""
        return {
            "realm": self.realm,
            "kdc": self.kdc,
            "krb5_conf": str(self.krb5_conf),
            "user": self.user,
            "user_keytab": str(self.user_keytab),
            "stale_user_keytab": str(self.stale_user_keytab),
            "spns": {
                host: {
                    "principal": spn(host, self.realm),
                    "keytab": str(self.keytab(host)),
                    "foreign_keytab": str(self.foreign_keytab(host)),
                    "stale_keytab": str(self.stale_keytab(host)),
                }
                for host in self.hosts
            },
            "clock_offset": self.clock_offset,
        }

    # -- configuration ------------------------------------------------------------------------

    def client_config(
        self,
        path: str | os.PathLike[str],
        *,
        kdc: str | None = None,
        udp: bool = True,
    ) -> Path:
        """Write a ``krb5.conf`` for this realm to ``path`` and return it.

        ``kdc`` (``address:port``) names another KDC (a closed port, a
        :class:`silent_kdc.SilentKdc`); ``udp`` false sends every request over TCP (by default UDP
        first, then TCP).
        """
        kdc = kdc or self.kdc
        host, _, _port = kdc.rpartition(":")
        check_loopback(host.strip("[]"))
        w = self.workdir
        domains = sorted({h.split(".", 1)[1] for h in self.hosts if "." in h} | {"contoso.test"})
        domain_realm = "".join(f" .{d} = {self.realm}\n {d} = {self.realm}\n" for d in domains)
        text = (
            "# The lab's realm (contrib/lab/identities/kdc.py); nothing here refers to the system's"
            " files.\n"
            "[libdefaults]\n"
            f" default_realm = {self.realm}\n"
            " dns_lookup_kdc = false\n"
            " dns_lookup_realm = false\n"
            " dns_uri_lookup = false\n"
            # The lab's names resolve only through the lab's DNS server: no canonicalisation.
            " dns_canonicalize_hostname = false\n"
            " rdns = false\n"
            f" udp_preference_limit = {1465 if udp else 1}\n"
            " forwardable = false\n"
            f" default_ccache_name = FILE:{w}/ccache/krb5cc_%{{uid}}\n"
            f" default_keytab_name = FILE:{w}/keytabs/no-default-acceptor.keytab\n"
            f" default_client_keytab_name = FILE:{w}/keytabs/no-default-client.keytab\n"
            f" default_rcache_name = file2:{w}/rcache/default.rcache2\n"
            "[realms]\n"
            f" {self.realm} = {{\n  kdc = {kdc}\n }}\n"
            "[domain_realm]\n"
            f"{domain_realm}"
        )
        target = Path(path)
        target.write_text(text)
        return target

    def _write_kdc_conf(self) -> None:
        w = self.workdir
        self.kdc_conf.write_text(
            "# The lab's KDC (contrib/lab/identities/kdc.py).\n"
            "[kdcdefaults]\n"
            f" kdc_listen = {self.kdc}\n"
            f" kdc_tcp_listen = {self.kdc}\n"
            "[realms]\n"
            f" {self.realm} = {{\n"
            f"  database_name = {w}/db/principal\n"
            f"  key_stash_file = {w}/db/stash\n"
            f"  acl_file = {w}/db/kadm5.acl\n"
            f"  supported_enctypes = {ENCTYPES}\n"
            "  default_principal_flags = +preauth\n"
            "  max_life = 10h\n"
            " }\n"
            "[logging]\n"
            f" kdc = FILE:{w}/kdc.log\n"
            f" admin_server = FILE:{w}/kadmin.log\n"
            f" default = FILE:{w}/krb5.log\n"
        )

    # -- life cycle ---------------------------------------------------------------------------

    def _run(self, name: str, *args: str, stdin: str | None = None) -> str:
        program = _which(name)
        assert program is not None
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **self.env}
        proc = subprocess.run(
            [program, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=self.workdir,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stdout

    def _run_errors(self, name: str, *args: str, stdin: str) -> str:
        """Run ``name`` with ``stdin`` and return what it wrote to stderr."""
        program = _which(name)
        assert program is not None
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **self.env}
        proc = subprocess.run(
            [program, *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            cwd=self.workdir,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{name} {' '.join(args)} failed: {proc.stderr.strip()}")
        return proc.stderr

    def _make_realm(self) -> None:
        """The database, the user and the SPNs with their keytabs (one ``kadmin.local`` run)."""
        for sub in ("db", "keytabs", "ccache", "rcache"):
            (self.workdir / sub).mkdir(mode=0o700, exist_ok=True)
        (self.workdir / "db" / "kadm5.acl").write_text("")
        self._run("kdb5_util", "-r", self.realm, "create", "-s", "-P", self._master)
        old_password = secrets.token_urlsafe(18)
        queries = [
            # The user: a password, then a new one; a keytab of each.
            f"addprinc -pw {old_password} {self.user}",
            f"ktadd -k {self.stale_user_keytab} -norandkey {self.user}",
            f"cpw -pw {self.password} {self.user}",
            f"ktadd -k {self.user_keytab} -norandkey {self.user}",
        ]
        for host in self.hosts:
            principal = spn(host, self.realm)
            # kvno 1 (the stale node's), kvno 2 (the foreign node's), then a third key that is
            # given kvno 2 as well: the ticket's key version matches the foreign keytab's.
            queries += [
                f"addprinc -randkey {principal}",
                f"ktadd -k {self.stale_keytab(host)} -norandkey {principal}",
                f"cpw -randkey {principal}",
                f"ktadd -k {self.foreign_keytab(host)} -norandkey {principal}",
                f"cpw -randkey {principal}",
                f"modprinc -kvno 2 {principal}",
                f"ktadd -k {self.keytab(host)} -norandkey {principal}",
            ]
        # One kadmin.local reads them all (a process per query takes a second for 20 hosts).
        # Its exit status is 0 whatever a query did; its errors say "... while ...".
        errors = self._run_errors("kadmin.local", "-r", self.realm, stdin="\n".join(queries) + "\n")
        failed = [line for line in errors.splitlines() if " while " in line]
        if failed:
            raise RuntimeError("kadmin.local: " + " / ".join(failed))

    def start(self) -> Kdc:
        with self._lock:
            if self._process is not None:
                return self
            missing = missing_programs(clock=self.clock_offset != 0)
            if missing:
                raise KdcUnavailable("the lab's KDC needs " + ", ".join(missing))
            self.workdir.mkdir(parents=True, exist_ok=True)
            self.workdir.chmod(0o700)
            self.port = free_port(self.address)
            self._write_kdc_conf()
            self.client_config(self.krb5_conf)
            if not self._made:
                # A realm of an earlier run has other passwords: made afresh.
                for sub in ("db", "keytabs", "ccache", "rcache"):
                    shutil.rmtree(self.workdir / sub, ignore_errors=True)
                self._make_realm()
                self._made = True
            self._launch()
        return self

    def _launch(self) -> None:
        """Start ``krb5kdc`` in the foreground and wait until it listens; a port taken in the
        meantime is retried on another one."""
        program = _which("krb5kdc")
        assert program is not None
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **self.env}
        if self.clock_offset:
            env.update(faketime_env(self.clock_offset))
        for _ in range(5):
            offset = self.log.stat().st_size if self.log.exists() else 0
            process = subprocess.Popen(
                [*_orphan_guard(), program, "-n", "-r", self.realm],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                cwd=self.workdir,
            )
            reason = self._wait_listening(process, offset)
            if reason is None:
                self._process = process
                return
            if "in use" not in reason:
                raise RuntimeError(f"krb5kdc did not start: {reason}")
            self.port = free_port(self.address)
            self._write_kdc_conf()
            self.client_config(self.krb5_conf)
        raise RuntimeError(f"krb5kdc found no free port on {self.address}")

    def _wait_listening(self, process: subprocess.Popen[bytes], offset: int) -> str | None:
        """None once ``process`` says it commences operation; else why it did not."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            log = self._log_since(offset)
            if "commencing operation" in log:
                return None
            if process.poll() is not None:
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                lines = [ln for ln in (log + stderr).splitlines() if ln.strip()]
                return " / ".join(lines[-3:]) or f"exit status {process.returncode}"
            time.sleep(0.02)
        _end(process)
        return f"not listening after {START_TIMEOUT:.0f} s"

    def _log_since(self, offset: int) -> str:
        if not self.log.exists():
            return ""
        return self.log.read_bytes()[offset:].decode(errors="replace")

    def stop(self) -> None:
        with self._lock:
            process, self._process = self._process, None
            if process is not None:
                _end(process)

    def restart(self, *, clock_offset: int | None = None) -> None:
        """Stop the KDC and start it again on the same port and database (e.g. with another
        ``clock_offset``)."""
        if not self._made:
            raise RuntimeError("the KDC was never started")
        with self._lock:
            if clock_offset is not None:
                if clock_offset and faketime_library() is None:
                    raise KdcUnavailable(f"clock offsets need Debian package {FAKETIME_PACKAGE}")
                self.clock_offset = clock_offset
            if self._process is not None:
                _end(self._process)
                self._process = None
            self._launch()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def __enter__(self) -> Kdc:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- tools --------------------------------------------------------------------------------

    def kinit(
        self,
        ccache: str | os.PathLike[str],
        *,
        keytab: str | os.PathLike[str] | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Path:
        """Get the user's ticket-granting ticket into the file ``ccache`` with MIT's own
        ``kinit`` (from ``keytab``, by default :attr:`user_keytab`): the ticket cache a
        monitoring user already holds, made without the code under test.  Mode 600."""
        program = _which("kinit")
        assert program is not None
        target = Path(ccache)
        keytab = keytab or self.user_keytab
        proc = subprocess.run(
            [program, "-k", "-t", str(keytab), "-c", f"FILE:{target}", self.user],
            capture_output=True,
            text=True,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"kinit failed: {proc.stderr.strip()}")
        return target

    def kvno(self, principal: str) -> int:
        """The current key version number of ``principal`` in the database."""
        out = self._run("kadmin.local", "-r", self.realm, "-q", f"getprinc {principal}")
        found = re.findall(r"vno (\d+)", out)
        if not found:
            raise KeyError(f"no key version for {principal}: {out}")
        return int(found[0])


def _orphan_guard() -> list[str]:
    """A prefix that makes the KDC receive SIGTERM when the process that started it dies, even
    by SIGKILL (util-linux's ``setpriv --pdeathsig``, Linux's PR_SET_PDEATHSIG).  The signal
    comes when the *thread* that started it ends: start the KDC from a thread that outlives it
    (the main thread)."""
    setpriv = shutil.which("setpriv", path="/usr/bin:/bin")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


def _end(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process`` (SIGTERM, then SIGKILL) and reap it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stderr is not None:
        process.stderr.close()
