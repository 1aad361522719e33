"""Nagios 4: the shipped command definitions validate, and a daemon runs the plugin against the
lab; state and perfdata are read from status.dat and a service perfdata file."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.identities.accounts import PASSWORD

from .conftest import REPO, missing, require_program
from .daemons import Daemon, chown_to_daemon_user, wait_until

pytestmark = pytest.mark.integration

CONTRIB = REPO / "contrib" / "nagios"
COMMANDS_FILE = CONTRIB / "outlook_anywhere.cfg"
EXAMPLES_FILE = CONTRIB / "outlook_anywhere-services.cfg.example"
SERVICE = "Outlook Anywhere certificate"

# Debian's stock object files, used as they are: the shipped examples must work with what a new
# installation has, not with templates of the test's own. nagios.cfg loads the sample objects
# (package nagios4-common) and cfg_dir=/etc/nagios-plugins/config, where monitoring-plugins keep
# their commands (check-host-alive is in ping.cfg) and the Debian package puts outlook_anywhere.cfg
# (left out here: the test loads the checkout's copy).
STOCK_OBJECTS = Path("/etc/nagios4/objects")
STOCK_FILES = ("templates.cfg", "commands.cfg", "contacts.cfg", "timeperiods.cfg")
PLUGIN_COMMANDS = Path("/etc/nagios-plugins/config")
AUTODISCOVER_SERVICE = "Outlook Anywhere Autodiscover"
AUTODISCOVER = "autodiscover.contoso.test"  # the lab's Autodiscover endpoint


def stock_files() -> list[Path]:
    files = [STOCK_OBJECTS / name for name in STOCK_FILES]
    files += [
        path for path in sorted(PLUGIN_COMMANDS.glob("*.cfg")) if path.name != COMMANDS_FILE.name
    ]
    absent = [str(f) for f in [*files, PLUGIN_COMMANDS / "ping.cfg"] if not f.is_file()]
    if absent:
        missing(f"Debian's stock Nagios object files are missing: {', '.join(absent)}")
    return files


class Nagios:
    """A Nagios 4 in a scratch directory, run as the nagios user."""

    def __init__(self, root: Path, plugin_dir: Path) -> None:
        self.root = root
        root.mkdir()
        self.main = root / "nagios.cfg"
        self.status = root / "status.dat"
        self.perfdata = root / "service-perfdata"
        self.pipe = root / "nagios.cmd"
        self.log = root / "nagios.log"
        self.daemon: Daemon | None = None
        # resource.cfg as the README says: $USER3$ names the Autodiscover password file
        (root / "resource.cfg").write_text(f"$USER1$={plugin_dir}\n$USER3$={root}/password\n")
        (root / "password").write_text(PASSWORD + "\n")
        (root / "password").chmod(0o600)
        (root / "checkresults").mkdir()

    def configure(self, *object_files: Path) -> None:
        lines = [
            *(f"cfg_file={path}" for path in object_files),
            f"resource_file={self.root}/resource.cfg",
            f"log_file={self.log}",
            f"status_file={self.status}",
            "status_update_interval=1",
            f"object_cache_file={self.root}/objects.cache",
            f"precached_object_file={self.root}/objects.precache",
            f"temp_file={self.root}/nagios.tmp",
            f"temp_path={self.root}",
            f"check_result_path={self.root}/checkresults",
            f"lock_file={self.root}/nagios.lock",
            f"command_file={self.pipe}",
            "check_external_commands=1",
            "retain_state_information=0",
            f"state_retention_file={self.root}/retention.dat",
            "nagios_user=nagios",
            "nagios_group=nagios",
            "use_syslog=0",
            "log_rotation_method=n",
            "enable_notifications=0",
            "execute_host_checks=0",
            "process_performance_data=1",
            f"service_perfdata_file={self.perfdata}",
            "service_perfdata_file_template="
            "$HOSTNAME$\\t$SERVICEDESC$\\t$SERVICESTATEID$\\t$SERVICEOUTPUT$\\t$SERVICEPERFDATA$",
            "service_perfdata_file_mode=a",
            "service_perfdata_file_processing_interval=0",
            "check_service_freshness=0",
            "illegal_macro_output_chars=`~$&|'\"<>",
        ]
        self.main.write_text("\n".join(lines) + "\n")
        chown_to_daemon_user(self.root)

    def validate(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["nagios4", "-v", str(self.main)], capture_output=True, text=True, timeout=60
        )

    def start(self) -> None:
        self.daemon = Daemon(["nagios4", str(self.main)], self.log.with_suffix(".out"))
        wait_until("the Nagios command pipe", self._pipe_ready, 20, self.log)

    def stop(self) -> None:
        if self.daemon is not None:
            self.daemon.stop()

    def _pipe_ready(self) -> bool | None:
        assert self.daemon is not None
        if not self.daemon.running():
            raise AssertionError(f"nagios4 exited:\n{self.log.read_text(errors='replace')}")
        return True if self.pipe.is_fifo() and self.status.exists() else None

    def command(self, line: str) -> None:
        with self.pipe.open("w") as pipe:
            pipe.write(f"[{int(time.time())}] {line}\n")

    def service_status(self, host: str, service: str) -> dict[str, str] | None:
        """The servicestatus block of ``status.dat`` (None while the file is being rewritten)."""
        try:
            text = self.status.read_text(errors="replace")
        except FileNotFoundError:
            return None
        for block in re.findall(r"servicestatus \{\n(.*?)\n\s*\}", text, flags=re.S):
            fields = dict(line.strip().split("=", 1) for line in block.splitlines() if "=" in line)
            if fields.get("host_name") == host and fields.get("service_description") == service:
                return fields
        return None

    def check(self, host: str, service: str, timeout: float = 30) -> dict[str, str]:
        """Force a check and return its servicestatus once the daemon has recorded it."""
        started = int(time.time())
        self.command(f"SCHEDULE_FORCED_SVC_CHECK;{host};{service};{started}")

        def fresh() -> dict[str, str] | None:
            status = self.service_status(host, service)
            if status is None or int(status["last_check"]) < started:
                return None
            return status

        return wait_until(f"a check result of {host};{service}", fresh, timeout, self.log)

    def perfdata_lines(self, host: str, service: str) -> list[list[str]]:
        if not self.perfdata.exists():
            return []
        rows = [line.split("\t") for line in self.perfdata.read_text().splitlines()]
        return [row for row in rows if row[:2] == [host, service]]


def lab_objects(lab: Lab, ca: Path) -> str:
    """Lab hosts, each with a service using one of the shipped commands; the hosts set what
    Debian's stock generic-host lacks (max_check_attempts), as the shipped example does."""
    common = f"-p {lab.port} --dns-server {lab.dns_server} --ca-file {ca}"
    broken = lab.scenario("wrong-cn-node")
    objects = []
    hosts = [
        (lab.scenario(s).host, lab.scenario(s).addresses[0]) for s in ("healthy", "wrong-cn-node")
    ]
    hosts += [("exch03", broken.addresses[2]), (AUTODISCOVER, lab.web.addresses(AUTODISCOVER)[0])]
    for host, address in hosts:
        objects.append(f"""
define host {{
    use                 generic-host
    host_name           {host}
    address             {address}
    max_check_attempts  3
    check_command       check-host-alive
}}""")
    for scenario in ("healthy", "wrong-cn-node"):
        objects.append(f"""
define service {{
    use                 generic-service
    host_name           {lab.scenario(scenario).host}
    service_description {SERVICE}
    check_command       check_outlook_anywhere!{common}
}}""")
    objects.append(f"""
define service {{
    use                 generic-service
    host_name           exch03
    service_description {SERVICE}
    check_command       check_outlook_anywhere_node!{broken.host}!{common}
}}""")
    ad_args = f"--autodiscover-url {lab.web.url(AUTODISCOVER)} {common}"
    objects.append(f"""
define service {{
    use                 generic-service
    host_name           {AUTODISCOVER}
    service_description {AUTODISCOVER_SERVICE}
    check_command       check_outlook_anywhere_autodiscover!monitor@contoso.test!{ad_args}
}}""")
    return "\n".join(objects)


# -- the shipped example as an admin follows it ---------------------------------------------

# Where the extra options go in each shipped command: the index of its last argument.
EXTRA_ARGUMENT = {
    "check_outlook_anywhere": 0,
    "check_outlook_anywhere_node": 1,
    "check_outlook_anywhere_autodiscover": 1,
    "check_outlook_anywhere_logon": 1,
}
EXAMPLE_SERVICE = re.compile(
    r"define service \{.*?host_name\s+(\S+).*?service_description\s+([^\n]+?)\s*\n"
    r".*?check_command\s+([^\n]+?)\s*\n",
    re.S,
)


def example_objects(lab: Lab, ca: Path) -> tuple[str, list[tuple[str, str]]]:
    """The shipped example, as it is but pointed at the lab: its names, addresses, CA and
    mailboxes replaced by the lab's, and the lab's port and DNS server added to each command's
    last argument (the mailbox that logs on gets a lab logon array, on the web port). The
    text, and its services as (host, service)."""
    single = lab.scenario("single")
    text = EXAMPLES_FILE.read_text()
    text = text.replace(
        "address                 mail.contoso.com", f"address {single.addresses[0]}"
    )
    text = text.replace("10.0.0.11", single.addresses[0])
    text = text.replace("/etc/ssl/certs/contoso-root.pem", str(ca))
    text = text.replace("exch01", "example-exch01")
    text = text.replace("mail.contoso.com", single.host)
    services = []

    def pointed(match: re.Match[str]) -> str:
        host, service, command = match.groups()
        name, *args = command.split("!")
        args += [""] * (EXTRA_ARGUMENT[name] + 1 - len(args))
        extra = f"--dns-server {lab.dns_server}"
        extra += "" if "--ca-file" in command else f" --ca-file {ca}"
        if name == "check_outlook_anywhere_logon":
            args[0] = "logon-basic@contoso.test"
            extra += f" -p {lab.web.port} --autodiscover-url {lab.web.url(AUTODISCOVER)}"
        elif name == "check_outlook_anywhere_autodiscover":
            args[0] = "monitor@contoso.test"
            extra += f" -p {lab.port} --autodiscover-url {lab.web.url(AUTODISCOVER)}"
        else:
            extra += f" -p {lab.port}"
        last = EXTRA_ARGUMENT[name]
        args[last] = f"{args[last]} {extra}".strip()
        services.append((host, service))
        return match.group(0).replace(command, "!".join([name, *args]))

    return EXAMPLE_SERVICE.sub(pointed, text), services


def perfdata(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


@pytest.fixture(scope="module")
def nagios(scratch: Path, plugin_dir: Path, lab: Lab, lab_ca: Path) -> Iterator[Nagios]:
    require_program("nagios4")
    daemon = Nagios(scratch / "nagios4", plugin_dir)
    commands = daemon.root / COMMANDS_FILE.name
    commands.write_bytes(COMMANDS_FILE.read_bytes())  # unchanged
    services = daemon.root / "lab.cfg"
    services.write_text(lab_objects(lab, lab_ca))
    examples = daemon.root / "examples.cfg"
    examples.write_text(example_objects(lab, lab_ca)[0])
    daemon.configure(*stock_files(), commands, services, examples)
    try:
        validation = daemon.validate()
        assert validation.returncode == 0, validation.stdout + validation.stderr
        daemon.start()
        yield daemon
    finally:
        daemon.stop()


def test_nagios_accepts_the_shipped_definitions(scratch: Path, plugin_dir: Path) -> None:
    """`nagios4 -v` on the command definitions and the example objects as shipped, with
    Debian's stock templates.cfg, commands.cfg, contacts.cfg and timeperiods.cfg."""
    require_program("nagios4")
    daemon = Nagios(scratch / "nagios4-validate", plugin_dir)
    files = stock_files()
    for shipped in (COMMANDS_FILE, EXAMPLES_FILE):
        copy = daemon.root / shipped.name.removesuffix(".example")
        copy.write_bytes(shipped.read_bytes())
        files.append(copy)
    daemon.configure(*files)
    result = daemon.validate()
    assert result.returncode == 0, result.stdout
    assert re.search(r"Checked 4 services\.", result.stdout), result.stdout
    assert re.search(r"Checked 2 hosts\.", result.stdout), result.stdout


def test_healthy_array_in_status_and_perfdata_file(nagios: Nagios, lab: Lab) -> None:
    host = lab.scenario("healthy").host
    status = nagios.check(host, SERVICE)
    assert status["current_state"] == "0", status
    assert status["plugin_output"].startswith("OUTLOOK_ANYWHERE OK - "), status
    perf = perfdata(status["performance_data"])
    assert perf["nodes"] == "3;;;0" and perf["nodes_ok"] == "3;;;0;3", perf
    assert perf["days_left"].endswith(";30:;14:") and "time" in perf, perf

    def written() -> list[list[str]] | None:
        return nagios.perfdata_lines(host, SERVICE) or None

    row = wait_until("the service perfdata file", written, 15, nagios.log)[-1]
    assert row[2] == "0" and row[3].startswith("OUTLOOK_ANYWHERE OK"), row
    assert perfdata(row[4]) == perf


def test_broken_node_critical_and_named(nagios: Nagios, lab: Lab) -> None:
    scenario = lab.scenario("wrong-cn-node")
    status = nagios.check(scenario.host, SERVICE)
    assert status["current_state"] == "2", status
    assert status["plugin_output"].startswith("OUTLOOK_ANYWHERE CRITICAL - "), status
    assert scenario.addresses[2] in status["plugin_output"], status
    assert perfdata(status["performance_data"])["nodes_ok"] == "2;;;0;3"


def test_one_server_by_host_address(nagios: Nagios, lab: Lab) -> None:
    status = nagios.check("exch03", SERVICE)
    assert status["current_state"] == "2", status
    assert perfdata(status["performance_data"])["nodes"] == "1;;;0"


def test_autodiscover_command_runs_with_the_password_file(nagios: Nagios, lab: Lab) -> None:
    """check_outlook_anywhere_autodiscover as shipped: the mailbox, the password file named by
    $USER3$ (resource.cfg), every node behind the Server Autodiscover publishes."""
    lab.web.clear()
    status = nagios.check(AUTODISCOVER, AUTODISCOVER_SERVICE)
    assert status["current_state"] == "0", status
    assert status["plugin_output"].startswith("OUTLOOK_ANYWHERE OK - "), status
    perf = perfdata(status["performance_data"])
    assert "autodiscover_time" in perf and perf["nodes_ok"] == "3;;;0;3", perf
    # the password reached the Autodiscover endpoint (from the file), and nowhere in the output
    asked = lab.web.requests(mailbox="monitor@contoso.test")
    assert asked, "Nagios' check never reached the lab's Autodiscover endpoint"
    assert PASSWORD not in status["plugin_output"] + status.get("long_plugin_output", "")


def test_every_example_service_runs_without_unknown(nagios: Nagios, lab: Lab, lab_ca: Path) -> None:
    """The shipped example's services (pointed at the lab): each runs, and none is UNKNOWN
    (what a command line the plugin refuses would be)."""
    _, services = example_objects(lab, lab_ca)
    assert len(services) == 4, services
    for host, service in services:
        status = nagios.check(host, service)
        assert status["current_state"] != "3", (host, service, status["plugin_output"])
        assert status["plugin_output"].startswith("OUTLOOK_ANYWHERE "), status
