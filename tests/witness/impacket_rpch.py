"""impacket's side of tests/test_impacket_witness.py, run in a venv of its own
(``build/witness-venv``, pinned by tests/witness-constraints.txt): impacket needs pyOpenSSL,
which holds cryptography below the release the plugin's tests run on, so the two never share a
venv.  Each command prints one JSON object on stdout; a failure is impacket's own traceback on
stderr and a non-zero exit.

    connect SERVER PROXY_URL USER PASSWORD   RPC over HTTP v2 to SERVER:6001 through the proxy
    pdus CONNECTION CHANNEL GROUP WINDOW     impacket's CONN/A1, CONN/B1 and echo PDU (hex)
    parse A1 B1                              the fields impacket reads from two PDUs (hex)
"""

from __future__ import annotations

import json
import sys
import warnings


def connect(server: str, proxy_url: str, user: str, password: str) -> dict[str, object]:
    from impacket.dcerpc.v5 import transport

    client = transport.HTTPTransport(server, 6001)
    client.set_rpc_proxy_url(proxy_url)
    client.set_credentials(user, password)
    client.set_connect_timeout(10)
    try:
        client.connect()  # IN and OUT channel, CONN/A1 and /B1, CONN/A3 and /C2 read and parsed
    finally:
        client.disconnect()
    return {"connected": True}


def pdus(connection: str, channel: str, group: str, window: str) -> dict[str, object]:
    from impacket.dcerpc.v5 import rpch

    c, ch, g = bytes.fromhex(connection), bytes.fromhex(channel), bytes.fromhex(group)
    echo = rpch.RTSHeader()
    echo["Flags"] = rpch.RTS_FLAG_ECHO
    return {
        "a1": rpch.hCONN_A1(c, ch, int(window)).hex(),
        "a1_own_window": rpch.hCONN_A1(c, ch).hex(),
        "b1": rpch.hCONN_B1(c, ch, g).hex(),
        "echo": echo.getData().hex(),
    }


def parse(a1: str, b1: str) -> dict[str, object]:
    from impacket.dcerpc.v5 import rpch

    first = rpch.CONN_A1_RTS_PDU(rpch.RTSHeader(bytes.fromhex(a1))["pduData"])
    second = rpch.CONN_B1_RTS_PDU(rpch.RTSHeader(bytes.fromhex(b1))["pduData"])
    return {
        "a1_connection": first["VirtualConnectionCookie"]["Cookie"]["Cookie"].hex(),
        "a1_channel": first["OutChannelCookie"]["Cookie"]["Cookie"].hex(),
        "a1_window": first["ReceiveWindowSize"]["ReceiveWindowSize"],
        "b1_channel": second["INChannelCookie"]["Cookie"]["Cookie"].hex(),
        "b1_lifetime": second["ChannelLifetime"]["ChannelLifetime"],
        "b1_group": second["AssociationGroupId"]["AssociationGroupId"]["Cookie"].hex(),
    }


if __name__ == "__main__":
    # impacket's own TLS context (it is the witness here, not the plugin) is deprecated in ssl
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    command, *args = sys.argv[1:]
    run = {"connect": connect, "pdus": pdus, "parse": parse}[command]
    print(json.dumps(run(*args)))
