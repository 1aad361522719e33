"""An independent witness: impacket's RPC over HTTP v2 client (``impacket.dcerpc.v5.rpch``, a
client known to work against real Exchange) against the lab's front end, and the plugin's PDUs
against impacket's where [MS-RPCH] fixes the bytes.  impacket is a test-only tool, never the
plugin's dependency, in a venv of its own (``build/witness-venv``, pinned by
tests/witness-constraints.txt): it needs pyOpenSSL, which holds cryptography below the release
the suite runs on.  tests/witness/impacket_rpch.py is its side, run as a process.

The logon is NTLM on the HTTP layer without a channel binding (impacket sends none), so the
node is one with Extended Protection off; the client does what it does against Exchange: the
IN channel, the OUT channel (each authenticated, waiting for ``100 Continue``), CONN/A1 and
CONN/B1, then CONN/A3 and CONN/C2 read from the chunked OUT channel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints.logon_hosts import exchange_server
from contrib.lab.identities.accounts import PASSWORD
from outlook_anywhere.transport import rts
from tests.conftest import REPO

HOST = "logon-ep-off.contoso.test"
VENV = REPO / "build" / "witness-venv"
LOCK = REPO / "tests" / "witness-constraints.txt"
CLIENT = REPO / "tests" / "witness" / "impacket_rpch.py"

Witness = Callable[..., dict[str, object]]


def _witness_venv() -> Path:
    """The venv with impacket, made once (pinned, or the newest with `make test-latest`, which
    sets PIP_CONSTRAINT empty); a failed install fails the tests that need it, in CI too."""
    python = VENV / "bin" / "python"
    if not (VENV / ".installed").exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)], check=True)
        pinned = os.environ.get("PIP_CONSTRAINT", str(LOCK)) != ""
        env = {**os.environ, "PIP_CONSTRAINT": str(LOCK) if pinned else ""}
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "impacket"], check=True, env=env, timeout=600)
        (VENV / ".installed").touch()
    return python


@pytest.fixture(scope="module")
def witness() -> Witness:
    python = _witness_venv()

    def run(*args: str) -> dict[str, object]:
        proc = subprocess.run(
            [str(python), str(CLIENT), *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        assert proc.returncode == 0, proc.stderr
        result: dict[str, object] = json.loads(proc.stdout)
        return result

    return run


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def test_impacket_completes_the_virtual_connection_up_to_conn_c2(
    lab: Lab, witness: Witness
) -> None:
    [address] = lab.web.addresses(HOST)
    proxy = f"https://{address}:{lab.web.port}/rpc/rpcproxy.dll"
    server = exchange_server(HOST)
    said = witness("connect", server, proxy, "logon-ep-off@contoso.test", PASSWORD)
    assert said == {"connected": True}
    seen = lab.web.requests(address=address)
    path = f"/rpc/rpcproxy.dll?{exchange_server(HOST)}:6001"
    accepted = [(s.method, s.path, s.rts) for s in seen if s.outcome == "accepted"]
    assert sorted(accepted) == [
        ("RPC_IN_DATA", path, ["CONN/B1"]),
        ("RPC_OUT_DATA", path, ["CONN/A1"]),
    ]
    [out] = [s for s in seen if s.method == "RPC_OUT_DATA" and s.outcome == "accepted"]
    assert out.sent == ["CONN/A3", "CONN/C2"]


def test_the_plugin_s_pdus_are_impacket_s(witness: Witness) -> None:
    """CONN/A1 (76 bytes), CONN/B1 (104) and the echo (20), byte for byte as impacket builds
    them for the same cookies; the receive window is the one field where the two choose (8 to
    256 KiB, [MS-RPCH] 2.2.3.5.1)."""
    connection, channel, group = os.urandom(16), os.urandom(16), os.urandom(16)
    theirs = witness("pdus", connection.hex(), channel.hex(), group.hex(), str(rts.RECEIVE_WINDOW))
    ours_a1 = rts.conn_a1(connection, channel)
    assert (len(ours_a1), ours_a1.hex()) == (76, theirs["a1"])
    own_window = bytes.fromhex(str(theirs["a1_own_window"]))
    assert ours_a1[:-4] == own_window[:-4] and ours_a1[-4:] != own_window[-4:]
    ours_b1 = rts.conn_b1(connection, channel, group)
    assert (len(ours_b1), ours_b1.hex()) == (104, theirs["b1"])
    echo = bytes.fromhex(str(theirs["echo"]))
    assert len(echo) == 20 and rts.rts_pdu(rts.FLAG_ECHO, []) == echo
    [pdu] = rts.Reader().feed(echo)
    assert pdu.name == rts.ECHO


def test_impacket_reads_the_plugin_s_pdus(witness: Witness) -> None:
    connection, channel, group = os.urandom(16), os.urandom(16), os.urandom(16)
    a1, b1 = rts.conn_a1(connection, channel), rts.conn_b1(connection, channel, group)
    assert witness("parse", a1.hex(), b1.hex()) == {
        "a1_connection": connection.hex(),
        "a1_channel": channel.hex(),
        "a1_window": rts.RECEIVE_WINDOW,
        "b1_channel": channel.hex(),
        "b1_lifetime": rts.CHANNEL_LIFETIME_BYTES,
        "b1_group": group.hex(),
    }


def test_impacket_is_a_test_tool_only() -> None:
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg")
    assert "impacket" not in cfg["options"]["install_requires"]
    assert not [e for e, v in cfg["options.extras_require"].items() if "impacket" in v]
    assert "\nimpacket==" in "\n" + LOCK.read_text(encoding="utf-8")
    plugin = REPO / "plugins"
    assert not [p for p in plugin.rglob("*.py") if "impacket" in p.read_text(encoding="utf-8")]
