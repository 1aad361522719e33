"""Icinga 2, single node, the way a Debian admin runs it: the PACKAGED plugin
(/usr/lib/nagios/plugins) and its CheckCommand loaded by ``include <plugins-contrib>`` from the
package's ITL file, the shipped example services, the lab as the Client Access arrays; what the
daemon recorded (state, output, perfdata) and what its GraphiteWriter sent.

The package must be this checkout's build (tests/installed.py compares every shipped file):
``.ci/run`` builds it with ``make deb`` and installs it with apt before ``make test``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contrib.lab import Lab
from contrib.lab.identities.accounts import PASSWORD
from tests import installed

from .conftest import REPO, require_program
from .daemons import chown_to_daemon_user, free_port, wait_until
from .graphite import GraphiteReceiver
from .icinga import ClusterCA, Icinga2

pytestmark = pytest.mark.integration

CONTRIB = REPO / "contrib" / "icinga2"
COMMAND_FILE = CONTRIB / "outlook_anywhere.conf"
EXAMPLES_FILE = CONTRIB / "outlook_anywhere-services.conf.example"
PACKAGED_PLUGIN_DIR = str(installed.PLUGIN.parent)
SERVICE = "outlook-anywhere"  # the example rule for an array host
NODE_SERVICE = "outlook-anywhere-node"  # the example rule for one server by address
AUTODISCOVER_SERVICE = "outlook-anywhere-autodiscover"
AUTODISCOVER = "autodiscover.contoso.test"  # the lab's Autodiscover endpoint
STATUS_PREFIX = {0: "OUTLOOK_ANYWHERE OK - ", 1: "OUTLOOK_ANYWHERE WARNING - ",
                 2: "OUTLOOK_ANYWHERE CRITICAL - ", 3: "OUTLOOK_ANYWHERE UNKNOWN - "}  # fmt: skip


def lab_hosts(lab: Lab, ca: Path, password_file: Path) -> str:
    """Host objects the shipped example rules apply to, pointed at the lab."""
    healthy = lab.scenario("healthy").host
    broken = lab.scenario("wrong-cn-node")
    rev = lab.scenario("rev-ok")
    ad_url = lab.web.url(AUTODISCOVER)
    return f"""
template Host "lab" {{
  check_command = "dummy"
  enable_active_checks = false
  vars.outlook_anywhere_port = {lab.port}
  vars.outlook_anywhere_dns_server = "{lab.dns_server}"
  vars.outlook_anywhere_ca_file = "{ca}"
}}
object Host "{healthy}" {{
  import "lab"
  vars.outlook_anywhere_array = true
}}
object Host "{broken.host}" {{
  import "lab"
  vars.outlook_anywhere_array = true
}}
object Host "exch03" {{
  import "lab"
  address = "{broken.addresses[2]}"
  vars.outlook_anywhere_name = "{broken.host}"
}}
object Host "{AUTODISCOVER}" {{
  import "lab"
  vars.autodiscover_mailbox = "monitor@contoso.test"
  vars.outlook_anywhere_autodiscover_url = "{lab.web.url(AUTODISCOVER)}"
  vars.outlook_anywhere_password = "{PASSWORD}"
}}
/* The password only in a file: Icinga 2 passes the unset outlook_anywhere_password as an
 * empty OUTLOOK_ANYWHERE_PASSWORD, and the plugin uses the file. */
object Host "ad-password-file" {{
  import "lab"
  vars.autodiscover_mailbox = "monitor@contoso.test"
  vars.outlook_anywhere_autodiscover_url = "{ad_url}"
  vars.outlook_anywhere_password_file = "{password_file}"
}}
/* Neither a password nor a file: the empty variable is no password. */
object Host "ad-no-password" {{
  import "lab"
  vars.autodiscover_mailbox = "monitor@contoso.test"
  vars.outlook_anywhere_autodiscover_url = "{ad_url}"
}}
/* Named like a node of the array but without an address: the by-address rule skips it. */
object Host "exch-no-address" {{
  import "lab"
  vars.outlook_anywhere_name = "{broken.host}"
}}
/* --revocation on an array whose CA publishes CRLs and an OCSP responder (the lab's PKI site). */
object Host "{rev.host}" {{
  import "lab"
  vars.outlook_anywhere_array = true
  vars.outlook_anywhere_revocation = true
}}
/* Logging on: an Autodiscover mailbox whose Server is a lab logon array (on the web port) that
 * offers Basic only: the packaged plugin runs on Debian 12's Python, which has no pyspnego. */
object Host "logon" {{
  import "lab"
  vars.outlook_anywhere_port = {lab.web.port}
  vars.logon_mailbox = "logon-basic@contoso.test"
  vars.outlook_anywhere_autodiscover_url = "{ad_url}"
  vars.outlook_anywhere_password = "{PASSWORD}"
}}
/* --rpc --logon and --mapi --logon, each a service of its own. */
apply Service for (protocol in ["rpc", "mapi"]) {{
  name = "logon-" + protocol
  check_command = "outlook_anywhere"
  enable_active_checks = false
  vars.outlook_anywhere_host = false
  vars.outlook_anywhere_autodiscover = host.vars.logon_mailbox
  vars["outlook_anywhere_" + protocol] = true
  vars.outlook_anywhere_logon = true
  assign where host.vars.logon_mailbox
}}
/* A host variable set but empty: Icinga passes --host '' and the plugin must say so. */
object Host "unnamed" {{
  import "lab"
  vars.outlook_anywhere_array = true
  vars.outlook_anywhere_host = ""
}}
"""


# -- the shipped example as an admin follows it ---------------------------------------------

# The host objects the example's comments show, one per rule: ``object Host "NAME" { ... }``.
EXAMPLE_HOST = re.compile(r'object Host "([^"]+)" \{\n(.*?)\n[ *]*\}', re.S)


def example_hosts(lab: Lab, ca: Path) -> dict[str, str]:
    """Every host object of the example's comments, as an admin would copy it, pointed at the
    lab: its variables kept by name (what decides which rules apply and how), each value the
    lab's equivalent (names, addresses, the CA, the password; a mailbox that logs on gets a
    lab logon array, which listens on the web port). By the host's name in Icinga."""
    single = lab.scenario("single")
    ad_url = lab.web.url(AUTODISCOVER)
    hosts = {}
    for rule, (name, body) in enumerate(EXAMPLE_HOST.findall(EXAMPLES_FILE.read_text()), 1):
        attrs = {}
        for raw in body.splitlines():
            line = raw.strip().lstrip("*").split("//")[0].strip()
            if "=" in line:
                key, value = (part.strip() for part in line.split("=", 1))
                attrs[key] = value
        logs_on = any("logon" in key for key in attrs)
        lab_values = {
            "check_command": '"dummy"',
            "address": f'"{single.addresses[0]}"',
            "vars.outlook_anywhere_name": f'"{single.host}"',
            "vars.outlook_anywhere_ca_file": f'"{ca}"',
            "vars.autodiscover_mailbox": '"logon-basic@contoso.test"'
            if logs_on
            else '"monitor@contoso.test"',
            "vars.outlook_anywhere_password": f'"{PASSWORD}"',
        }
        # an array host's name is the name the nodes are checked under
        if "vars.outlook_anywhere_array" in attrs:
            icinga_name = single.host
        else:  # rules 3 and 4 show the same host name
            icinga_name = f"example{rule}-{name}"
        lines = ['import "lab"']
        lines += [f"{key} = {lab_values.get(key, value)}" for key, value in attrs.items()]
        if "vars.autodiscover_mailbox" in attrs:
            lines.append(f'vars.outlook_anywhere_autodiscover_url = "{ad_url}"')
        if logs_on:
            lines.append(f"vars.outlook_anywhere_port = {lab.web.port}")
        hosts[icinga_name] = f'object Host "{icinga_name}" {{\n  ' + "\n  ".join(lines) + "\n}\n"
    return hosts


def perfdata(result: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in result["performance_data"])


@pytest.fixture(scope="module")
def graphite() -> Iterator[GraphiteReceiver]:
    with GraphiteReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def packaged() -> str:
    """The installed package is this checkout's build (fails in CI when it is not)."""
    return installed.require_package()


@pytest.fixture(scope="module")
def icinga_password_file(scratch: Path) -> Path:
    path = scratch / "icinga-autodiscover.password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    chown_to_daemon_user(path)
    return path


@pytest.fixture(scope="module")
def perfdata_dir(scratch: Path) -> Path:
    """Where the daemon's PerfdataWriter rotates its files (every second)."""
    return scratch / "icinga2-perfdata"


@pytest.fixture(scope="module")
def icinga(
    scratch: Path,
    packaged: str,
    lab: Lab,
    lab_ca: Path,
    graphite: GraphiteReceiver,
    icinga_password_file: Path,
    perfdata_dir: Path,
) -> Iterator[Icinga2]:
    require_program("icinga2")
    node = Icinga2(scratch / "icinga2-single", "localhost", free_port(), ClusterCA())
    perfdata_dir.mkdir(parents=True, exist_ok=True)
    (perfdata_dir / "tmp").mkdir(exist_ok=True)
    chown_to_daemon_user(perfdata_dir)
    # Debian's icinga2.conf: the ITL, the plugins (ipv4-or-ipv6) and plugins-contrib, where the
    # package's CheckCommand is; PluginDir is Debian's /usr/lib/nagios/plugins.
    node.write(
        "icinga2.conf",
        f'const PluginDir = "{PACKAGED_PLUGIN_DIR}"\n'
        f'const PluginContribDir = "{PACKAGED_PLUGIN_DIR}"\n'  # as Debian's constants.conf
        + node.base_config()
        + f"""
include <plugins-contrib>
object GraphiteWriter "graphite" {{
  host = "127.0.0.1"
  port = {graphite.port}
  enable_send_thresholds = true
}}
object PerfdataWriter "perfdata" {{
  service_perfdata_path = "{perfdata_dir}/service-perfdata"
  service_temp_path = "{perfdata_dir}/tmp/service-perfdata"
  host_perfdata_path = "{perfdata_dir}/host-perfdata"
  host_temp_path = "{perfdata_dir}/tmp/host-perfdata"
  rotation_interval = 1s
}}
include_recursive "conf.d"
""",
    )
    # The example services as the README says to install them; the CheckCommand is the
    # package's, so no copy of it may be in conf.d.
    node.install(EXAMPLES_FILE, "conf.d/outlook_anywhere-services.conf")
    node.write("conf.d/hosts.conf", lab_hosts(lab, lab_ca, icinga_password_file))
    node.write("conf.d/example-hosts.conf", "".join(example_hosts(lab, lab_ca).values()))
    assert not list(node.dirs["etc"].rglob(COMMAND_FILE.name))
    try:
        validation = node.validate()
        assert validation.returncode == 0, validation.stdout + validation.stderr
        node.start()
        yield node
    finally:
        node.stop()


def test_daemon_accepts_the_shipped_command_unchanged(scratch: Path, plugin_dir: Path) -> None:
    """`icinga2 daemon -C` on a config that includes contrib/icinga2/ as it is (the way
    without the package: the file copied into the configuration)."""
    require_program("icinga2")
    node = Icinga2(scratch / "icinga2-validate", "localhost", free_port(), ClusterCA())
    node.write(
        "icinga2.conf",
        f'const PluginDir = "{plugin_dir}"\n'
        + node.base_config()
        + f'\ninclude "{COMMAND_FILE.name}"\n'
        + 'object Host "mail.contoso.com" { check_command = "dummy"\n'
        + "  vars.outlook_anywhere_array = true }\n"
        + 'object Host "exch01" { check_command = "dummy"; address = "127.0.0.1"\n'
        + '  vars.outlook_anywhere_name = "mail.contoso.com" }\n'
        + 'object Host "exch02" { check_command = "dummy"; address6 = "::1"\n'
        + '  vars.outlook_anywhere_name = "mail.contoso.com" }\n'
        + 'object Host "exch-unaddressed" { check_command = "dummy"\n'
        + '  vars.outlook_anywhere_name = "mail.contoso.com" }\n'
        + 'object Host "autodiscover.contoso.com" { check_command = "dummy"\n'
        + '  vars.autodiscover_mailbox = "monitoring@contoso.com" }\n',
    )
    node.install(COMMAND_FILE, COMMAND_FILE.name)
    node.install(EXAMPLES_FILE, "examples.conf")
    with node.config.open("a") as conf:
        conf.write('include "examples.conf"\n')
    result = node.validate()
    assert result.returncode == 0, result.stdout + result.stderr
    # array, exch01 (IPv4), exch02 (IPv6 only), Autodiscover: the host without an address
    # gets no by-address service
    assert "4 Services" in result.stdout, result.stdout


def test_packaged_plugin_and_itl_file_run_the_checks(icinga: Icinga2, packaged: str) -> None:
    """The CheckCommand came from the package's ITL file through include <plugins-contrib>."""
    reply = icinga.api("GET", "/v1/objects/checkcommands/outlook_anywhere")
    attrs = reply["results"][0]["attrs"]
    assert attrs["source_location"]["path"] == str(installed.ITL_FILE), attrs["source_location"]
    assert attrs["command"] == [str(installed.PLUGIN)]


def test_healthy_array_is_ok_with_perfdata(icinga: Icinga2, lab: Lab) -> None:
    host = lab.scenario("healthy").host
    result = icinga.check(host, SERVICE)
    assert result["exit_status"] == 0 and result["state"] == 0, result
    assert result["output"].startswith(STATUS_PREFIX[0]), result["output"]
    perf = perfdata(result)
    assert perf["nodes"] == "3;;;0"
    assert perf["nodes_ok"] == "3;;;0;3"
    assert perf["days_left"].startswith(("299.", "300.")) and perf["days_left"].endswith(
        ";30:;14:"
    ), perf
    assert perf["time"].endswith("s;;;0"), perf
    for address in lab.scenario("healthy").addresses:
        assert "days_left_" + address.replace(".", "_") in perf, perf
    # What the daemon ran: the packaged plugin, the host's name (SNI needs it), the defaults.
    command = result["command"]
    assert command[0] == str(installed.PLUGIN), command
    assert command[command.index("--host") + 1] == host
    assert command[command.index("--warning") + 1] == "30"
    assert "--address" not in command  # every node behind the name


def test_broken_node_is_critical_and_named(icinga: Icinga2, lab: Lab) -> None:
    scenario = lab.scenario("wrong-cn-node")
    result = icinga.check(scenario.host, SERVICE)
    assert result["exit_status"] == 2 and result["state"] == 2, result
    first_line = result["output"].split("\n", 1)[0]
    assert first_line.startswith(STATUS_PREFIX[2]), first_line
    assert scenario.addresses[2] in first_line, first_line
    assert perfdata(result)["nodes_ok"] == "2;;;0;3"


def test_one_server_by_check_address(icinga: Icinga2, lab: Lab) -> None:
    """The example rule for one server: its address through $check_address$, the array's name."""
    scenario = lab.scenario("wrong-cn-node")
    result = icinga.check("exch03", NODE_SERVICE)
    command = result["command"]
    assert command[command.index("--address") + 1] == scenario.addresses[2], command
    assert command[command.index("--host") + 1] == scenario.host, command
    assert result["state"] == 2, result
    assert perfdata(result)["nodes"] == "1;;;0"


def test_by_address_rule_skips_a_host_without_an_address(icinga: Icinga2) -> None:
    services = icinga.api("GET", "/v1/objects/services?attrs=host_name")["results"]
    names = {(s["attrs"]["host_name"], s["name"].split("!", 1)[1]) for s in services}
    assert ("exch03", NODE_SERVICE) in names
    assert not [n for n in names if n[0] == "exch-no-address"], names


def test_autodiscover_with_the_password_in_the_environment(icinga: Icinga2, lab: Lab) -> None:
    """The example Autodiscover rule: no --host, the password only in the plugin's environment."""
    result = icinga.check(AUTODISCOVER, AUTODISCOVER_SERVICE)
    command = result["command"]
    assert "--host" not in command and "--autodiscover" in command, " ".join(command)
    assert not any(PASSWORD in part for part in command), command
    assert result["state"] == 0, result
    assert result["output"].startswith(STATUS_PREFIX[0]), result["output"]
    assert "autodiscover_time" in perfdata(result)


def test_unset_password_variable_leaves_the_password_file(icinga: Icinga2) -> None:
    """Icinga 2.13 passes the unset outlook_anywhere_password as an empty
    OUTLOOK_ANYWHERE_PASSWORD: the plugin treats it as no password and reads the file."""
    result = icinga.check("ad-password-file", AUTODISCOVER_SERVICE)
    command = result["command"]
    assert "--password-file" in command, command
    assert result["state"] == 0 and result["exit_status"] == 0, result
    assert result["output"].startswith(STATUS_PREFIX[0]), result["output"]


def test_no_password_at_all_is_unknown_naming_both_ways(icinga: Icinga2) -> None:
    result = icinga.check("ad-no-password", AUTODISCOVER_SERVICE)
    assert result["exit_status"] == 3 and result["state"] == 3, result
    output = result["output"]
    assert output.startswith(STATUS_PREFIX[3]), output
    assert "OUTLOOK_ANYWHERE_PASSWORD" in output and "--password-file" in output, output
    assert "\n" not in output.strip()


def test_empty_required_value_is_the_plugins_unknown(icinga: Icinga2) -> None:
    result = icinga.check("unnamed", SERVICE)
    assert result["exit_status"] == 3 and result["state"] == 3, result
    assert result["output"].startswith(STATUS_PREFIX[3]), result["output"]
    assert "--host" in result["output"], result["output"]
    assert "\n" not in result["output"].strip()  # one line, no traceback


def test_graphite_writer_receives_every_metric(
    icinga: Icinga2, lab: Lab, graphite: GraphiteReceiver
) -> None:
    # The writer connects on its 10 s reconnect timer, and drops what it has until then.
    wait_until("the GraphiteWriter's connection", graphite.connected, 20, icinga.log)
    host = lab.scenario("healthy").host
    result = icinga.check(host, SERVICE)
    labels = set(perfdata(result))
    assert {"days_left", "time", "nodes", "nodes_ok"} <= labels
    prefix = f"icinga2.{host.replace('.', '_')}.services.{SERVICE}.outlook_anywhere.perfdata."

    def arrived() -> dict[str, str] | None:
        metrics = graphite.metrics(prefix)
        got = {path.rsplit(".", 1)[0] for path in metrics if path.endswith(".value")}
        return metrics if got >= labels else None

    metrics = wait_until("every metric at the Graphite receiver", arrived, 15, icinga.log)
    values = {path[: -len(".value")]: v for path, v in metrics.items() if path.endswith(".value")}
    assert set(values) == labels, f"dropped or unexpected metrics: {set(values) ^ labels}"
    assert float(values["nodes"]) == 3 and float(values["nodes_ok"]) == 3
    assert 299 <= float(values["days_left"]) <= 300.1
    assert float(values["time"]) > 0
    # nodes_ok carries its maximum; days_left's thresholds are ranges ("30:"), which the
    # writer cannot express as numbers and leaves out (README: Graphing the performance data).
    assert float(metrics["nodes_ok.max"]) == 3
    assert "days_left.warn" not in metrics and "days_left.crit" not in metrics


def written_perfdata(directory: Path, service: str) -> dict[str, str] | None:
    """The last SERVICEPERFDATA the PerfdataWriter wrote for ``service``, as label -> value."""
    found = None
    for path in sorted(directory.glob("service-perfdata.*")):
        for line in path.read_text(errors="replace").splitlines():
            fields = dict(f.split("::", 1) for f in line.split("\t") if "::" in f)
            if fields.get("SERVICEDESC") == service and fields.get("SERVICEPERFDATA"):
                found = dict(i.split("=", 1) for i in fields["SERVICEPERFDATA"].split())
    return found


def test_revocation_reaches_the_perfdata_writer(
    icinga: Icinga2, lab: Lab, perfdata_dir: Path
) -> None:
    host = lab.scenario("rev-ok").host
    result = icinga.check(host, SERVICE)
    assert "--revocation" in result["command"], result["command"]
    assert result["state"] == 0, result
    assert "not revoked" in result["output"], result["output"]
    hours = float(perfdata(result)["crl_hours_left"])
    assert 0 < hours <= 7 * 24, hours

    def written() -> dict[str, str] | None:
        found = written_perfdata(perfdata_dir, SERVICE)
        return found if found and "crl_hours_left" in found else None

    line = wait_until("crl_hours_left in the PerfdataWriter's file", written, 15, icinga.log)
    assert float(line["crl_hours_left"]) == hours


@pytest.mark.parametrize("protocol", ["rpc", "mapi"])
def test_logon_checks_record_state_and_perfdata(icinga: Icinga2, protocol: str) -> None:
    """--rpc --logon and --mapi --logon, the password only in the plugin's environment (Basic:
    the array offers nothing else, and the packaged plugin has no pyspnego on Debian 12)."""
    result = icinga.check("logon", f"logon-{protocol}")
    command = result["command"]
    assert "--logon" in command and f"--{protocol}" in command, command
    assert not any(PASSWORD in part for part in command), command
    assert result["state"] == 0 and result["exit_status"] == 0, (result["output"], command)
    assert result["output"].startswith(STATUS_PREFIX[0] + "1/1 nodes OK"), result["output"]
    perf = perfdata(result)
    assert perf["nodes_ok"] == "1;;;0;1", perf
    assert "logon_time" in perf, perf
    assert ("rpc_endpoint_time" if protocol == "rpc" else "mapi_time") in perf, perf
    if protocol == "mapi":  # the mailbox logon: Connect, PING in its session, Disconnect
        assert "mailbox_logon_time" in perf, perf
        assert "logged on: mailbox logon" in result["output"].split("\n", 1)[0], result["output"]


def test_every_example_rule_runs_without_unknown(icinga: Icinga2, lab: Lab, lab_ca: Path) -> None:
    """The example's rules on the hosts its comments show (pointed at the lab): every service
    they apply runs, and none is UNKNOWN (a configuration the plugin refuses, such as --logon
    without --rpc or --mapi, is UNKNOWN)."""
    hosts = example_hosts(lab, lab_ca)
    assert len(hosts) == 4, hosts  # rules 1 to 4 each show one
    checked = []
    for host in hosts:
        query = urllib.parse.urlencode({"filter": f'host.name=="{host}"', "attrs": "name"})
        services = [
            r["attrs"]["name"]
            for r in icinga.api("GET", f"/v1/objects/services?{query}")["results"]
        ]
        assert services, f"no example rule applies to {host}"
        for service in services:
            result = icinga.check(host, service)
            checked.append(f"{host}!{service}")
            assert result["state"] != 3, (host, service, result["output"], result["command"])
    # the array, the node by address, Autodiscover twice (rule 3 also on the logon host), logon
    assert len(checked) == 5, checked
