"""The Icinga Director basket in a real Icinga Director: Debian's icingaweb2-module-director on
MariaDB, both in a scratch directory (the database server runs as the mysql user on loopback,
Icinga Web 2's configuration is pointed at with ICINGAWEB_CONFIGDIR).

``icingacli director basket restore`` reads contrib/icinga2/director-basket.json as shipped; a
host and a service made from the basket's template are added the way an admin would add them;
``icingacli director config render`` renders the configuration; the rendered files go into an
Icinga 2 configuration with Debian's includes (the CheckCommand comes from the installed
package's ITL file: the basket's command is external), ``icinga2 daemon -C`` accepts it, and the
daemon runs the check against the lab — the password from the Director's hidden field reaching
the plugin through its environment.
"""

from __future__ import annotations

import json
import os
import pwd
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from contrib.lab import Lab
from contrib.lab.identities.accounts import PASSWORD
from tests import installed

from .conftest import REPO, missing, require_program
from .daemons import Daemon, free_port, wait_until
from .icinga import ClusterCA, Icinga2

pytestmark = pytest.mark.integration

BASKET = REPO / "contrib" / "icinga2" / "director-basket.json"
MODULES = Path("/usr/share/icingaweb2/modules")
DB_USER = "director"
DB_PASSWORD = "director-test"
HOST = "healthy.contoso.test"
SERVICE = "outlook-anywhere"
AUTODISCOVER = "autodiscover.contoso.test"


class MariaDB:
    """A MariaDB server of its own: data directory in the scratch tree, TCP on 127.0.0.1."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket = self.data / "mariadb.sock"
        self.port = free_port()
        self.log = root / "mariadb.log"
        self.daemon: Daemon | None = None

    def start(self) -> None:
        mysql = pwd.getpwnam("mysql")
        self.data.mkdir(parents=True)
        os.chown(self.data, mysql.pw_uid, mysql.pw_gid)
        subprocess.run(
            [require_program("mariadb-install-db"), "--no-defaults", f"--datadir={self.data}",
             "--user=mysql", "--auth-root-authentication-method=normal", "--skip-test-db"],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        self.daemon = Daemon(
            [require_program("mariadbd"), "--no-defaults", f"--datadir={self.data}",
             "--user=mysql", f"--socket={self.socket}", "--bind-address=127.0.0.1",
             f"--port={self.port}", f"--pid-file={self.data / 'mariadb.pid'}",
             f"--tmpdir={self.data}", "--skip-log-bin", "--innodb-buffer-pool-size=32M"],
            self.log,
        )  # fmt: skip
        wait_until("MariaDB", self._up, 60, self.log)
        self.sql(
            "CREATE DATABASE director CHARACTER SET 'utf8mb4';"
            f" CREATE USER '{DB_USER}'@'127.0.0.1' IDENTIFIED BY '{DB_PASSWORD}';"
            f" GRANT ALL ON director.* TO '{DB_USER}'@'127.0.0.1';"
        )

    def _up(self) -> bool | None:
        assert self.daemon is not None
        if not self.daemon.running():
            raise AssertionError(f"mariadbd exited:\n{self.log.read_text(errors='replace')}")
        done = subprocess.run(
            [*self.client(), "-e", "SELECT 1"], capture_output=True, text=True, timeout=10
        )
        return True if done.returncode == 0 else None

    def client(self, database: str | None = None) -> list[str]:
        argv = [require_program("mariadb"), "--no-defaults", "-S", str(self.socket), "-uroot"]
        return [*argv, database] if database else argv

    def sql(self, statement: str, database: str | None = None) -> str:
        done = subprocess.run(
            [*self.client(database), "--batch", "--raw", "--skip-column-names", "-e", statement],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()


@dataclass
class Director:
    """icingacli with an Icinga Web 2 configuration of its own."""

    config: Path
    db: MariaDB

    def cli(self, *args: str, stdin: str | None = None) -> str:
        done = subprocess.run(
            [require_program("icingacli"), "director", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "ICINGAWEB_CONFIGDIR": str(self.config)},
        )
        assert done.returncode == 0, f"icingacli director {' '.join(args)}:\n{done}"
        return done.stdout

    def show(self, kind: str, name: str) -> dict[str, Any]:
        shown: dict[str, Any] = json.loads(self.cli(kind, "show", name, "--json"))
        return shown

    def rendered(self) -> dict[str, str]:
        """Render the configuration; its files by path (zones.d/<zone>/<file>)."""
        out = self.cli("config", "render")
        checksum = out.strip().split("checksum ", 1)[1].split()[0]
        assert len(checksum) == 40, out
        query = (
            "SELECT f.file_path FROM director_generated_config_file f"
            f" WHERE f.config_checksum = UNHEX('{checksum}')"
        )
        files = {}
        for path in self.db.sql(query, "director").split():
            files[path] = self.db.sql(
                "SELECT gf.content FROM director_generated_config_file f"
                " JOIN director_generated_file gf ON gf.checksum = f.file_checksum"
                f" WHERE f.config_checksum = UNHEX('{checksum}') AND f.file_path = '{path}'",
                "director",
            )
        return files


@pytest.fixture(scope="module")
def director(scratch: Path) -> Iterator[Director]:
    require_program("icingacli")
    for module in ("director", "incubator"):
        if not (MODULES / module / "module.info").is_file():
            missing(f"the Icinga Web 2 module {module} is not installed")
    try:
        pwd.getpwnam("mysql")
    except KeyError:
        missing("no mysql user (package mariadb-server)")
    root = scratch / "director"
    db = MariaDB(root / "mariadb")
    config = root / "icingaweb2"
    (config / "enabledModules").mkdir(parents=True)
    (config / "modules" / "director").mkdir(parents=True)
    for module in ("director", "incubator"):
        (config / "enabledModules" / module).symlink_to(MODULES / module)
    (config / "config.ini").write_text('[logging]\nlog = "none"\n')
    (config / "resources.ini").write_text(
        f'[director_db]\ntype = "db"\ndb = "mysql"\nhost = "127.0.0.1"\nport = "{db.port}"\n'
        f'dbname = "director"\nusername = "{DB_USER}"\npassword = "{DB_PASSWORD}"\n'
        'charset = "utf8mb4"\n'
    )
    (config / "modules" / "director" / "config.ini").write_text('[db]\nresource = "director_db"\n')
    try:
        db.start()
        director = Director(config, db)
        director.cli("migration", "run")
        yield director
    finally:
        db.stop()


@pytest.fixture(scope="module")
def restored(director: Director) -> Director:
    out = director.cli("basket", "restore", stdin=BASKET.read_text(encoding="utf-8"))
    assert "restored" in out, out
    return director


def test_basket_restores_the_command_fields_and_template(restored: Director) -> None:
    basket = json.loads(BASKET.read_text(encoding="utf-8"))
    command = restored.show("command", "outlook_anywhere")
    assert command["object_type"] == "external_object"
    assert command["arguments"] == basket["ExternalCommand"]["outlook_anywhere"]["arguments"]
    assert len(command["fields"]) == len(basket["Datafield"])
    template = restored.show("service", SERVICE)
    assert template["object_type"] == "template"
    assert template["check_command"] == "outlook_anywhere"
    # the passwords are hidden (sensitive) fields, every other string field is visible
    rows = restored.db.sql(
        "SELECT df.varname, s.setting_value FROM director_datafield df"
        " JOIN director_datafield_setting s ON s.datafield_id = df.id"
        " AND s.setting_name = 'visibility'",
        "director",
    )
    visibility = dict(line.split("\t") for line in rows.splitlines())
    assert visibility.pop("outlook_anywhere_password") == "hidden"
    assert visibility.pop("outlook_anywhere_proxy_password") == "hidden"
    assert set(visibility.values()) == {"visible"}
    # restoring again changes nothing (a basket may be restored on every upgrade)
    restored.cli("basket", "restore", stdin=BASKET.read_text(encoding="utf-8"))
    assert restored.show("command", "outlook_anywhere") == command


@pytest.fixture(scope="module")
def rendered(restored: Director, lab: Lab, lab_ca: Path) -> dict[str, str]:
    """A host and a service from the basket's template, as an admin adds them; rendered."""
    restored.cli(
        "command", "create", "dummy", "--json",
        json.dumps({"object_type": "external_object", "command": "PluginDir + /check_dummy",
                    "methods_execute": "PluginCheck"}),
    )  # fmt: skip
    restored.cli(
        "host", "create", HOST, "--json",
        json.dumps({"object_type": "object", "check_command": "dummy",
                    "address": lab.scenario("healthy").addresses[0]}),
    )  # fmt: skip
    service_vars = {
        "outlook_anywhere_port": lab.port,
        "outlook_anywhere_dns_server": lab.dns_server,
        "outlook_anywhere_ca_file": str(lab_ca),
        "outlook_anywhere_autodiscover": "monitor@contoso.test",
        "outlook_anywhere_autodiscover_url": lab.web.url(AUTODISCOVER),
        "outlook_anywhere_password": PASSWORD,
    }
    restored.cli(
        "service", "create", SERVICE, "--json",
        json.dumps({"object_type": "object", "host": HOST, "imports": [SERVICE],
                    "vars": service_vars}),
    )  # fmt: skip
    return restored.rendered()


@pytest.fixture(scope="module")
def icinga(scratch: Path, rendered: dict[str, str]) -> Iterator[Icinga2]:
    """Icinga 2 with Debian's includes and the Director's rendered zones."""
    require_program("icinga2")
    installed.require_package()
    node = Icinga2(scratch / "icinga2-director", "master", free_port(), ClusterCA())
    zones = (
        'object Endpoint NodeName { }\nobject Zone "master" { endpoints = [ NodeName ] }\n'
        'object Zone "director-global" { global = true }\n'
    )
    plugin_dir = str(installed.PLUGIN.parent)
    node.write(
        "icinga2.conf",
        f'const PluginDir = "{plugin_dir}"\nconst PluginContribDir = "{plugin_dir}"\n'
        + node.base_config(zones=zones)
        + "include <plugins-contrib>\n",
    )
    for path, content in rendered.items():
        assert path.startswith("zones.d/"), path
        node.write(path.removeprefix("zones.d/"), content, base="zones")
    try:
        yield node
    finally:
        node.stop()


def test_rendered_configuration_has_the_template_and_no_command(rendered: dict[str, str]) -> None:
    text = "\n".join(rendered.values())
    assert 'template Service "outlook-anywhere" {' in text
    assert 'check_command = "outlook_anywhere"' in text
    # the command is the package's (it carries the env entry the Director cannot render)
    assert 'CheckCommand "outlook_anywhere"' not in text


def test_icinga2_accepts_the_rendered_configuration(icinga: Icinga2) -> None:
    result = icinga.validate()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 Service" in result.stdout, result.stdout


def test_the_directors_service_runs_the_packaged_check(icinga: Icinga2) -> None:
    icinga.start()
    result = icinga.check(HOST, SERVICE)
    assert result["state"] == 0 and result["exit_status"] == 0, result["output"]
    assert result["output"].startswith("OUTLOOK_ANYWHERE OK - "), result["output"]
    assert result["command"][0] == str(installed.PLUGIN)
    assert not any(PASSWORD in part for part in result["command"])  # the env carried it
    assert "autodiscover_time" in " ".join(result["performance_data"])
