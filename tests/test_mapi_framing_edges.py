"""The meta-tag framing of MAPI over HTTP answers ([MS-OXCMAPIHTTP] 2.2.2.2) at its edges,
in-process (``transport.mapihttp`` does no I/O): the additional headers after DONE cut off before
their blank line, and a line there that is no header."""

from __future__ import annotations

from outlook_anywhere.transport import mapihttp


def test_additional_headers_cut_off_before_their_blank_line_give_no_body() -> None:
    """The headers read so far are kept (X-ResponseCode says what the server meant); without
    the blank line no byte after them is the binary body."""
    found = mapihttp.unframe(b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 3")
    assert (found.headers, found.body, found.framed) == ({"x-responsecode": "0"}, b"", True)


def test_a_line_without_colon_among_the_additional_headers_is_skipped() -> None:
    data = b"DONE\r\nX-ResponseCode: 0\r\ngarbage\r\nX-StartTime: now\r\n\r\n\x05\x00"
    found = mapihttp.unframe(data)
    assert found.headers == {"x-responsecode": "0", "x-starttime": "now"}
    assert (found.body, found.framed) == (b"\x05\x00", True)
