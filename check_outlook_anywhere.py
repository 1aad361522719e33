#!/usr/bin/env python3
"""check_outlook_anywhere: the Outlook Anywhere mutual-authentication principal, every node.

Outlook only talks to an Outlook Anywhere (RPC over HTTP) proxy whose certificate carries the
principal ``msstd:mail.contoso.com``.  This Nagios/Icinga plugin connects over TLS to every
address behind the host name and checks each certificate's CN against that principal, its
dates and its chain of trust.

This file is the entry point: argument parsing, and the assembly of one ``nagiosplugin.Check``.
The building blocks live in ``plugins/``, installed as the package ``outlook_anywhere`` (its
docstring maps them).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence


def _checkout_package() -> None:
    """Import the building blocks under their installed name, ``outlook_anywhere``.

    Installed (pip, the Debian package), they are that package.  Run from a checkout, this file
    loads the ``plugins/`` folder beside it under the same name, so the code that runs is the code
    beside it; a ``plugins`` package anywhere else on the path is never imported."""
    here = os.path.dirname(os.path.realpath(__file__))
    folder = os.path.join(here, "plugins")
    if "outlook_anywhere" in sys.modules or not os.path.isfile(os.path.join(here, "setup.cfg")):
        return
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "outlook_anywhere",
        os.path.join(folder, "__init__.py"),
        submodule_search_locations=[folder],
    )
    if spec is None or spec.loader is None:
        return
    module = importlib.util.module_from_spec(spec)
    sys.modules["outlook_anywhere"] = module
    spec.loader.exec_module(module)


_checkout_package()

try:
    import nagiosplugin

    from outlook_anywhere import __version__
    from outlook_anywhere.check import options
    from outlook_anywhere.check.contexts import FindingsContext, PerfdataContext
    from outlook_anywhere.check.resource import OutlookAnywhere, Target
    from outlook_anywhere.check.summary import CheckSummary
    from outlook_anywhere.judgement.verdict import Policy
    from outlook_anywhere.output import render, unknown
    from outlook_anywhere.probes.tls import TrustStore
    from outlook_anywhere.transport import Deadline
except Exception as exc:  # a dependency missing, too old or broken: said by main(), exit 3
    _BROKEN: BaseException | None = exc
else:
    _BROKEN = None

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import NoReturn

    from outlook_anywhere.autodiscover.lookup import Request as AutodiscoverRequest

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
            logon without channel binding
  CRITICAL  no match, fewer than -c days left, expired or not yet valid, untrusted chain,
            connection refused/reset/timed out, TLS failure, no such DNS name or no address;
            Autodiscover unreachable, wrong credentials, an error response, an unusable
            document, a principal other than -P; rpcproxy.dll 3xx/403/404/5xx or no answer;
            /mapi/healthcheck.htm not 200; with --logon: a node refuses the logon with
            channel binding but accepts it without (it binds another certificate than it
            presents: a TLS-offloading device?), refuses the account Autodiscover accepted,
            no RPC echo, an endpoint (6001 mail store, 6002 directory referral, 6004
            address book) answers "503 RPC Error" or no CONN/C2 within the deadline, a MAPI
            PING with X-ResponseCode other than 0
  UNKNOWN   bad arguments and configuration mistakes (named), a broken installation

The first line names the worst finding, "(+N more)" and "[k/n nodes OK]", in at most 200
characters; fixes and thumbprints are in the long output, one line per node.

examples:
  check_outlook_anywhere -H mail.contoso.com
  check_outlook_anywhere -H mail.contoso.com -P msstd:*.contoso.com --ca-file /etc/ssl/corp.pem
  check_outlook_anywhere -H mail.contoso.com -I 10.0.0.11 -I 10.0.0.12 -w 45 -c 21
  check_outlook_anywhere -H mail.contoso.com --dns-server 192.0.2.53 -4
  check_outlook_anywhere --autodiscover monitor@contoso.com --password-file /etc/icinga2/oa.pw
  check_outlook_anywhere -H mail.contoso.com --rpc --expect-auth Negotiate,NTLM
  check_outlook_anywhere --autodiscover monitor@contoso.com --password-file /etc/icinga2/oa.pw \
      --rpc --mapi --logon

The Autodiscover password is read from --password-file or OUTLOOK_ANYWHERE_PASSWORD, never from
the command line.
"""


class UsageError(Exception):
    """A bad command line: one UNKNOWN line, exit 3."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # argparse would exit 2 (CRITICAL) on stderr
        from outlook_anywhere.check.credentials import redact_unrecognized

        raise UsageError(redact_unrecognized(message))


def build_parser() -> Parser:
    p = Parser(
        prog="check_outlook_anywhere",
        description=DESCRIPTION,
        epilog=EPILOG,
        add_help=False,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = p.add_argument_group("target")
    target.add_argument(
        "-H",
        "--host",
        type=options.host,
        metavar="NAME",
        help="Outlook Anywhere host name (the EXPR Server): DNS, SNI and the default principal",
    )
    target.add_argument(
        "-p", "--port", type=options.port, default=443, metavar="N", help="TCP port (default: 443)"
    )
    target.add_argument(
        "-I",
        "--address",
        type=options.address,
        action="append",
        default=[],
        metavar="ADDR",
        help="connect to this IP address instead of resolving the host; repeat for each node",
    )
    target.add_argument(
        "--dns-server",
        type=options.dns_server,
        metavar="IP[:PORT]",
        help="resolve the host through this DNS server instead of the system resolver",
    )
    target.add_argument("-4", dest="ipv4", action="store_true", help="IPv4 addresses only")
    target.add_argument("-6", dest="ipv6", action="store_true", help="IPv6 addresses only")

    cert = p.add_argument_group("certificate")
    cert.add_argument(
        "-P",
        "--principal",
        type=options.principal,
        metavar="NAME",
        help="expected principal, msstd:FQDN; the prefix is optional (default: msstd:<host>)",
    )
    cert.add_argument(
        "--match",
        type=options.match_mode,
        default="cn",
        metavar="cn|cn-or-san",
        help="cn: the Subject CN must match (older Windows, the Remote Connectivity Analyzer);"
        " cn-or-san: a SAN match also counts (Vista SP1 and later) (default: cn)",
    )
    cert.add_argument(
        "-w",
        "--warning",
        type=options.threshold,
        default=options.threshold("30"),
        metavar="DAYS",
        help="WARNING below DAYS days of validity, or a Nagios range (default: 30)",
    )
    cert.add_argument(
        "-c",
        "--critical",
        type=options.threshold,
        default=options.threshold("14"),
        metavar="DAYS",
        help="CRITICAL below DAYS days of validity, or a Nagios range (default: 14)",
    )
    cert.add_argument(
        "--ca-file",
        type=options.ca_file,
        metavar="FILE",
        help="trust anchors (PEM) for chain validation (default: system store)",
    )
    cert.add_argument(
        "--ignore-trust",
        action="store_true",
        help="skip chain validation; names and dates are still checked",
    )

    autodiscover = p.add_argument_group("Autodiscover (the published principal)")
    autodiscover.add_argument(
        "--autodiscover",
        type=options.email,
        metavar="EMAIL",
        help="read the Outlook provider settings for this mailbox and check the EXPR"
        " CertPrincipalName against every node; its Server is the host when -H is not given",
    )
    autodiscover.add_argument(
        "--autodiscover-url",
        type=options.https_url,
        metavar="URL",
        help="use this Autodiscover endpoint instead of the standard lookup",
    )
    autodiscover.add_argument(
        "--autodiscover-port",
        type=options.port,
        metavar="N",
        help="port of the standard lookup's https and http candidates (default: 443 and 80;"
        " for a test array on another port)",
    )
    autodiscover.add_argument(
        "--username", type=options.username, metavar="USER", help="(default: the e-mail address)"
    )
    autodiscover.add_argument(
        "--password-file",
        type=options.readable_file,
        metavar="FILE",
        help=f"the password on the first line; or the environment variable {options.PASSWORD_ENV}",
    )

    rpc = p.add_argument_group("RPC proxy")
    rpc.add_argument(
        "--rpc",
        action="store_true",
        help="send an unauthenticated RPC_IN_DATA /rpc/rpcproxy.dll to every node: 401 with"
        " the authentication schemes is healthy",
    )
    rpc.add_argument(
        "--mapi",
        action="store_true",
        help="probe MAPI over HTTP on every node: /mapi/healthcheck.htm must answer 200 and"
        " /mapi/emsmdb/ 401 with the authentication schemes",
    )
    rpc.add_argument(
        "--expect-auth",
        type=options.schemes,
        default=(),
        metavar="SCHEMES",
        help="with --rpc/--mapi: WARNING unless the 401 offers each of these, e.g. Negotiate,NTLM",
    )

    logon = p.add_argument_group("logon (log on to every node as Outlook does)")
    logon.add_argument(
        "--logon",
        action="store_true",
        help="with --autodiscover and --rpc/--mapi: log on to every node with the Autodiscover"
        " credentials (NTLM/Negotiate with channel binding): RPC echo and the endpoints 6001,"
        " 6002, 6004 with --rpc, a MAPI PING with --mapi; only after Autodiscover accepted"
        " the credentials",
    )
    logon.add_argument(
        "--extended-protection",
        type=options.extended_protection,
        metavar="off|accept|require",
        help="with --logon: accept (default): a logon refused with channel binding but"
        " accepted without it is CRITICAL; require: also WARNING when a node accepts a logon"
        " without binding; off: Extended Protection is not judged",
    )

    general = p.add_argument_group("general")
    general.add_argument(
        "-t",
        "--timeout",
        type=options.timeout,
        default=10.0,
        metavar="SECONDS",
        help="deadline for the whole check (default: 10)",
    )
    general.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more detail: -v the certificate chain of every node; -vvv a step-by-step trace"
        " (DNS, each connect, handshake, HTTP request and Autodiscover hop; never a secret)",
    )
    general.add_argument("-V", "--version", action="store_true", help="print the version")
    general.add_argument("-h", "--help", action="store_true", help="show this help")
    return p


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    args = build_parser().parse_args(argv)
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
    if args.expect_auth and not (args.rpc or args.mapi):
        raise UsageError("--expect-auth needs --rpc or --mapi")
    if args.logon and args.autodiscover is None:
        raise UsageError("--logon needs --autodiscover EMAIL (its credentials are logged on with)")
    if args.logon and not (args.rpc or args.mapi):
        raise UsageError("--logon needs --rpc or --mapi (what to log on to)")
    if args.extended_protection is not None and not args.logon:
        raise UsageError("--extended-protection needs --logon")
    args.extended_protection = args.extended_protection or "accept"
    _consistent(args)
    args.password = ""
    if args.autodiscover:
        args.password = _password(args.password_file)
    return args


def _consistent(args: argparse.Namespace) -> None:
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


def _password(password_file: str | None) -> str:
    from outlook_anywhere.check.credentials import PasswordError, read_password

    try:
        return read_password(password_file)
    except PasswordError as exc:
        raise UsageError(str(exc)) from None


def build_check(args: argparse.Namespace, deadline: Deadline) -> nagiosplugin.Check:
    store = TrustStore(ca_file=args.ca_file, verify=not args.ignore_trust)
    try:
        store.context()  # a CA file OpenSSL cannot use is a usage error, not a probe failure
    except (OSError, ValueError) as exc:
        raise UsageError(f"--ca-file {args.ca_file}: no usable certificate ({exc})") from None
    target = Target(
        args.host,
        args.port,
        args.address,
        args.dns_server,
        args.ipv4,
        args.ipv6,
        autodiscover=_autodiscover_request(args) if args.autodiscover else None,
        rpc=args.rpc,
        mapi=args.mapi,
        logon=args.logon,
        extended_protection=args.extended_protection,
    )
    policy = Policy(
        principal=args.principal,
        host=args.host,
        match_mode=args.match,
        warning=args.warning,
        critical=args.critical,
        check_trust=not args.ignore_trust,
        expect_auth=args.expect_auth,
        extended_protection=args.extended_protection,
    )
    return nagiosplugin.Check(
        OutlookAnywhere(target, store, deadline),
        FindingsContext(policy),
        PerfdataContext("days_left", args.warning.text, args.critical.text),
        PerfdataContext("time"),
        PerfdataContext("nodes"),
        CheckSummary(policy, args.verbose),
    )


def _autodiscover_request(args: argparse.Namespace) -> AutodiscoverRequest:
    from outlook_anywhere.autodiscover.lookup import Credentials, Request
    from outlook_anywhere.check.credentials import remember

    username = args.username or ""
    remember(args.password, username or args.autodiscover)
    return Request(
        email=args.autodiscover,
        url=args.autodiscover_url,
        credentials=Credentials(username, args.password),
        ca_file=args.ca_file,
        dns_server=args.dns_server,
        port=args.autodiscover_port,
        mapi=args.mapi,
    )


class _Overrun(Exception):
    pass


def _overrun(signum: int, frame: object) -> NoReturn:
    raise _Overrun()


def run(argv: Sequence[str] | None = None) -> tuple[str, int]:
    """The whole check: the text to print and the exit code.  Never raises."""
    try:
        args = parse(argv)
        if args.help:
            return build_parser().format_help(), 0
        if args.version:
            return f"check_outlook_anywhere {__version__}\n", 0
        deadline = Deadline(args.timeout)
        if args.verbose >= 3:
            from outlook_anywhere.transport import TRACE

            TRACE.start()
        # The last resort: every socket and query already has its share of the deadline.
        alarm = _arm(args.timeout + 0.6)
        try:
            check = build_check(args, deadline)
            check()
        finally:
            _disarm(alarm)
        return render(check), check.exitcode
    except UsageError as exc:
        return unknown(str(exc)), 3
    except _Overrun:
        return unknown(f"check did not finish within {args.timeout:g} s"), 3
    except ImportError as exc:  # a module imported on this path only (dnspython, defusedxml...)
        return unknown(broken_installation(exc)), 3
    except Exception as exc:  # the plugin's own bug: one line, never a traceback
        from outlook_anywhere.output import conceal

        return unknown(conceal(f"internal error: {exc.__class__.__name__}: {exc}")), 3


def broken_installation(exc: BaseException) -> str:
    """A dependency missing, too old or failing to import, named (no ';': a first line)."""
    if isinstance(exc, ModuleNotFoundError) and exc.name:
        return f"broken installation: Python module {exc.name} is not installed"
    name = _culprit(exc)
    why = str(exc).replace(";", ",")[:120] or exc.__class__.__name__
    if isinstance(exc, ImportError):
        return f"broken installation: Python module {name} cannot be imported ({why})"
    return f"broken installation: importing {name} failed ({exc.__class__.__name__}: {why})"


def _culprit(exc: BaseException) -> str:
    """The package whose import failed: the one the exception was raised in."""
    if isinstance(exc, ImportError) and exc.name:
        return exc.name.split(".")[0]
    tb, name = exc.__traceback__, ""
    while tb is not None:
        name = str(tb.tb_frame.f_globals.get("__name__", "")) or name
        tb = tb.tb_next
    return name.split(".")[0] or "a dependency"


def _arm(seconds: float) -> bool:
    try:
        signal.signal(signal.SIGALRM, _overrun)
    except ValueError:  # not the main thread (an in-process caller): the deadline still holds
        return False
    signal.setitimer(signal.ITIMER_REAL, seconds)
    return True


def _disarm(armed: bool) -> None:
    if armed:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main() -> NoReturn:
    warnings.simplefilter("ignore")  # Icinga shows stderr as the status text
    if _BROKEN is not None:
        text, code = f"OUTLOOK_ANYWHERE UNKNOWN - {broken_installation(_BROKEN)}\n", 3
    else:
        text, code = run(sys.argv[1:])
    try:
        # UTF-8 whatever the locale, and never an encoding error: a CN in Cyrillic under a
        # Latin-1 locale, or an argument that was not UTF-8 (surrogates), is printed escaped.
        sys.stdout.buffer.write(text.encode("utf-8", "backslashreplace"))
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    # The verdict is out and nothing else needs closing: leave without the interpreter's
    # teardown, which frees every module and object one by one (a sizeable share of a check's
    # time on a poller that starts thousands of them).  run() stays usable in-process.
    os._exit(code)


if __name__ == "__main__":
    main()
