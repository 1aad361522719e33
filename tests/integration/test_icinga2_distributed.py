"""Icinga 2, distributed: a master and an agent on loopback. The CheckCommand exists only in the
master's zones.d/global-templates; config sync carries it to the agent, the service's
command_endpoint makes the agent run the plugin, and the master receives the result."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contrib.lab import Lab

from .conftest import REPO, require_program
from .daemons import free_port, wait_until
from .icinga import ClusterCA, Icinga2

pytestmark = pytest.mark.integration

COMMAND_FILE = REPO / "contrib" / "icinga2" / "outlook_anywhere.conf"
SERVICE = "outlook-anywhere"


def zones(master: Icinga2, agent: Icinga2) -> str:
    """The same zone tree on both endpoints, as `icinga2 node wizard` would write it."""
    return f"""
object Endpoint "{master.endpoint}" {{ host = "127.0.0.1"; port = {master.api_port} }}
object Endpoint "{agent.endpoint}" {{ host = "127.0.0.1"; port = {agent.api_port} }}
object Zone "{master.endpoint}" {{ endpoints = [ "{master.endpoint}" ] }}
object Zone "{agent.endpoint}" {{
  endpoints = [ "{agent.endpoint}" ]
  parent = "{master.endpoint}"
}}
object Zone "global-templates" {{ global = true }}
"""


@pytest.fixture(scope="module")
def cluster(
    scratch: Path, plugin_dir: Path, lab: Lab, lab_ca: Path
) -> Iterator[tuple[Icinga2, Icinga2]]:
    require_program("icinga2")
    ca = ClusterCA()
    master = Icinga2(scratch / "icinga2-master", "master", free_port(), ca)
    agent = Icinga2(scratch / "icinga2-agent", "agent", free_port(), ca)
    tree = zones(master, agent)
    plugin = f'const PluginDir = "{plugin_dir}"\n'
    master.write("icinga2.conf", plugin + master.base_config(zones=tree))
    # The agent has no CheckCommand of its own: it accepts the master's config and commands.
    agent.write(
        "icinga2.conf",
        plugin
        + agent.base_config(zones=tree, extra="accept_config = true\n  accept_commands = true"),
    )
    master.install(COMMAND_FILE, f"global-templates/{COMMAND_FILE.name}", base="zones")
    healthy = lab.scenario("healthy").host
    master.write(
        "master/agent.conf",
        f"""
object Host "{agent.endpoint}" {{
  check_command = "dummy"
  enable_active_checks = false
}}
object Service "{SERVICE}" {{
  host_name = "{agent.endpoint}"
  check_command = "outlook_anywhere"
  command_endpoint = "{agent.endpoint}"
  check_interval = 1h
  vars.outlook_anywhere_host = "{healthy}"
  vars.outlook_anywhere_port = {lab.port}
  vars.outlook_anywhere_dns_server = "{lab.dns_server}"
  vars.outlook_anywhere_ca_file = "{lab_ca}"
}}
""",
        base="zones",
    )
    try:
        for node in (master, agent):
            validation = node.validate()
            assert validation.returncode == 0, validation.stdout + validation.stderr
        agent.start()
        master.start()
        yield master, agent
    finally:
        master.stop()
        agent.stop()


def test_agent_runs_the_synced_command_and_the_master_gets_the_result(
    cluster: tuple[Icinga2, Icinga2], lab: Lab
) -> None:
    master, agent = cluster
    synced = agent.dirs["data"] / "api" / "zones" / "global-templates" / "_etc"

    def executed_by_agent() -> dict[str, Any] | None:
        # Until the agent has the synced command (and has reloaded), the master records an
        # UNKNOWN from the agent or about it: force again until the plugin's own result arrives.
        try:
            result = master.check(agent.endpoint, SERVICE, timeout=3)
        except AssertionError:  # no result yet: the agent is not connected
            return None
        return result if result["output"].startswith("OUTLOOK_ANYWHERE ") else None

    result = wait_until("the agent's result at the master", executed_by_agent, 60, agent.log)
    assert result["check_source"] == agent.endpoint, result
    assert result["state"] == 0, result
    assert result["output"].startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK"), result["output"]
    assert "nodes_ok=3;;;0;3" in result["performance_data"], result
    # The command came by config sync from global-templates, byte for byte.
    assert (synced / COMMAND_FILE.name).read_bytes() == COMMAND_FILE.read_bytes()
    assert not (agent.dirs["etc"] / COMMAND_FILE.name).exists()
