"""RTS PDUs of RPC over HTTP v2 ([MS-RPCH] 2.2.3.6 and 2.2.4), built and read with ``struct``.

The lab's own encoder, on purpose independent of the plugin's: a PDU is the 16-byte header of a
connection-oriented DCE/RPC PDU (version 5.0, type 20 = rts, flags first|last, little-endian
data representation, fragment length, no authentication, call id 0), then Flags (u16) and
NumberOfCommands (u16), then the commands, each a u32 type and its payload.
"""

from __future__ import annotations

import struct

HEADER = struct.Struct("<BBBB4sHHI")
HEADER_SIZE = HEADER.size  # 16
PTYPE_RTS = 20
PFC_FIRST_LAST = 0x03
DREP = b"\x10\x00\x00\x00"  # little-endian integers, ASCII, IEEE floats
MAX_PDU = 4096  # the largest PDU the lab reads from a client (CONN/B1 is 104 bytes)

FLAG_NONE = 0x0000
FLAG_ECHO = 0x0040

RECEIVE_WINDOW_SIZE = 0
FLOW_CONTROL_ACK = 1
CONNECTION_TIMEOUT = 2
COOKIE = 3
CHANNEL_LIFETIME = 4
CLIENT_KEEPALIVE = 5
VERSION = 6
EMPTY = 7
PADDING = 8
NEGATIVE_ANCE = 9
ANCE = 10
CLIENT_ADDRESS = 11
ASSOCIATION_GROUP_ID = 12
DESTINATION = 13
PING_TRAFFIC_SENT_NOTIFY = 14

# Payload sizes of the fixed-size commands (Padding and ClientAddress carry their own length).
_FIXED = {
    RECEIVE_WINDOW_SIZE: 4,
    FLOW_CONTROL_ACK: 24,
    CONNECTION_TIMEOUT: 4,
    COOKIE: 16,
    CHANNEL_LIFETIME: 4,
    CLIENT_KEEPALIVE: 4,
    VERSION: 4,
    EMPTY: 0,
    NEGATIVE_ANCE: 0,
    ANCE: 0,
    ASSOCIATION_GROUP_ID: 16,
    DESTINATION: 4,
    PING_TRAFFIC_SENT_NOTIFY: 4,
}

# The PDUs of a virtual connection, by their flags and command types (MS-RPCH 2.2.4).
_SHAPES = {
    (FLAG_ECHO, ()): "ECHO",
    (FLAG_NONE, (VERSION, COOKIE, COOKIE, RECEIVE_WINDOW_SIZE)): "CONN/A1",
    (FLAG_NONE, (CONNECTION_TIMEOUT,)): "CONN/A3",
    (
        FLAG_NONE,
        (VERSION, COOKIE, COOKIE, CHANNEL_LIFETIME, CLIENT_KEEPALIVE, ASSOCIATION_GROUP_ID),
    ): "CONN/B1",
    (FLAG_NONE, (VERSION, RECEIVE_WINDOW_SIZE, CONNECTION_TIMEOUT)): "CONN/C2",
}


class RtsError(ValueError):
    """The bytes are not an RTS PDU."""


class Pdu:
    """A parsed RTS PDU: its flags and its commands as (type, payload) pairs."""

    def __init__(self, flags: int, commands: list[tuple[int, bytes]]) -> None:
        self.flags = flags
        self.commands = commands

    @property
    def name(self) -> str:
        """``CONN/A1``, ``CONN/B1``, ``CONN/A3``, ``CONN/C2``, ``ECHO`` or ``RTS``."""
        return _SHAPES.get((self.flags, tuple(t for t, _ in self.commands)), "RTS")

    def values(self, kind: int) -> list[bytes]:
        """The payloads of every command of type ``kind``, in order."""
        return [payload for t, payload in self.commands if t == kind]


def u32(n: int) -> bytes:
    return struct.pack("<I", n)


def build(flags: int, commands: list[tuple[int, bytes]]) -> bytes:
    body = struct.pack("<HH", flags, len(commands))
    body += b"".join(struct.pack("<I", kind) + payload for kind, payload in commands)
    length = HEADER_SIZE + len(body)
    return HEADER.pack(5, 0, PTYPE_RTS, PFC_FIRST_LAST, DREP, length, 0, 0) + body


def echo() -> bytes:
    """The proxy's answer to an echo request (20 bytes)."""
    return build(FLAG_ECHO, [])


def conn_a1(connection: bytes, out_channel: bytes, window: int = 65536) -> bytes:
    """CONN/A1, client -> OUT channel (76 bytes)."""
    return build(
        FLAG_NONE,
        [
            (VERSION, u32(1)),
            (COOKIE, connection),
            (COOKIE, out_channel),
            (RECEIVE_WINDOW_SIZE, u32(window)),
        ],
    )


def conn_b1(connection: bytes, in_channel: bytes, association: bytes) -> bytes:
    """CONN/B1, client -> IN channel (104 bytes)."""
    return build(
        FLAG_NONE,
        [
            (VERSION, u32(1)),
            (COOKIE, connection),
            (COOKIE, in_channel),
            (CHANNEL_LIFETIME, u32(0x40000000)),
            (CLIENT_KEEPALIVE, u32(300000)),
            (ASSOCIATION_GROUP_ID, association),
        ],
    )


def conn_a3(timeout: int = 120000) -> bytes:
    """CONN/A3, proxy -> client on the OUT channel (28 bytes)."""
    return build(FLAG_NONE, [(CONNECTION_TIMEOUT, u32(timeout))])


def conn_c2(window: int = 65536, timeout: int = 120000) -> bytes:
    """CONN/C2, proxy -> client on the OUT channel (44 bytes): the server answered."""
    return build(
        FLAG_NONE,
        [(VERSION, u32(1)), (RECEIVE_WINDOW_SIZE, u32(window)), (CONNECTION_TIMEOUT, u32(timeout))],
    )


def padding(size: int) -> bytes:
    """A PDU with one Padding command of ``size`` zero bytes."""
    return build(FLAG_NONE, [(PADDING, u32(size) + bytes(size))])


def frag_length(header: bytes) -> int:
    """The PDU length a 16-byte header declares (checked to be an RTS header)."""
    if len(header) < HEADER_SIZE:
        raise RtsError("short header")
    vers, minor, ptype, _flags, drep, length, auth, _call = HEADER.unpack_from(header)
    if (vers, minor, ptype) != (5, 0, PTYPE_RTS) or drep[0] & 0xF0 != 0x10 or auth:
        raise RtsError("not an RTS PDU header")
    if not HEADER_SIZE + 4 <= length <= MAX_PDU:
        raise RtsError(f"fragment length {length}")
    return int(length)


def parse(data: bytes) -> Pdu:
    """One whole PDU (exactly ``frag_length`` bytes)."""
    length = frag_length(data)
    if len(data) != length:
        raise RtsError("length does not match the header")
    flags, count = struct.unpack_from("<HH", data, HEADER_SIZE)
    offset = HEADER_SIZE + 4
    commands: list[tuple[int, bytes]] = []
    for _ in range(count):
        if offset + 4 > length:
            raise RtsError("truncated command")
        (kind,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if kind == PADDING:
            if offset + 4 > length:
                raise RtsError("truncated padding")
            size = 4 + struct.unpack_from("<I", data, offset)[0]
        elif kind == CLIENT_ADDRESS:
            if offset + 4 > length:
                raise RtsError("truncated client address")
            family = struct.unpack_from("<I", data, offset)[0]
            size = 4 + (4 if family == 0 else 16) + 12
        elif kind in _FIXED:
            size = _FIXED[kind]
        else:
            raise RtsError(f"unknown command {kind}")
        if offset + size > length:
            raise RtsError("truncated command")
        commands.append((kind, data[offset : offset + size]))
        offset += size
    if offset != length:
        raise RtsError("bytes after the last command")
    return Pdu(flags, commands)
