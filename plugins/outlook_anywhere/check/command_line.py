"""The command line: one table of options, read two ways.

:data:`OPTIONS` is the single source of the options.  :func:`read_fast` reads the forms
monitoring definitions write without importing argparse; anything else goes to the argparse
parser :func:`build_parser` builds from the same table, which words every mistake, prints
``--help`` and feeds the man page (contrib/manpage.py) and the Director basket.  :func:`parse`
returns the typed options (the readers of :mod:`.options`), or raises :class:`UsageError`: a
configuration mistake is UNKNOWN naming the option, never blamed on the array.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace

from . import options

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any, NoReturn

DESCRIPTION = """\
Check the certificate that every Client Access node behind an Outlook Anywhere host name serves
against the mutual authentication principal (msstd:FQDN), its validity dates and its chain of
trust. Outlook compares the principal with the certificate's Subject CN; a mismatch makes
Outlook prompt for credentials forever ("Mutual Authentication could not be established").
"""

EPILOG = """\
states:
  OK        the first CN is the principal (case-insensitive; "msstd:" and a trailing dot ignored)
  WARNING   principal only in a SAN (--match cn), only by wildcard expansion, several CNs,
            fewer than -w days left, nodes serving different certificates, weak key/signature;
            Autodiscover publishes CertPrincipalName None, neither EXPR nor EXHTTP, or SSL Off;
            rpcproxy.dll answers 200 (anonymous) or lacks a scheme of --expect-auth;
            /mapi/emsmdb/ likewise; --extended-protection require and a node accepts a
            logon without channel binding;
            --revocation: a CRL whose nextUpdate is less than 24 hours away, a certificate
            without an HTTP CRL distribution point or OCSP URL (only ldap:), every revocation
            source of a certificate unreachable or unusable, a missing intermediate that the
            AIA caIssuers URL supplies (Windows fetches it, other clients fail);
            --auth-certificate: the Exchange Auth certificate below --auth-warning days,
            another one than the other nodes publish, a node's metadata missing (404/5xx),
            a login page, 401 or no signing key (or unreadable: not JSON, too deep, bad
            base64, a certificate that does not parse, too big, no answer in time);
            --build: a node behind the newest build, below --min-build, or unreadable
  CRITICAL  no match, fewer than -c days left, expired or not yet valid, untrusted chain,
            connection refused/reset/timed out, TLS failure, no such DNS name or no address;
            Autodiscover unreachable, wrong credentials, an error response, an unusable
            document, a principal other than -P; rpcproxy.dll 3xx/403/404/5xx or no answer;
            /mapi/healthcheck.htm not 200; with --logon: a node refuses the logon with
            channel binding but accepts it without (it binds another certificate than it
            presents: a TLS-offloading device?), refuses the account Autodiscover accepted,
            no RPC echo, an endpoint (6001 mail store, 6002 directory referral, 6004
            address book) answers "503 RPC Error" or no CONN/C2 within the deadline, the
            mailbox logon refused (Connect's StatusCode/ErrorCode named), a MAPI PING with
            X-ResponseCode other than 0, a logon cut off by the deadline (its step named);
            --revocation: a certificate revoked (CRL or OCSP), a CRL past its nextUpdate, a
            CRL or OCSP response with a bad signature; --proxy: a node the proxy answers
            502/503/504 for (unreachable through it); --auth-certificate: expired or below
            --auth-critical days, or no node publishes it; --health: a healthcheck.htm not
            200 (named once when the protocol is down on every node); --build: a node below
            --min-build-critical
  UNKNOWN   bad arguments and configuration mistakes (named), a broken installation;
            --proxy unreachable, refusing the credentials or CONNECT (403, 405)

The first line names the worst finding, "(+N more)" and "[k/n nodes OK]", in at most 200
characters; fixes and thumbprints are in the long output, one line per node.

examples:
  check_outlook_anywhere -H mail.contoso.com
  check_outlook_anywhere -H mail.contoso.com -P msstd:*.contoso.com --ca-file /etc/ssl/corp.pem
  check_outlook_anywhere -H mail.contoso.com -I 10.0.0.11 -I 10.0.0.12 -w 45 -c 21
  check_outlook_anywhere -H mail.contoso.com --dns-server 192.0.2.53 -4
  check_outlook_anywhere --autodiscover monitor@contoso.com --password-file /etc/icinga2/oa.pw
  check_outlook_anywhere -H mail.contoso.com --rpc --expect-auth Negotiate,NTLM
  check_outlook_anywhere --autodiscover monitor@contoso.com --password-file /etc/icinga2/oa.pw \\
      --rpc --mapi --logon
  check_outlook_anywhere -H mail.contoso.com --revocation
  check_outlook_anywhere -H mail.contoso.com --auth-certificate --health --build \\
      --min-build 15.2.1544.4
  check_outlook_anywhere -H mail.contoso.com --proxy http://10.0.5.1:8080 --proxy-user monitor

The Autodiscover password is read from --password-file or OUTLOOK_ANYWHERE_PASSWORD, the proxy
password from --proxy-password-file or OUTLOOK_ANYWHERE_PROXY_PASSWORD, never from the command
line. With --proxy every connection goes through it as CONNECT <address>:<port>; http_proxy,
https_proxy and no_proxy are ignored (a check behaves the same under every daemon).
"""


class UsageError(Exception):
    """A bad command line: one UNKNOWN line, exit 3."""


class Option:
    """One command-line option: the single source of the fast reader below and of the argparse
    parser that prints ``--help``, words every mistake, and feeds the man page and the Director
    basket.  ``action``: store (a value), append, store_true, count, or optional (a value that
    may be left out: ``const`` then)."""

    __slots__ = (
        "action",
        "const",
        "default",
        "dest",
        "flags",
        "group",
        "help",
        "metavar",
        "type",
    )

    def __init__(
        self,
        group: str,
        flags: tuple[str, ...],
        help: str,
        type: Callable[[str], object] | None = None,
        *,
        action: str = "store",
        default: object = None,
        metavar: str | None = None,
        dest: str = "",
        const: object = None,
    ) -> None:
        self.group = group
        self.flags = flags
        self.help = help
        self.type = type
        self.action = action
        self.default = default
        self.metavar = metavar
        self.dest = dest or flags[-1].lstrip("-").replace("-", "_")
        self.const = const  # action "optional": the value when the option has none


TARGET, CERT, AUTODISCOVER, RPC, LOGON, REVOCATION, FRONT, PROXY, GENERAL = (
    "target",
    "certificate",
    "Autodiscover (the published principal)",
    "RPC proxy",
    "logon (log on to every node as Outlook does)",
    "revocation",
    "front doors (the Exchange Auth certificate, health and build of every node)",
    "proxy",
    "general",
)
# --health without a list: the virtual directories Outlook uses (facts.frontdoors.OUTLOOK_VDIRS)
OUTLOOK_VDIRS = ("autodiscover", "ews", "oab", "rpc", "mapi")


def _table() -> tuple[Option, ...]:
    return (
        Option(TARGET, ("-H", "--host"),
               "Outlook Anywhere host name (the EXPR Server): DNS, SNI and the default principal",
               options.host, metavar="NAME"),
        Option(TARGET, ("-p", "--port"), "TCP port (default: 443)",
               options.port, default=443, metavar="N"),
        Option(TARGET, ("-I", "--address"),
               "connect to this IP address instead of resolving the host; repeat for each node",
               options.address, action="append", default=(), metavar="ADDR"),
        Option(TARGET, ("--dns-server",),
               "resolve the host through this DNS server instead of the system resolver",
               options.dns_server, metavar="IP[:PORT]"),
        Option(TARGET, ("-4",), "IPv4 addresses only", action="store_true", dest="ipv4"),
        Option(TARGET, ("-6",), "IPv6 addresses only", action="store_true", dest="ipv6"),
        Option(CERT, ("-P", "--principal"),
               "expected principal, msstd:FQDN; the prefix is optional (default: msstd:<host>)",
               options.principal, metavar="NAME"),
        Option(CERT, ("--match",),
               "cn: the Subject CN must match (older Windows, the Remote Connectivity Analyzer);"
               " cn-or-san: a SAN match also counts (Vista SP1 and later) (default: cn)",
               options.match_mode, default="cn", metavar="cn|cn-or-san"),
        Option(CERT, ("-w", "--warning"),
               "WARNING below DAYS days of validity, or a Nagios range (default: 30)",
               options.threshold, default=options.threshold("30"), metavar="DAYS"),
        Option(CERT, ("-c", "--critical"),
               "CRITICAL below DAYS days of validity, or a Nagios range (default: 14)",
               options.threshold, default=options.threshold("14"), metavar="DAYS"),
        Option(CERT, ("--ca-file",),
               "trust anchors (PEM) for chain validation (default: system store)",
               options.ca_file, metavar="FILE"),
        Option(CERT, ("--ignore-trust",),
               "skip chain validation; names and dates are still checked", action="store_true"),
        Option(AUTODISCOVER, ("--autodiscover",),
               "read the Outlook provider settings for this mailbox and check the EXPR"
               " CertPrincipalName against every node; its Server is the host when -H is not given",
               options.email, metavar="EMAIL"),
        Option(AUTODISCOVER, ("--autodiscover-url",),
               "use this Autodiscover endpoint instead of the standard lookup",
               options.https_url, metavar="URL"),
        Option(AUTODISCOVER, ("--autodiscover-port",),
               "port of the standard lookup's https and http candidates (default: 443 and 80;"
               " for a test array on another port)",
               options.port, metavar="N"),
        Option(AUTODISCOVER, ("--username",), "(default: the e-mail address)",
               options.username, metavar="USER"),
        Option(AUTODISCOVER, ("--password-file",),
               "the password on the first line; or the environment variable"
               f" {options.PASSWORD_ENV}",
               options.readable_file, metavar="FILE"),
        Option(AUTODISCOVER, ("--auth",),
               "negotiate (default): Kerberos where the poller has a Kerberos credential (a"
               " keytab, KRB5CCNAME's ticket cache, or --username user@REALM with the password),"
               " else NTLM, as Windows does; kerberos, ntlm or basic: only that mechanism",
               options.auth_mode, metavar="negotiate|kerberos|ntlm|basic"),
        Option(AUTODISCOVER, ("--keytab",),
               "log on with Kerberos as --username (user@REALM) from this keytab (or"
               " KRB5_CLIENT_KTNAME); the tickets are kept in memory only",
               options.readable_file, metavar="FILE"),
        Option(RPC, ("--rpc",),
               "send an unauthenticated RPC_IN_DATA /rpc/rpcproxy.dll to every node: 401 with"
               " the authentication schemes is healthy", action="store_true"),
        Option(RPC, ("--mapi",),
               "probe MAPI over HTTP on every node: /mapi/healthcheck.htm must answer 200 and"
               " /mapi/emsmdb/ 401 with the authentication schemes", action="store_true"),
        Option(RPC, ("--expect-auth",),
               "with --rpc/--mapi: WARNING unless the 401 offers each of these, e.g."
               " Negotiate,NTLM",
               options.schemes, default=(), metavar="SCHEMES"),
        Option(LOGON, ("--logon",),
               "with --autodiscover and --rpc/--mapi: log on to every node with the"
               " Autodiscover credentials (NTLM/Negotiate with channel binding): RPC echo and the"
               " endpoints 6001, 6002, 6004 with --rpc, a MAPI mailbox logon (Connect, PING,"
               " Disconnect) with --mapi; only after Autodiscover accepted the credentials",
               action="store_true"),
        Option(LOGON, ("--extended-protection",),
               "with --logon: accept (default): a logon refused with channel binding but"
               " accepted without it is CRITICAL; require: also WARNING when a node accepts a"
               " logon without binding; off: Extended Protection is not judged",
               options.extended_protection, metavar="off|accept|require"),
        Option(REVOCATION, ("--revocation",),
               "check the CRLs and OCSP responders of every certificate the nodes send, but the"
               " trust anchor, as Windows does (plain HTTP GETs; ldap: and file: URLs are only"
               " named)", action="store_true"),
        Option(FRONT, ("--auth-certificate",),
               "read the Exchange Auth (OAuth signing) certificate every node publishes at"
               " /autodiscover/metadata/json/1 (anonymous; the Host is --autodiscover-url's"
               " host when given) and judge its dates, and that every node has the same one",
               action="store_true"),
        Option(FRONT, ("--auth-warning",),
               "with --auth-certificate: WARNING below DAYS days of validity, or a Nagios range"
               " (default: 60)",
               options.threshold, metavar="DAYS"),
        Option(FRONT, ("--auth-critical",),
               "with --auth-certificate: CRITICAL below DAYS days of validity, or a Nagios range"
               " (default: 30)",
               options.threshold, metavar="DAYS"),
        Option(FRONT, ("--health",),
               "GET /<vdir>/healthcheck.htm on every node: CRITICAL unless 200; LIST is"
               " comma-separated, e.g. ews,mapi (default: autodiscover,ews,oab,rpc,mapi; all"
               " adds owa,ecp,Microsoft-Server-ActiveSync)",
               options.vdirs, action="optional", const=OUTLOOK_VDIRS, metavar="LIST"),
        Option(FRONT, ("--build",),
               "read every node's build (X-OWA-Version of GET /owa/, no redirect followed):"
               " WARNING for the nodes behind the newest one", action="store_true"),
        Option(FRONT, ("--min-build",),
               "with --build: WARNING for a node below this build, e.g. 15.2.1544.4",
               options.build_number, metavar="X.Y.Z.W"),
        Option(FRONT, ("--min-build-critical",),
               "with --build: CRITICAL for a node below this build",
               options.build_number, metavar="X.Y.Z.W"),
        Option(PROXY, ("--proxy",),
               "send every connection through this HTTP CONNECT proxy: each node's TLS probe as"
               " CONNECT <node address>:<port>, Autodiscover, --rpc, --mapi, --logon and"
               " --revocation alike (proxy environment variables are ignored)",
               options.proxy, metavar="http://HOST:PORT"),
        Option(PROXY, ("--proxy-user",),
               "proxy user for Basic, NTLM or Negotiate; the password from"
               f" --proxy-password-file or {options.PROXY_PASSWORD_ENV}",
               options.username, metavar="USER"),
        Option(PROXY, ("--proxy-password-file",), "the proxy password on the first line",
               options.readable_file, metavar="FILE"),
        Option(GENERAL, ("-t", "--timeout"), "deadline for the whole check (default: 10)",
               options.timeout, default=10.0, metavar="SECONDS"),
        Option(GENERAL, ("-v", "--verbose"),
               "more detail: -v the certificate chain of every node; -vvv a step-by-step trace"
               " (DNS, each connect, handshake, HTTP request and Autodiscover hop; never a secret)",
               action="count", default=0),
        Option(GENERAL, ("-V", "--version"), "print the version", action="store_true"),
        Option(GENERAL, ("-h", "--help"), "show this help", action="store_true"),
    )  # fmt: skip


OPTIONS = _table()


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
