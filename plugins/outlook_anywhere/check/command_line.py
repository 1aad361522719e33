"""The command line: one table of options, read two ways.

:data:`OPTIONS` (:mod:`.option_table`) is the single source of the options.  :func:`read_fast`
reads the forms monitoring definitions write without importing argparse; anything else goes to
the argparse parser :func:`build_parser` builds from the same table, which words every mistake,
prints ``--help`` and feeds the man page (contrib/manpage.py) and the Director basket.
:func:`parse` returns the typed options (the readers of :mod:`.options`), or raises
:class:`UsageError`: a configuration mistake is UNKNOWN naming the option, never blamed on the
array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

from . import options
from .option_table import DESCRIPTION, EPILOG, OPTIONS

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any, NoReturn


class UsageError(Exception):
    """A bad command line: one UNKNOWN line, exit 3."""


def _defaults() -> SimpleNamespace:
    args = SimpleNamespace()
    for option in OPTIONS:
        default = option.default
        if option.action == "store_true":
            default = False
        elif option.action == "append":
            default = list(default or ())  # type: ignore[call-overload]
        setattr(args, option.dest, default)
    return args


def read_fast(argv: Sequence[str]) -> SimpleNamespace | None:
    """The command line as the argparse parser reads it, for the forms monitoring definitions
    write (``-H NAME``, ``--port 443``, ``--port=443``, ``-vvv``), without importing argparse:
    argparse and gettext, with the ``locale`` module gettext loads on argparse's first message,
    cost a poller about as much as the whole check.  Anything else (a value that looks like an
    option, ``-p443``, ``--``, a bad value, an unknown option, a positional argument) returns
    None, and the argparse parser reads the line and words the mistake: the two never disagree
    on a line this accepts (tests/test_option_reader.py holds them side by side)."""
    by_flag = {flag: option for option in OPTIONS for flag in option.flags}
    args = _defaults()
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        flag, inline = word, None
        if word.startswith("--") and "=" in word:
            flag, _, inline = word.partition("=")
        option = by_flag.get(flag)
        if option is None:
            if len(word) > 2 and word == "-" + "v" * (len(word) - 1):  # -vv, -vvv
                args.verbose += len(word) - 1
                continue
            return None
        if option.action in ("store_true", "count"):
            if inline is not None:
                return None
            if option.action == "count":
                setattr(args, option.dest, getattr(args, option.dest) + 1)
            else:
                setattr(args, option.dest, True)
            continue
        # an optional value left out (the end, or the next option follows): the option's own
        if (
            option.action == "optional"
            and inline is None
            and (i >= len(argv) or argv[i] in by_flag)
        ):
            setattr(args, option.dest, option.const)
            continue
        if inline is None:
            if i >= len(argv) or argv[i].startswith("-"):
                return None
            inline = argv[i]
            i += 1
        assert option.type is not None
        try:
            value = option.type(inline)
        except Exception:
            return None
        if option.action == "append":
            getattr(args, option.dest).append(value)
        else:
            setattr(args, option.dest, value)
    return args


def build_parser() -> Any:
    """The argparse parser of ``OPTIONS`` (help, mistakes, the man page and Director basket)."""
    import argparse

    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # argparse would exit 2 (CRITICAL) on stderr
            from .credentials import redact_unrecognized

            raise UsageError(redact_unrecognized(message))

    def argparse_type(convert: Callable[[str], object]) -> Callable[[str], object]:
        def checked(value: str) -> object:
            try:
                return convert(value)
            except options.Invalid as exc:  # argparse words only its own exception's text
                raise argparse.ArgumentTypeError(str(exc)) from None

        checked.__name__ = convert.__name__
        return checked

    p = Parser(
        prog="check_outlook_anywhere",
        description=DESCRIPTION,
        epilog=EPILOG,
        add_help=False,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    groups: dict[str, Any] = {}
    for option in OPTIONS:
        group = groups.get(option.group) or groups.setdefault(
            option.group, p.add_argument_group(option.group)
        )
        kwargs: dict[str, Any] = {"help": option.help, "dest": option.dest}
        if option.action in ("store", "append", "optional"):
            assert option.type is not None
            kwargs.update(type=argparse_type(option.type), metavar=option.metavar)
            kwargs["default"] = [] if option.action == "append" else option.default
            if option.action == "optional":
                kwargs.update(nargs="?", const=option.const)
        elif option.action == "count":
            kwargs["default"] = option.default
        if option.action not in ("store", "optional"):
            kwargs["action"] = option.action
        group.add_argument(*option.flags, **kwargs)
    return p


def parse(argv: Sequence[str]) -> SimpleNamespace:
    args = read_fast(argv) or SimpleNamespace(**vars(build_parser().parse_args(argv)))
    if args.help or args.version:
        return args
    if args.host is None and args.autodiscover is None:
        raise UsageError("missing -H/--host: the Outlook Anywhere host name (or --autodiscover)")
    if args.autodiscover is None:
        for given, name in ((args.autodiscover_url, "--autodiscover-url"),
                            (args.username, "--username"),
                            (args.password_file, "--password-file"),
                            (args.autodiscover_port, "--autodiscover-port")):  # fmt: skip
            if given is not None:
                raise UsageError(f"{name} needs --autodiscover EMAIL")
        for given, name in ((args.auth, "--auth"), (args.keytab, "--keytab")):
            if given is not None:
                raise UsageError(f"{name} needs --autodiscover EMAIL")
    if args.expect_auth and not (args.rpc or args.mapi):
        raise UsageError("--expect-auth needs --rpc or --mapi")
    if args.logon and args.autodiscover is None:
        raise UsageError("--logon needs --autodiscover EMAIL (its credentials are logged on with)")
    if args.logon and not (args.rpc or args.mapi):
        raise UsageError("--logon needs --rpc or --mapi (what to log on to)")
    if args.extended_protection is not None and not args.logon:
        raise UsageError("--extended-protection needs --logon")
    args.extended_protection = args.extended_protection or "accept"
    _front_doors(args)
    if args.proxy_user is not None and args.proxy is None:
        raise UsageError("--proxy-user needs --proxy http://HOST:PORT")
    if args.proxy_password_file is not None and args.proxy_user is None:
        raise UsageError("--proxy-password-file needs --proxy-user")
    _consistent(args)
    if args.keytab and args.auth in ("ntlm", "basic"):
        raise UsageError(f"--keytab needs --auth negotiate or kerberos, not {args.auth}")
    args.password = ""
    if args.autodiscover:
        held = _kerberos_held(args) or args.auth == "kerberos"  # said below when it is not
        args.password = _password(args.password_file, kerberos=held)
    args.auth = args.auth or "negotiate"
    args.kerberos = _kerberos_source(args) if args.autodiscover else ""
    args.proxy_password = ""
    if args.proxy_user is not None:
        args.proxy_password = _password(args.proxy_password_file, proxy=True)
    return args


def _consistent(args: SimpleNamespace) -> None:
    """Options that are each fine but cannot go together: a configuration mistake, UNKNOWN."""
    w, c = args.warning, args.critical
    if w.plain and c.plain and float(w.given) < float(c.given):
        raise UsageError(
            f"-w {w.given} is below -c {c.given}: WARNING could never fire"
            " (-w and -c are days left: warn at more days than critical)"
        )
    if args.address and (args.ipv4 != args.ipv6):
        family = "-4" if args.ipv4 else "-6"
        if not any((":" in a) == args.ipv6 for a in args.address):
            raise UsageError(f"{family} excludes every -I address")


def _front_doors(args: SimpleNamespace) -> None:
    """--auth-warning/-critical need --auth-certificate, --min-build(-critical) --build; the
    Auth thresholds' defaults: 60 and 30 days (a next Auth certificate takes effect after at
    least 48 hours, and hybrid partners must read the metadata again: README "Front doors")."""
    if not args.auth_certificate:
        for given, name in ((args.auth_warning, "--auth-warning"),
                            (args.auth_critical, "--auth-critical")):  # fmt: skip
            if given is not None:
                raise UsageError(f"{name} needs --auth-certificate")
    if not args.build:
        for given, name in ((args.min_build, "--min-build"),
                            (args.min_build_critical, "--min-build-critical")):  # fmt: skip
            if given is not None:
                raise UsageError(f"{name} needs --build")
    args.auth_warning = args.auth_warning or options.threshold("60")
    args.auth_critical = args.auth_critical or options.threshold("30")
    w, c = args.auth_warning, args.auth_critical
    if w.plain and c.plain and float(w.given) < float(c.given):
        raise UsageError(
            f"--auth-warning {w.given} is below --auth-critical {c.given}: WARNING could never"
            " fire (days left: warn at more days than critical)"
        )
    if args.min_build and args.min_build_critical:
        from ..facts.frontdoors import parse_build

        low, high = parse_build(args.min_build), parse_build(args.min_build_critical)
        if low is not None and high is not None and _four(high) > _four(low):
            raise UsageError(
                f"--min-build-critical {args.min_build_critical} is above --min-build"
                f" {args.min_build}: WARNING could never fire"
            )


def _four(build: tuple[int, ...]) -> tuple[int, ...]:
    return build + (0,) * (4 - len(build))


def _password(password_file: str | None, proxy: bool = False, kerberos: bool = False) -> str:
    from .credentials import (
        PasswordError,
        read_password,
        read_proxy_password,
    )

    try:
        return (read_proxy_password if proxy else read_password)(password_file)
    except PasswordError as exc:
        if kerberos and password_file is None:  # a keytab or ticket cache needs none
            return ""
        raise UsageError(str(exc)) from None


# -- Kerberos (--auth, --keytab) ------------------------------------------------------------


def _kerberos_held(args: SimpleNamespace) -> bool:
    """A keytab or ticket cache is named (no password needed then)."""
    import os

    if args.auth in ("ntlm", "basic"):
        return False
    held = os.environ.get("KRB5_CLIENT_KTNAME") or os.environ.get("KRB5CCNAME")
    return bool(args.keytab or held)


def _kerberos_source(args: SimpleNamespace) -> str:
    """Where the Kerberos credential comes from ("": none, NTLM then); a Kerberos option
    without one, or without python-gssapi, is a configuration mistake."""
    user = args.username or args.autodiscover
    realm = user.rpartition("@")[2]
    if args.auth in ("ntlm", "basic") or not (
        _kerberos_held(args) or args.auth == "kerberos" or realm.isupper()
    ):
        return ""  # the common case, without importing the Kerberos module
    from ..transport import kerberos

    origin = kerberos.source(user, args.password, args.keytab, args.auth)
    if args.auth == "kerberos" and not origin:
        raise UsageError(
            "--auth kerberos needs a Kerberos credential: --keytab FILE, KRB5CCNAME, or"
            " --username user@REALM with the password"
        )
    if origin and not kerberos.available():
        if args.auth == "kerberos" or args.keytab:
            raise UsageError(
                "Kerberos needs the Python module gssapi, which is not installed: apt install"
                " python3-gssapi (Debian) or pip install 'check_outlook_anywhere[kerberos]'"
            )
        return ""  # the default: NTLM, as before
    return origin
