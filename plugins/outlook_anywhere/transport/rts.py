"""RPC over HTTP v2 RTS PDUs ([MS-RPCH] 2.2.3 and 2.2.4): built and read as bytes, no I/O.

An Outlook Anywhere client opens a virtual connection with two HTTP requests: the OUT channel
(``RPC_OUT_DATA`` whose body is CONN/A1) and the IN channel (``RPC_IN_DATA`` whose body starts
with CONN/B1).  The proxy answers the OUT channel with a stream of RTS PDUs: CONN/A3, then
CONN/C2 once the RPC endpoint behind it answered.  An echo is answered with one RTS PDU carrying
the echo flag.

:func:`conn_a1` and :func:`conn_b1` build the client's PDUs; :class:`Reader` takes the bytes of
a response as they arrive and hands back whole PDUs.  Whatever a server sends, the reader never
raises: bytes that are not RTS set :attr:`Reader.failure` to a kind (``not-rts``, ``bad-length``,
``bad-command``, ``too-long``) and it reads nothing more.
"""

from __future__ import annotations

import struct

# The common header of a connection-oriented DCE/RPC PDU: rpc_vers, rpc_vers_minor, PTYPE,
# pfc_flags, packed_drep (little-endian integers, ASCII, IEEE floats), frag_length,
# auth_length, call_id.
HEADER = struct.Struct("<BBBB4sHHI")
HEADER_SIZE = HEADER.size  # 16
RTS_HEADER = struct.Struct("<HH")  # Flags, NumberOfCommands
RPC_VERSION = 5
PTYPE_FAULT = 3
PTYPE_RTS = 20
PFC_FIRST_LAST = 0x03
DREP_LITTLE_ENDIAN = b"\x10\x00\x00\x00"

# RTS flags
FLAG_NONE = 0x0000
FLAG_PING = 0x0001
FLAG_OTHER_CMD = 0x0002
FLAG_RECYCLE_CHANNEL = 0x0004
FLAG_IN_CHANNEL = 0x0008
FLAG_OUT_CHANNEL = 0x0010
FLAG_EOF = 0x0020
FLAG_ECHO = 0x0040

# RTS command types and the fixed size of their payloads (Padding and ClientAddress vary)
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
_PAYLOAD = {
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
_U32 = struct.Struct("<I")

# What clients send ([MS-RPCH] 3.2.2.3.5; Windows' values)
RECEIVE_WINDOW = 65536
CHANNEL_LIFETIME_BYTES = 0x40000000
KEEPALIVE_MS = 300000
# The Content-Length of an IN channel request: clients use 1 GiB (the body never completes)
IN_CHANNEL_LENGTH = 0x40000000
# The longest PDU read (frag_length is 16 bits; the proxy's are tens of bytes)
MAX_PDU = 0xFFFF

# Names of the PDUs read (the failure kinds of a reader are separate, see Reader.failure)
ECHO = "echo"
CONN_A3 = "CONN/A3"
CONN_C2 = "CONN/C2"
FAULT = "fault"
OTHER = "other"


def cookie_command(value: bytes) -> bytes:
    if len(value) != 16:
        raise ValueError("a cookie is 16 bytes")
    return _U32.pack(COOKIE) + value


def _u32_command(kind: int, value: int) -> bytes:
    return _U32.pack(kind) + _U32.pack(value)


def rts_pdu(flags: int, commands: list[bytes]) -> bytes:
    """An RTS PDU: the common header, Flags, NumberOfCommands, the commands as given."""
    body = RTS_HEADER.pack(flags, len(commands)) + b"".join(commands)
    length = HEADER_SIZE + len(body)
    header = HEADER.pack(
        RPC_VERSION, 0, PTYPE_RTS, PFC_FIRST_LAST, DREP_LITTLE_ENDIAN, length, 0, 0
    )
    return header + body


def conn_a1(virtual_connection: bytes, out_channel: bytes, window: int = RECEIVE_WINDOW) -> bytes:
    """CONN/A1, the OUT channel's body (76 bytes)."""
    return rts_pdu(
        FLAG_NONE,
        [
            _u32_command(VERSION, 1),
            cookie_command(virtual_connection),
            cookie_command(out_channel),
            _u32_command(RECEIVE_WINDOW_SIZE, window),
        ],
    )


def conn_b1(
    virtual_connection: bytes,
    in_channel: bytes,
    association_group: bytes,
    lifetime: int = CHANNEL_LIFETIME_BYTES,
    keepalive: int = KEEPALIVE_MS,
) -> bytes:
    """CONN/B1, the start of the IN channel's body (104 bytes)."""
    return rts_pdu(
        FLAG_NONE,
        [
            _u32_command(VERSION, 1),
            cookie_command(virtual_connection),
            cookie_command(in_channel),
            _u32_command(CHANNEL_LIFETIME, lifetime),
            _u32_command(CLIENT_KEEPALIVE, keepalive),
            _U32.pack(ASSOCIATION_GROUP_ID) + _cookie(association_group),
        ],
    )


def _cookie(value: bytes) -> bytes:
    if len(value) != 16:
        raise ValueError("a cookie is 16 bytes")
    return value


class Pdu:
    """One PDU read: its type, RTS flags and commands as (type, value) pairs (a u32 value, the
    bytes of a cookie or padding, None for commands without one); ``status`` of a fault."""

    __slots__ = ("commands", "flags", "ptype", "status")

    def __init__(
        self,
        ptype: int,
        flags: int = 0,
        commands: tuple[tuple[int, object], ...] = (),
        status: int | None = None,
    ) -> None:
        self.ptype = ptype
        self.flags = flags
        self.commands = commands
        self.status = status

    def __repr__(self) -> str:
        return f"Pdu({self.name}, flags={self.flags:#06x}, commands={self.commands!r})"

    def command_types(self) -> tuple[int, ...]:
        return tuple(kind for kind, _ in self.commands)

    def value(self, kind: int) -> object:
        return next((value for k, value in self.commands if k == kind), None)

    @property
    def name(self) -> str:
        """``echo``, ``CONN/A3``, ``CONN/C2``, ``fault`` or ``other``."""
        if self.ptype == PTYPE_FAULT:
            return FAULT
        types = self.command_types()
        if self.flags & FLAG_ECHO and not types:
            return ECHO
        if self.flags == FLAG_NONE and types == (CONNECTION_TIMEOUT,):
            return CONN_A3
        if self.flags == FLAG_NONE and types == (VERSION, RECEIVE_WINDOW_SIZE, CONNECTION_TIMEOUT):
            return CONN_C2
        return OTHER


class Reader:
    """PDUs out of a byte stream, fed as it arrives; never raises on what a server sends.

    :meth:`feed` returns the PDUs completed by the new bytes.  Once the stream is not RTS,
    :attr:`failure` says how (``not-rts``: not an RPC PDU at all, ``bad-length``: a length
    that cannot be, ``bad-command``: an unknown command or one cut off, ``too-long``: more
    bytes than ``limit`` without the PDU the caller waits for) and every later feed returns
    nothing.  :meth:`truncated` tells whether the stream stopped in the middle of a PDU."""

    def __init__(self, limit: int = 1024 * 1024) -> None:
        self.buffer = b""
        self.failure = ""
        self.first_bytes = b""  # evidence: what a server that does not speak RTS sent
        self.total = 0
        self.limit = limit

    def feed(self, data: bytes) -> list[Pdu]:
        if self.failure:
            return []
        if len(self.first_bytes) < 16:
            self.first_bytes += data[: 16 - len(self.first_bytes)]
        self.total += len(data)
        self.buffer += data
        found = []
        while not self.failure:
            pdu = self._next()
            if pdu is None:
                break
            found.append(pdu)
        if not self.failure and self.total > self.limit:
            self.failure = "too-long"
        if self.failure:
            self.buffer = b""
        return found

    def truncated(self) -> bool:
        return bool(self.buffer) and not self.failure

    def _next(self) -> Pdu | None:
        if len(self.buffer) < HEADER_SIZE:
            if self.buffer and self.buffer[0] != RPC_VERSION:
                self.failure = "not-rts"
            return None
        version, minor, ptype, _, drep, length, auth_length, _ = HEADER.unpack_from(self.buffer)
        if version != RPC_VERSION or minor != 0 or ptype not in (PTYPE_RTS, PTYPE_FAULT):
            self.failure = "not-rts"
            return None
        if drep[0] & 0xF0 != 0x10:  # big-endian integers: no proxy sends them
            self.failure = "not-rts"
            return None
        if length < HEADER_SIZE + 4 or auth_length != 0:
            self.failure = "bad-length"
            return None
        if len(self.buffer) < length:
            return None
        data, self.buffer = self.buffer[:length], self.buffer[length:]
        if ptype == PTYPE_FAULT:
            # the fault's status follows alloc_hint, p_cont_id, cancel_count and a reserved byte
            status = _U32.unpack_from(data, 24)[0] if length >= 28 else None
            return Pdu(PTYPE_FAULT, status=status)
        return self._rts(data)

    def _rts(self, data: bytes) -> Pdu | None:
        flags, count = RTS_HEADER.unpack_from(data, HEADER_SIZE)
        at = HEADER_SIZE + RTS_HEADER.size
        commands: list[tuple[int, object]] = []
        for _ in range(count):
            if at + 4 > len(data):
                self.failure = "bad-command"
                return None
            kind = _U32.unpack_from(data, at)[0]
            at += 4
            size = _payload_size(kind, data, at)
            if size is None or at + size > len(data):
                self.failure = "bad-command"
                return None
            payload = data[at : at + size]
            at += size
            commands.append((kind, _value(kind, payload)))
        if at != len(data):
            self.failure = "bad-length"
            return None
        return Pdu(PTYPE_RTS, flags, tuple(commands))


def _payload_size(kind: int, data: bytes, at: int) -> int | None:
    if kind in _PAYLOAD:
        return _PAYLOAD[kind]
    if kind == PADDING:
        if at + 4 > len(data):
            return None
        return 4 + int(_U32.unpack_from(data, at)[0])
    if kind == CLIENT_ADDRESS:
        if at + 4 > len(data):
            return None
        family = _U32.unpack_from(data, at)[0]
        if family not in (0, 1):
            return None
        return 4 + (4 if family == 0 else 16) + 12
    return None


def _value(kind: int, payload: bytes) -> object:
    if len(payload) == 4:
        return _U32.unpack(payload)[0]
    if kind == PADDING:
        return len(payload) - 4
    return payload or None
