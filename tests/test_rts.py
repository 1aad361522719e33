"""RTS PDUs byte by byte, against the layout of [MS-RPCH] 2.2.3 and 2.2.4: the client's CONN/A1
and CONN/B1, and the proxy's echo, CONN/A3, CONN/C2 and faults read back; truncated and
foreign bytes end in a failure kind, never an exception."""

from __future__ import annotations

import os
import struct

import pytest

from outlook_anywhere.transport import rts

VC = bytes(range(16))
OUT = bytes(range(16, 32))
IN = bytes(range(32, 48))
GROUP = bytes(range(48, 64))


def header(ptype: int, length: int) -> bytes:
    # rpc_vers 5, minor 0, PTYPE, pfc_flags first|last, drep little-endian, frag_length,
    # auth_length 0, call_id 0
    return bytes([5, 0, ptype, 3, 0x10, 0, 0, 0]) + struct.pack("<HHI", length, 0, 0)


def u32(value: int) -> bytes:
    return struct.pack("<I", value)


def proxy_pdu(flags: int, *commands: bytes) -> bytes:
    body = struct.pack("<HH", flags, len(commands)) + b"".join(commands)
    return header(20, 16 + len(body)) + body


ECHO = proxy_pdu(0x40)
A3 = proxy_pdu(0, u32(2) + u32(120000))
C2 = proxy_pdu(0, u32(6) + u32(1), u32(0) + u32(65536), u32(2) + u32(120000))


def test_conn_a1_is_76_bytes_as_laid_out() -> None:
    pdu = rts.conn_a1(VC, OUT)
    expected = (
        header(20, 76)
        + struct.pack("<HH", 0, 4)
        + u32(6) + u32(1)
        + u32(3) + VC
        + u32(3) + OUT
        + u32(0) + u32(65536)
    )  # fmt: skip
    assert len(pdu) == 76
    assert pdu == expected


def test_conn_b1_is_104_bytes_as_laid_out() -> None:
    pdu = rts.conn_b1(VC, IN, GROUP)
    expected = (
        header(20, 104)
        + struct.pack("<HH", 0, 6)
        + u32(6) + u32(1)
        + u32(3) + VC
        + u32(3) + IN
        + u32(4) + u32(0x40000000)
        + u32(5) + u32(300000)
        + u32(12) + GROUP
    )  # fmt: skip
    assert len(pdu) == 104
    assert pdu == expected


def test_header_fields_of_a_built_pdu() -> None:
    pdu = rts.conn_a1(VC, OUT)
    assert pdu[0] == 5 and pdu[1] == 0  # version 5.0
    assert pdu[2] == 0x14  # rts
    assert pdu[3] == 0x03  # first and last fragment
    assert pdu[4:8] == b"\x10\x00\x00\x00"
    assert struct.unpack_from("<HHI", pdu, 8) == (76, 0, 0)


def test_a_cookie_must_be_16_bytes() -> None:
    with pytest.raises(ValueError):
        rts.conn_a1(b"short", OUT)
    with pytest.raises(ValueError):
        rts.conn_b1(VC, IN, b"x" * 15)


@pytest.mark.parametrize(
    ("data", "name", "length"),
    [(ECHO, "echo", 20), (A3, "CONN/A3", 28), (C2, "CONN/C2", 44)],
)
def test_the_proxy_pdus_are_read(data: bytes, name: str, length: int) -> None:
    assert len(data) == length
    reader = rts.Reader()
    [pdu] = reader.feed(data)
    assert pdu.name == name
    assert reader.failure == "" and not reader.truncated()


def test_c2_values_are_read() -> None:
    [pdu] = rts.Reader().feed(C2)
    assert pdu.commands == ((6, 1), (0, 65536), (2, 120000))
    assert pdu.value(rts.CONNECTION_TIMEOUT) == 120000


def test_a_stream_fed_byte_by_byte_gives_its_pdus_in_order() -> None:
    reader = rts.Reader()
    names = []
    for byte in A3 + C2:
        names += [p.name for p in reader.feed(bytes([byte]))]
    assert names == ["CONN/A3", "CONN/C2"]
    assert reader.failure == ""


def test_a_half_pdu_is_truncated_not_a_failure() -> None:
    reader = rts.Reader()
    assert reader.feed(C2[:30]) == []
    assert reader.truncated() and reader.failure == ""


def test_padding_and_other_commands_are_read_as_other() -> None:
    padding = proxy_pdu(0, u32(8) + u32(5) + b"\0" * 5)
    flow = proxy_pdu(0x02, u32(1) + b"\1" * 24, u32(7))
    address = proxy_pdu(0, u32(11) + u32(0) + b"\x7f\0\0\1" + b"\0" * 12)
    pdus = rts.Reader().feed(padding + flow + address)
    assert [p.name for p in pdus] == ["other", "other", "other"]
    assert pdus[0].value(rts.PADDING) == 5


def test_a_fault_pdu_carries_its_status() -> None:
    body = u32(32) + struct.pack("<HBB", 0, 0, 0) + u32(0x6BA) + u32(0)
    fault = header(3, 16 + len(body)) + body
    [pdu] = rts.Reader().feed(fault)
    assert pdu.name == "fault" and pdu.status == 0x6BA


def test_a_fault_pdu_of_exactly_28_bytes_carries_its_status() -> None:
    """The status is the last field of the fault PDU (C706): the shortest fault, 28 bytes, holds
    it."""
    body = u32(32) + struct.pack("<HBB", 0, 0, 0) + u32(0x6BA)
    fault = header(3, 16 + len(body)) + body
    assert len(fault) == 28
    [pdu] = rts.Reader().feed(fault)
    assert (pdu.name, pdu.status) == ("fault", 0x6BA)


@pytest.mark.parametrize("flags", [0x00, 0x02, 0x08])
def test_an_rts_pdu_without_commands_is_an_echo_only_with_the_echo_flag(flags: int) -> None:
    """[MS-RPCH], the Echo RTS PDU: RTS_FLAG_ECHO (0x40) and no commands.  An empty PDU with
    other flags is not an answer to the echo request."""
    [pdu] = rts.Reader().feed(proxy_pdu(flags))
    assert pdu.name == "other"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"<html>hello</html>" * 3, "not-rts"),
        (b"\x00\x01", "not-rts"),
        (header(0, 24) + b"\0" * 8, "not-rts"),  # a request PDU, not RTS
        (bytes([5, 1]) + A3[2:], "not-rts"),  # version 5.1
        (A3[:4] + b"\x00\x00\x00\x00" + A3[8:], "not-rts"),  # big-endian drep
        (header(20, 10) + b"\0" * 10, "bad-length"),  # shorter than a header
        (A3[:10] + struct.pack("<H", 4) + A3[12:], "bad-length"),  # auth_length set
        (proxy_pdu(0, u32(99) + u32(1)), "bad-command"),  # unknown command
        (header(20, 24) + struct.pack("<HH", 0, 1) + u32(2), "bad-command"),  # payload cut off
        (header(20, 20) + struct.pack("<HH", 0, 3), "bad-command"),  # more commands than bytes
        (proxy_pdu(0, u32(8) + u32(0xFFFFFFF0)), "bad-command"),  # padding longer than the PDU
        (proxy_pdu(0, u32(11) + u32(7) + b"\0" * 16), "bad-command"),  # unknown address type
        (header(20, 32) + struct.pack("<HH", 0, 1) + u32(7) + b"\0" * 8, "bad-length"),
    ],
)
def test_foreign_bytes_end_in_a_failure_kind(data: bytes, kind: str) -> None:
    reader = rts.Reader()
    assert reader.feed(data) == []
    assert reader.failure == kind
    assert reader.feed(C2) == []  # nothing more is read once the stream is not RTS


def test_random_bytes_never_raise() -> None:
    for seed in range(300):
        data = os.urandom(seed % 90 + 1)
        if seed % 3 == 0:
            data = A3[:16] + data  # a plausible header, a random body
        reader = rts.Reader()
        for pdu in reader.feed(data):
            assert pdu.name in ("echo", "CONN/A3", "CONN/C2", "fault", "other")
        assert reader.failure in ("", "not-rts", "bad-length", "bad-command")


def test_a_stream_longer_than_the_limit_is_too_long() -> None:
    padding = proxy_pdu(0, u32(8) + u32(1000) + b"\0" * 1000)
    reader = rts.Reader(limit=4096)
    read = 0
    for _ in range(10):
        read += len(reader.feed(padding))
    assert reader.failure == "too-long"
    assert read <= 5
