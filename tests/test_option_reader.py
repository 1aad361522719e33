"""The fast reader of the command line (``read_fast``) against the argparse parser built from the
same option table: on every line the fast reader accepts, both read the same values; a line it
declines goes to argparse, which reads it or words the mistake.  In-process, no lab."""

from __future__ import annotations

from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from outlook_anywhere.check.command_line import OPTIONS, UsageError, build_parser, read_fast

FLAGS = [flag for option in OPTIONS for flag in option.flags]
VALUES = [
    "mail.contoso.test", "127.0.0.1", "::1", "443", "0", "-5", "30", "10:", "@1:2", "cn",
    "cn-or-san", "msstd:mail.contoso.test", "monitor@contoso.test", "Negotiate,NTLM", "2.5",
    "", " ", "https://autodiscover.contoso.test/autodiscover/autodiscover.xml", "x", "-",
    "--", "-vv", "-p443", "--port=443", "--port=", "--host=mail.contoso.test", "--verbose=1",
    "-vV", "vv-", "-4", "/nonexistent", "127.0.0.53:5353", "[::1]:53", "ews,mapi", "all",
    "15.2.1544.4",
]  # fmt: skip


def plain(args: object) -> dict[str, object]:
    """The values read, a threshold as what it holds (text, as given, plain or a range)."""
    values = dict(vars(args))
    for key in ("warning", "critical", "auth_warning", "auth_critical"):
        t = values[key]
        if t is not None:
            values[key] = (t.text, t.given, t.plain)  # type: ignore[attr-defined]
    return values


def argparse_reads(argv: list[str]) -> dict[str, object] | None:
    try:
        return plain(build_parser().parse_args(argv))
    except UsageError:
        return None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(FLAGS + VALUES), max_size=7))
def test_the_fast_reader_never_disagrees_with_argparse(argv: list[str]) -> None:
    fast = read_fast(argv)
    if fast is not None:
        assert plain(fast) == argparse_reads(argv), argv


def test_the_fast_reader_reads_what_monitoring_definitions_write(tmp_path: object) -> None:
    """The forms the Icinga 2 CheckCommand and the Nagios commands produce: read without
    argparse (declining them would cost every check argparse's start-up)."""
    argv = [
        "-H", "mail.contoso.test", "-I", "127.0.0.1", "--address", "::1", "-p", "8443",
        "--principal", "msstd:*.contoso.test", "--match", "cn-or-san", "-w", "45",
        "--critical=@0:7", "--dns-server", "127.0.0.53:5353", "-4", "--rpc",
        "--expect-auth", "Negotiate,NTLM", "-t", "7.5", "-v", "-vv",
    ]  # fmt: skip
    fast = read_fast(argv)
    assert isinstance(fast, SimpleNamespace)
    assert plain(fast) == argparse_reads(argv)
    assert fast.address == ["127.0.0.1", "::1"]
    assert fast.port == 8443 and fast.verbose == 3 and fast.timeout == 7.5
    assert fast.critical.given == "@0:7" and fast.warning.given == "45"
    assert fast.dns_server == ("127.0.0.53", 5353)


def test_an_optional_value_is_read_as_argparse_reads_it() -> None:
    """--health [LIST]: its list, or (at the end, or before the next option) Outlook's."""
    for argv, health in (
        (["-H", "m.contoso.test", "--health"], ("autodiscover", "ews", "oab", "rpc", "mapi")),
        (["--health", "-H", "m.contoso.test"], ("autodiscover", "ews", "oab", "rpc", "mapi")),
        (["--health", "EWS,mapi", "--build"], ("ews", "mapi")),
        (["--health=all"], ("autodiscover", "ews", "oab", "rpc", "mapi", "owa", "ecp",
                            "Microsoft-Server-ActiveSync")),
    ):  # fmt: skip
        fast = read_fast(argv)
        assert fast is not None, argv
        assert fast.health == health, argv
        assert plain(fast) == argparse_reads(argv), argv


def test_the_defaults_are_the_parsers() -> None:
    fast = read_fast([])
    assert fast is not None
    assert plain(fast) == argparse_reads([])
    assert fast.address == [] and fast.address is not read_fast([]).address  # type: ignore[union-attr]


def test_what_the_fast_reader_declines() -> None:
    for argv in (
        ["-p443"],  # an attached short value
        ["-H", "-p"],  # a value that looks like an option
        ["--", "x"],
        ["mail.contoso.test"],  # a positional argument
        ["--hos", "x"],  # no abbreviations, as in the parser
        ["-H", ""],  # a bad value: argparse words it
        ["--rpc=yes"],
        ["-vV"],
        ["vv-"],  # not an option at all
        ["-vxv"],
    ):
        assert read_fast(argv) is None, argv
