"""An independent witness: impacket's RPC over HTTP v2 client (``impacket.dcerpc.v5.rpch``, a
client known to work against real Exchange) against the lab's front end, and the plugin's PDUs
against impacket's where [MS-RPCH] fixes the bytes.  impacket is a test-only dependency (the
``test`` extra), never the plugin's.

The logon is NTLM on the HTTP layer without a channel binding (impacket sends none), so the
node is one with Extended Protection off; the client does what it does against Exchange: the
IN channel, the OUT channel (each authenticated, waiting for ``100 Continue``), CONN/A1 and
CONN/B1, then CONN/A3 and CONN/C2 read from the chunked OUT channel."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from contrib.lab.web import PASSWORD, exchange_server
from outlook_anywhere.transport import rts

rpch = pytest.importorskip("impacket.dcerpc.v5.rpch")
transport = pytest.importorskip("impacket.dcerpc.v5.transport")

HOST = "logon-ep-off.contoso.test"
# impacket's own TLS context, unverified (it is the witness here, not the plugin)
pytestmark = pytest.mark.filterwarnings("ignore:ssl.PROTOCOL_TLS is deprecated")


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def test_impacket_completes_the_virtual_connection_up_to_conn_c2(lab: Lab) -> None:
    [address] = lab.web.addresses(HOST)
    client = transport.HTTPTransport(exchange_server(HOST), 6001)
    client.set_rpc_proxy_url(f"https://{address}:{lab.web.port}/rpc/rpcproxy.dll")
    client.set_credentials("logon-ep-off@contoso.test", PASSWORD)
    client.set_connect_timeout(10)
    try:
        client.connect()  # IN and OUT channel, CONN/A1 and /B1, CONN/A3 and /C2 read and parsed
    finally:
        client.disconnect()
    seen = lab.web.requests(address=address)
    path = f"/rpc/rpcproxy.dll?{exchange_server(HOST)}:6001"
    accepted = [(s.method, s.path, s.rts) for s in seen if s.outcome == "accepted"]
    assert sorted(accepted) == [
        ("RPC_IN_DATA", path, ["CONN/B1"]),
        ("RPC_OUT_DATA", path, ["CONN/A1"]),
    ]
    [out] = [s for s in seen if s.method == "RPC_OUT_DATA" and s.outcome == "accepted"]
    assert out.sent == ["CONN/A3", "CONN/C2"]


def test_conn_a1_is_impacket_s() -> None:
    connection, channel = os.urandom(16), os.urandom(16)
    ours = rts.conn_a1(connection, channel)
    assert ours == rpch.hCONN_A1(connection, channel, rts.RECEIVE_WINDOW)
    assert len(ours) == 76
    # the receive window is the one field where the two choose (8 to 256 KiB, 2.2.3.5.1)
    theirs = rpch.hCONN_A1(connection, channel)
    assert ours[:-4] == theirs[:-4] and ours[-4:] != theirs[-4:]


def test_conn_b1_is_impacket_s() -> None:
    connection, channel, group = os.urandom(16), os.urandom(16), os.urandom(16)
    ours = rts.conn_b1(connection, channel, group)
    assert ours == rpch.hCONN_B1(connection, channel, group)
    assert len(ours) == 104


def test_the_echo_is_impacket_s() -> None:
    """The proxy's echo answer (2.2.4.47) as impacket lays out an RTS PDU with the echo flag:
    what the plugin reads as the echo."""
    packet = rpch.RTSHeader()
    packet["Flags"] = rpch.RTS_FLAG_ECHO
    theirs = packet.getData()
    assert len(theirs) == 20
    [pdu] = rts.Reader().feed(theirs)
    assert pdu.name == rts.ECHO
    assert rts.rts_pdu(rts.FLAG_ECHO, []) == theirs


def test_impacket_reads_the_plugin_s_pdus() -> None:
    connection, channel, group = os.urandom(16), os.urandom(16), os.urandom(16)
    a1 = rpch.CONN_A1_RTS_PDU(rpch.RTSHeader(rts.conn_a1(connection, channel))["pduData"])
    assert a1["VirtualConnectionCookie"]["Cookie"]["Cookie"] == connection
    assert a1["OutChannelCookie"]["Cookie"]["Cookie"] == channel
    assert a1["ReceiveWindowSize"]["ReceiveWindowSize"] == rts.RECEIVE_WINDOW
    b1 = rpch.CONN_B1_RTS_PDU(rpch.RTSHeader(rts.conn_b1(connection, channel, group))["pduData"])
    assert b1["INChannelCookie"]["Cookie"]["Cookie"] == channel
    assert b1["ChannelLifetime"]["ChannelLifetime"] == rts.CHANNEL_LIFETIME_BYTES
    assert b1["AssociationGroupId"]["AssociationGroupId"]["Cookie"] == group


def test_impacket_is_a_test_dependency_only() -> None:
    import configparser
    from pathlib import Path

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parent.parent / "setup.cfg")
    assert "impacket" not in cfg["options"]["install_requires"]
    assert "impacket" not in cfg["options.extras_require"]["ntlm"]
    assert "impacket>=" in cfg["options.extras_require"]["test"]
    plugin = Path(__file__).resolve().parent.parent / "plugins"
    assert not [p for p in plugin.rglob("*.py") if "impacket" in p.read_text(encoding="utf-8")]
