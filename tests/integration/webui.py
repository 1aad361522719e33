"""What an operator looks at, run by a test on loopback: MariaDB for Icinga 2's IDO, Graphite
(carbon-cache and graphite-web under Django's own server), Icinga Web 2 with the monitoring and
graphite modules (under PHP's built-in server, the way ``icingacli web serve`` runs it), headless
Chromium driven through the DevTools protocol, and a beacon that records every connection a
browser makes to it.

Every daemon runs from a scratch directory of its own, bound to 127.0.0.1 (the beacon to its own
loopback address), and is stopped by its PID.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from .daemons import Daemon, free_port, wait_until

IDO_SCHEMA = Path("/usr/share/icinga2-ido-mysql/schema/mysql.sql")
ICINGAWEB_ROOT = Path("/usr/share/icingaweb2")
WEBROUTER = Path("/usr/share/php/Icinga/Application/webrouter.php")
IDO_USER, IDO_PASSWORD, IDO_DATABASE = "icinga", "icinga-ido-test", "icinga"
WEB_USER = "admin"  # Icinga Web 2's external authentication: every request is this user
# Chromium headless, with no network beyond the pages it is sent to.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1000",
)


def _port_open(port: int, host: str = "127.0.0.1") -> bool | None:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return None


class MariaDB:
    """A MariaDB server of its own (datadir, socket, TCP port on 127.0.0.1) with the IDO
    schema loaded and a user for Icinga 2 and Icinga Web 2."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.datadir = root / "data"
        self.socket = root / "mysqld.sock"
        self.port = free_port()
        self.log = root / "mariadb.log"
        self.daemon: Daemon | None = None

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["mariadb-install-db", "--no-defaults", f"--datadir={self.datadir}", "--user=root",
             "--auth-root-authentication-method=socket", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.daemon = Daemon(
            ["mariadbd", "--no-defaults", f"--datadir={self.datadir}", f"--socket={self.socket}",
             f"--port={self.port}", "--bind-address=127.0.0.1", "--user=root",
             f"--pid-file={self.root / 'mysqld.pid'}", "--skip-log-bin",
             "--innodb-buffer-pool-size=32M", "--performance-schema=OFF"],
            self.log,
        )  # fmt: skip
        wait_until("MariaDB", lambda: _port_open(self.port), 60, self.log)
        self.sql(
            f"CREATE DATABASE {IDO_DATABASE};"
            f" CREATE USER '{IDO_USER}'@'127.0.0.1' IDENTIFIED BY '{IDO_PASSWORD}';"
            f" GRANT ALL ON {IDO_DATABASE}.* TO '{IDO_USER}'@'127.0.0.1';"
        )
        self.sql(IDO_SCHEMA.read_text(), database=IDO_DATABASE)

    def sql(self, statements: str, database: str = "") -> str:
        done = subprocess.run(
            ["mariadb", "--no-defaults", f"--socket={self.socket}", "-u", "root", "-N", "-B",
             *([database] if database else [])],
            input=statements, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()


class Graphite:
    """carbon-cache (plaintext receiver) and graphite-web (Django's server), sharing a storage
    directory: what Icinga 2's GraphiteWriter writes, graphite-web renders."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.storage = root / "storage"
        self.carbon_port = free_port()
        self.web_port = free_port()
        self.log = root / "graphite.log"
        self.daemons: list[Daemon] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> None:
        conf, settings = self.root / "conf", self.root / "settings"
        for directory in (conf, settings, self.storage / "whisper", self.storage / "log/webapp"):
            directory.mkdir(parents=True, exist_ok=True)
        (conf / "carbon.conf").write_text(
            f"""[cache]
STORAGE_DIR = {self.storage}/
LOCAL_DATA_DIR = {self.storage}/whisper/
WHITELISTS_DIR = {self.storage}/lists/
CONF_DIR = {conf}/
LOG_DIR = {self.storage}/log/
PID_DIR = {self.storage}/
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = inf
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = {self.carbon_port}
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = {free_port()}
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = {free_port()}
LOG_UPDATES = False
WHISPER_AUTOFLUSH = True
"""
        )
        # one point every 10 s, the checks' pace in the test
        (conf / "storage-schemas.conf").write_text("[all]\npattern = .*\nretentions = 10s:1d\n")
        (settings / "oa_graphite_local.py").write_text(
            f"STORAGE_DIR = {str(self.storage)!r}\nSECRET_KEY = 'test only'\n"
            "ALLOWED_HOSTS = ['127.0.0.1']\nTIME_ZONE = 'UTC'\n"
            f"LOG_DIR = {str(self.storage / 'log' / 'webapp')!r}\n"
        )
        env = {
            **os.environ,
            "GRAPHITE_SETTINGS_MODULE": "oa_graphite_local",
            "PYTHONPATH": str(settings),
            "DJANGO_SETTINGS_MODULE": "graphite.settings",
        }
        python = "/usr/bin/python3"
        subprocess.run(
            [python, "-m", "django", "migrate", "-v0"], env=env, check=True, capture_output=True
        )
        self.daemons.append(
            Daemon(
                ["carbon-cache", f"--config={conf / 'carbon.conf'}", "--nodaemon", "start"],
                self.log,
            )
        )
        self.daemons.append(
            Daemon(
                [python, "-m", "django", "runserver", f"127.0.0.1:{self.web_port}", "--noreload"],
                self.log,
                env=env,
            )
        )
        wait_until("carbon-cache", lambda: _port_open(self.carbon_port), 30, self.log)
        wait_until("graphite-web", lambda: _port_open(self.web_port), 60, self.log)

    def render(self, target: str, since: str = "-1h") -> list[dict[str, Any]]:
        """graphite-web's answer for ``target``, as JSON series."""
        query = urllib.parse.urlencode({"target": target, "format": "json", "from": since})
        with urllib.request.urlopen(f"{self.url}/render?{query}", timeout=30) as response:
            series: list[dict[str, Any]] = json.load(response)
        return series

    def stop(self) -> None:
        for daemon in reversed(self.daemons):
            daemon.stop()


class IcingaWeb:
    """Icinga Web 2 with the monitoring module on the IDO and the graphite module on
    graphite-web, from a configuration directory of its own; every request is ``admin``
    (external authentication, set by the router)."""

    def __init__(self, root: Path, mariadb: MariaDB, graphite: Graphite) -> None:
        self.root = root
        self.config = root / "etc"
        self.port = free_port()
        self.log = root / "icingaweb.log"
        self.mariadb, self.graphite = mariadb, graphite
        self.daemon: Daemon | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write(self, relative: str, text: str) -> Path:
        path = self.config / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def configure(self) -> Path:
        """The configuration directory and the router PHP's server runs every request through."""
        modules = ICINGAWEB_ROOT / "modules"
        self.write(
            "config.ini",
            f'[global]\nconfig_backend = "ini"\nmodule_path = "{modules}"\n\n'
            '[logging]\nlog = "none"\n',
        )
        self.write("authentication.ini", '[autologin]\nbackend = "external"\n')
        self.write("roles.ini", f'[admins]\nusers = "{WEB_USER}"\npermissions = "*"\n')
        self.write(
            "resources.ini",
            f'[icinga_ido]\ntype = "db"\ndb = "mysql"\nhost = "127.0.0.1"\n'
            f'port = "{self.mariadb.port}"\ndbname = "{IDO_DATABASE}"\n'
            f'username = "{IDO_USER}"\npassword = "{IDO_PASSWORD}"\ncharset = "utf8"\n',
        )
        self.write(
            "modules/monitoring/backends.ini", '[icinga]\ntype = "ido"\nresource = "icinga_ido"\n'
        )
        self.write("modules/monitoring/config.ini", '[security]\nprotected_customvars = "*pass*"\n')
        self.write("modules/graphite/config.ini", f'[graphite]\nurl = "{self.graphite.url}"\n')
        enabled = self.config / "enabledModules"
        enabled.mkdir(parents=True, exist_ok=True)
        for module in ("monitoring", "graphite"):
            with contextlib.suppress(FileExistsError):
                (enabled / module).symlink_to(modules / module)
        # named like Icinga Web's own router: with PHP's server, Icinga Web finds its public
        # directory by that name (ApplicationBootstrap::getBootstrapDirectory)
        router = self.write(
            "webrouter.php",
            f"<?php\n$_SERVER['REMOTE_USER'] = '{WEB_USER}';\nreturn require '{WEBROUTER}';\n",
        )
        return router

    def start(self) -> None:
        router = self.configure()
        env = {**os.environ, "ICINGAWEB_CONFIGDIR": str(self.config)}
        self.daemon = Daemon(
            ["php", "-S", f"127.0.0.1:{self.port}", "-t", str(ICINGAWEB_ROOT / "public"),
             str(router)],
            self.log,
            env=env,
        )  # fmt: skip
        wait_until("Icinga Web 2", lambda: _port_open(self.port), 30, self.log)

    def install_template(self, source: Path) -> Path:
        """A graph template where the module reads an installation's templates."""
        return self.write(f"modules/graphite/templates/{source.name}", source.read_text())

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()


class Beacon:
    """A TCP listener on a loopback address of its own: the address a certificate's markup
    points at. Every connection is recorded with the first line it sent."""

    def __init__(self, host: str, port: int) -> None:
        self.server = socket.create_server((host, port))
        self.requests: list[str] = []
        self._thread = threading.Thread(target=self._serve, name="beacon", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                first = b""
                with contextlib.suppress(OSError):
                    first = conn.recv(4096).split(b"\r\n", 1)[0]
                self.requests.append(first.decode("latin-1"))
                with contextlib.suppress(OSError):
                    conn.sendall(b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n")

    def close(self) -> None:
        self.server.close()


class DevTools:
    """The Chrome DevTools protocol over one WebSocket (RFC 6455, text frames): commands and
    their results; events are read past."""

    def __init__(self, ws_url: str) -> None:
        url = urllib.parse.urlparse(ws_url)
        assert url.hostname == "127.0.0.1", ws_url
        self.sock = socket.create_connection((url.hostname, url.port or 80), timeout=60)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            assert chunk, "DevTools closed the connection during the handshake"
            head += chunk
        head, self.buffer = head.split(b"\r\n\r\n", 1)
        assert head.split(b"\r\n")[0].split()[1] == b"101", head
        self.last_id = 0

    def _exact(self, size: int) -> bytes:
        while len(self.buffer) < size:
            chunk = self.sock.recv(1 << 20)
            assert chunk, "DevTools closed the connection"
            self.buffer += chunk
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _frame(self) -> tuple[int, bool, bytes]:
        first, second = self._exact(2)
        size = second & 0x7F
        if size == 126:
            size = struct.unpack(">H", self._exact(2))[0]
        elif size == 127:
            size = struct.unpack(">Q", self._exact(8))[0]
        return first & 0x0F, bool(first & 0x80), self._exact(size)  # the server never masks

    def _message(self) -> dict[str, Any]:
        opcode, fin, data = self._frame()
        while not fin:  # continuation frames
            _, fin, more = self._frame()
            data += more
        assert opcode == 1, f"unexpected WebSocket opcode {opcode}"
        message: dict[str, Any] = json.loads(data)
        return message

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.last_id += 1
        payload = json.dumps({"id": self.last_id, "method": method, "params": params}).encode()
        header = bytearray([0x81])
        if len(payload) < 126:
            header.append(0x80 | len(payload))
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
        mask = os.urandom(4)
        header += mask
        self.sock.sendall(bytes(header) + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        while True:
            message = self._message()
            if message.get("id") == self.last_id:
                assert "error" not in message, message["error"]
                result: dict[str, Any] = message.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        reply = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in reply, reply["exceptionDetails"]
        return reply["result"].get("value")

    def close(self) -> None:
        self.sock.close()


class Chromium:
    """Headless Chromium with a fresh profile, one page driven through DevTools."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.profile = root / "profile"
        self.port = free_port()
        self.log = root / "chromium.log"
        self.daemon: Daemon | None = None
        self.page: DevTools | None = None

    def start(self) -> None:
        self.profile.mkdir(parents=True, exist_ok=True)
        self.daemon = Daemon(
            ["chromium", *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}",
             "--remote-debugging-address=127.0.0.1", f"--remote-debugging-port={self.port}",
             "about:blank"],
            self.log,
        )  # fmt: skip

        def page_socket() -> str | None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list") as reply:
                    targets = json.load(reply)
            except OSError:
                return None
            pages = [t for t in targets if t.get("type") == "page"]
            return str(pages[0]["webSocketDebuggerUrl"]) if pages else None

        self.page = DevTools(wait_until("Chromium's DevTools", page_socket, 60, self.log))
        self.page.call("Page.enable")

    def open(self, url: str, ready: str = "document.readyState === 'complete'") -> None:
        """Load ``url`` and wait until the JavaScript expression ``ready`` is true."""
        assert self.page is not None
        self.page.call("Page.navigate", url=url)
        time.sleep(0.2)  # the old document may still say "complete"
        wait_until(f"{url} to be ready", lambda: self.page.evaluate(ready) or None, 60, self.log)  # type: ignore[union-attr]

    def dom(self) -> str:
        assert self.page is not None
        return str(self.page.evaluate("document.documentElement.outerHTML"))

    def screenshot(self, path: Path, whole_page: bool = True) -> Path:
        assert self.page is not None
        shot = self.page.call(
            "Page.captureScreenshot", format="png", captureBeyondViewport=whole_page
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def stop(self) -> None:
        if self.page is not None:
            self.page.close()
        if self.daemon is not None:
            self.daemon.stop()
        shutil.rmtree(self.profile, ignore_errors=True)
