"""The numbers of [MS-RPCH] that ``transport.rts`` holds, each against the specification: the
RTS flags (2.2.3.5.1), the command types and the size of each command's payload (2.2.3.5), the
IN channel's Content-Length (2.1.2.1.1); and the reader's bounds at their edges: the default
limit of 1 MiB, the first 16 bytes kept as evidence, the cookie's size.  In-process, bytes
only; tests/test_rts.py holds the PDUs the client builds and the proxy sends."""

from __future__ import annotations

import struct

import pytest

from outlook_anywhere.transport import rts
from tests.test_rts import A3, C2, proxy_pdu, u32


def test_the_rts_flags_are_those_of_ms_rpch() -> None:
    flags = (
        rts.FLAG_NONE, rts.FLAG_PING, rts.FLAG_OTHER_CMD, rts.FLAG_RECYCLE_CHANNEL,
        rts.FLAG_IN_CHANNEL, rts.FLAG_OUT_CHANNEL, rts.FLAG_EOF, rts.FLAG_ECHO,
    )  # fmt: skip
    assert flags == (0x0, 0x1, 0x2, 0x4, 0x8, 0x10, 0x20, 0x40)


def test_the_command_types_are_those_of_ms_rpch() -> None:
    types = (
        rts.RECEIVE_WINDOW_SIZE, rts.FLOW_CONTROL_ACK, rts.CONNECTION_TIMEOUT, rts.COOKIE,
        rts.CHANNEL_LIFETIME, rts.CLIENT_KEEPALIVE, rts.VERSION, rts.EMPTY, rts.PADDING,
        rts.NEGATIVE_ANCE, rts.ANCE, rts.CLIENT_ADDRESS, rts.ASSOCIATION_GROUP_ID,
        rts.DESTINATION, rts.PING_TRAFFIC_SENT_NOTIFY,
    )  # fmt: skip
    assert types == tuple(range(15))


def test_the_in_channel_declares_one_gib() -> None:
    assert rts.IN_CHANNEL_LENGTH == 1024 * 1024 * 1024


# Each command with a fixed payload, and the size of that payload ([MS-RPCH] 2.2.3.5.1-15)
FIXED = [(0, 4), (1, 24), (2, 4), (3, 16), (4, 4), (5, 4), (6, 4), (7, 0), (9, 0), (10, 0),
         (12, 16), (13, 4), (14, 4)]  # fmt: skip


@pytest.mark.parametrize(("kind", "size"), FIXED)
def test_each_command_is_read_with_its_payload(kind: int, size: int) -> None:
    payload = bytes(range(1, size + 1))
    reader = rts.Reader()
    [pdu] = reader.feed(proxy_pdu(0, u32(kind) + payload))
    value = struct.unpack("<I", payload)[0] if size == 4 else (payload or None)
    assert pdu.commands == ((kind, value),)
    assert reader.failure == ""


@pytest.mark.parametrize(("kind", "size"), FIXED)
def test_a_command_with_a_byte_more_or_less_is_refused(kind: int, size: int) -> None:
    longer = rts.Reader()
    assert longer.feed(proxy_pdu(0, u32(kind) + b"\1" * (size + 1))) == []
    assert longer.failure == "bad-length"
    if size:
        shorter = rts.Reader()
        assert shorter.feed(proxy_pdu(0, u32(kind) + b"\1" * (size - 1))) == []
        assert shorter.failure == "bad-command"


def test_a_client_address_is_read_by_its_family() -> None:
    ipv4 = u32(11) + u32(0) + b"\x7f\0\0\1" + b"\0" * 12
    ipv6 = u32(11) + u32(1) + b"\0" * 15 + b"\1" + b"\0" * 12
    [four, six] = rts.Reader().feed(proxy_pdu(0, ipv4) + proxy_pdu(0, ipv6))
    assert four.commands == ((11, ipv4[4:]),)
    assert six.commands == ((11, ipv6[4:]),)
    cut = rts.Reader()
    assert cut.feed(proxy_pdu(0, u32(11) + u32(0) + b"\0" * 15)) == []
    assert cut.failure == "bad-command"
    no_family = rts.Reader()
    assert no_family.feed(proxy_pdu(0, u32(11))) == []
    assert no_family.failure == "bad-command"


def test_padding_is_read_as_its_length() -> None:
    [pdu] = rts.Reader().feed(proxy_pdu(0, u32(8) + u32(3) + b"abc"))
    assert pdu.commands == ((8, 3),)
    [empty] = rts.Reader().feed(proxy_pdu(0, u32(8) + u32(0)))
    assert empty.commands == ((8, 0),)
    no_length = rts.Reader()
    assert no_length.feed(proxy_pdu(0, u32(8))) == []
    assert no_length.failure == "bad-command"


def test_a_cookie_of_another_size_is_refused_saying_so() -> None:
    with pytest.raises(ValueError, match=r"^a cookie is 16 bytes$"):
        rts.cookie_command(b"x" * 17)
    with pytest.raises(ValueError, match=r"^a cookie is 16 bytes$"):
        rts.conn_b1(bytes(16), bytes(16), b"x" * 17)


def test_a_pdu_is_shown_by_its_name_flags_and_commands() -> None:
    [pdu] = rts.Reader().feed(A3)
    assert repr(pdu) == "Pdu(CONN/A3, flags=0x0000, commands=((2, 120000),))"
    assert rts.Pdu(rts.PTYPE_RTS, commands=((2, 1),)).name == "CONN/A3"  # no flags by default
    assert rts.Pdu(rts.PTYPE_RTS).flags == 0
    assert rts.Pdu(rts.PTYPE_FAULT).status is None
    assert rts.Pdu(rts.PTYPE_RTS, commands=((2, 1), (6, 1))).value(rts.VERSION) == 1
    assert rts.Pdu(rts.PTYPE_RTS, commands=((2, 1),)).value(rts.VERSION) is None


@pytest.mark.parametrize(
    ("flags", "types", "name"),
    [
        (0x40, (), "echo"),
        (0x41, (), "echo"),
        (0x40, (2,), "other"),
        (0, (2,), "CONN/A3"),
        (0x02, (2,), "other"),
        (0, (6, 0, 2), "CONN/C2"),
        (0x10, (6, 0, 2), "other"),
        (0, (6, 2, 0), "other"),
        (0, (0, 2), "other"),
        (0, (), "other"),
    ],
)
def test_a_pdu_is_named_by_its_flags_and_command_types(
    flags: int, types: tuple[int, ...], name: str
) -> None:
    assert rts.Pdu(rts.PTYPE_RTS, flags, tuple((t, 0) for t in types)).name == name


def padding_pdus(total: int) -> bytes:
    """RTS PDUs of padding, ``total`` bytes in all (each at most 0xFFFF)."""
    data = b""
    while total:
        size = min(total, 0xFFF0)
        if total - size and total - size < 28:
            size -= 28
        data += proxy_pdu(0, u32(8) + u32(size - 28) + b"\0" * (size - 28))
        total -= size
    return data


def test_the_default_limit_is_one_mib_exactly() -> None:
    reader = rts.Reader()
    pdus = reader.feed(padding_pdus(1024 * 1024))
    assert reader.failure == "" and len(pdus) == 17
    assert reader.feed(A3[:1]) == []  # one byte over the limit
    assert reader.failure == "too-long"
    assert not reader.truncated()


def test_a_limit_counts_every_byte_fed() -> None:
    reader = rts.Reader(limit=len(A3) + len(C2))
    assert [p.name for p in reader.feed(A3)] == ["CONN/A3"]
    assert [p.name for p in reader.feed(C2)] == ["CONN/C2"]
    assert reader.failure == ""
    assert reader.feed(A3[:1]) == [] and reader.failure == "too-long"


def test_the_first_16_bytes_are_kept_as_evidence() -> None:
    reader = rts.Reader()
    reader.feed(b"")
    assert reader.first_bytes == b""
    reader.feed(b"HTTP/1.1 200 OK\r\nServer: x")
    assert reader.first_bytes == b"HTTP/1.1 200 OK\r"
    short = rts.Reader()
    short.feed(b"HTTP/1.1")  # not RTS: nothing more is read, nor kept
    short.feed(b" 200 OK")
    assert short.first_bytes == b"HTTP/1.1"
    pieces = rts.Reader()
    for piece in (A3[:10], A3[10:20], A3[20:]):
        pieces.feed(piece)
    assert pieces.first_bytes == A3[:16]
    whole = rts.Reader()
    whole.feed(A3 + C2)
    assert whole.first_bytes == A3[:16]


def test_a_whole_header_is_judged_as_soon_as_it_is_there() -> None:
    """16 bytes are a whole common header: a foreign one is refused at once, not when more
    bytes come."""
    reader = rts.Reader()
    assert reader.feed(bytes([5, 1]) + A3[2:16]) == []
    assert reader.failure == "not-rts"


def test_only_the_integer_format_of_the_data_representation_counts() -> None:
    """drep's first byte: integer format in the high nibble (1: little-endian), character
    format in the low one (1: EBCDIC), which RTS does not use."""
    ebcdic = A3[:4] + b"\x11" + A3[5:]
    [pdu] = rts.Reader().feed(ebcdic)
    assert pdu.name == "CONN/A3"


@pytest.mark.parametrize("length", [16, 19])
def test_a_pdu_too_short_for_its_rts_header_is_a_bad_length(length: int) -> None:
    reader = rts.Reader()
    assert reader.feed(A3[:8] + struct.pack("<H", length) + A3[10:16] + bytes(length - 16)) == []
    assert reader.failure == "bad-length"
