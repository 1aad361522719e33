#!/usr/bin/env python3
"""check_outlook_anywhere: the Outlook Anywhere mutual-authentication principal, every node.

Outlook only talks to an Outlook Anywhere (RPC over HTTP) proxy whose certificate carries the
principal ``msstd:mail.contoso.com``.  This Nagios/Icinga plugin connects over TLS to every
address behind the host name and checks each certificate's CN against that principal, its
dates and its chain of trust.

This file is the entry point: parse the command line (``check.command_line``), assemble one
``nagiosplugin.Check``, run it within the deadline, print one answer.
The building blocks are the package ``outlook_anywhere`` (``plugins/outlook_anywhere/`` in the
repository; its docstring maps them).
"""

from __future__ import annotations

import os
import signal
import sys
import warnings
from collections.abc import Sequence
from types import SimpleNamespace

# Run from a checkout, the package is the folder plugins/outlook_anywhere beside this file (as
# in a src layout), first on the path so that the code that runs is the code beside it.
# Installed (pip, the Debian package), there is no setup.cfg beside the module, and the package
# is found where it was installed.
_HERE = os.path.dirname(os.path.realpath(__file__))
if os.path.isfile(os.path.join(_HERE, "setup.cfg")):
    sys.path.insert(0, os.path.join(_HERE, "plugins"))

try:
    import nagiosplugin

    from outlook_anywhere import __version__, transport
    from outlook_anywhere.check.command_line import UsageError, build_parser, parse
    from outlook_anywhere.check.contexts import FindingsContext, PerfdataContext
    from outlook_anywhere.check.resource import OutlookAnywhere, Target
    from outlook_anywhere.check.summary import CheckSummary
    from outlook_anywhere.judgement.policy import Policy
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

    from outlook_anywhere.autodiscover.request import Request as AutodiscoverRequest
    from outlook_anywhere.judgement.policy import FrontDoorPolicy
    from outlook_anywhere.probes.frontdoors import Asked as FrontDoorsAsked
    from outlook_anywhere.probes.revocation import Settings as RevocationSettings
    from outlook_anywhere.transport.proxy import Proxy


def build_check(args: SimpleNamespace, deadline: Deadline) -> nagiosplugin.Check:
    store = TrustStore(ca_file=args.ca_file, verify=not args.ignore_trust)
    try:
        store.context()  # a CA file OpenSSL cannot use is a usage error, not a probe failure
    except (OSError, ValueError) as exc:
        raise UsageError(f"--ca-file {args.ca_file}: no usable certificate ({exc})") from None
    autodiscover = _autodiscover_request(args) if args.autodiscover else None
    target = Target(
        args.host,
        args.port,
        args.address,
        args.dns_server,
        args.ipv4,
        args.ipv6,
        autodiscover=autodiscover,
        rpc=args.rpc,
        mapi=args.mapi,
        logon=args.logon,
        extended_protection=args.extended_protection,
        revocation=_revocation_settings(args) if args.revocation else None,
        proxy=_use_proxy(args),
        frontdoors=_front_doors(args),
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
        frontdoors=_front_door_policy(args),
    )
    return nagiosplugin.Check(
        OutlookAnywhere(target, store, deadline),
        FindingsContext(policy),
        PerfdataContext("days_left", args.warning.text, args.critical.text),
        PerfdataContext("time"),
        PerfdataContext("nodes"),
        *([PerfdataContext("crl_hours_left")] if args.revocation else []),
        *_front_door_contexts(args),
        CheckSummary(policy, args.verbose),
    )


def _front_doors(args: SimpleNamespace) -> FrontDoorsAsked | None:
    """--auth-certificate, --health, --build: what to ask every node (None: nothing)."""
    if not (args.auth_certificate or args.health or args.build):
        return None
    from outlook_anywhere.probes.frontdoors import Asked

    auth_host = None
    if args.autodiscover_url:
        from urllib.parse import urlsplit

        auth_host = urlsplit(args.autodiscover_url).hostname
    return Asked(args.auth_certificate, tuple(args.health or ()), args.build, auth_host)


def _front_door_policy(args: SimpleNamespace) -> FrontDoorPolicy | None:
    if not (args.auth_certificate or args.health or args.build):
        return None
    from outlook_anywhere.judgement.policy import FrontDoorPolicy

    return FrontDoorPolicy(
        args.auth_warning, args.auth_critical, args.min_build, args.min_build_critical
    )


def _front_door_contexts(args: SimpleNamespace) -> list[PerfdataContext]:
    contexts = []
    if args.auth_certificate:
        w, c = args.auth_warning.text, args.auth_critical.text
        contexts.append(PerfdataContext("auth_days_left", w, c))
    if args.health:
        contexts.append(PerfdataContext("health"))
    return contexts


def _revocation_settings(args: SimpleNamespace) -> RevocationSettings:
    from outlook_anywhere.probes.revocation import Settings

    return Settings(args.dns_server, args.ipv4, args.ipv6, args.ca_file, not args.ignore_trust)


def _autodiscover_request(args: SimpleNamespace) -> AutodiscoverRequest:
    from outlook_anywhere.autodiscover.request import Credentials, Request
    from outlook_anywhere.check.credentials import remember

    username = args.username or ""
    remember(args.password, username or args.autodiscover)
    return Request(
        email=args.autodiscover,
        url=args.autodiscover_url,
        credentials=Credentials(username, args.password, args.auth, _kerberos(args)),
        ca_file=args.ca_file,
        dns_server=args.dns_server,
        port=args.autodiscover_port,
        mapi=args.mapi,
        rpc=args.rpc,
    )


def _kerberos(args: SimpleNamespace) -> object:
    """The check's Kerberos initiator, when a credential for it is at hand (--auth, --keytab)."""
    if not args.kerberos:
        return None
    from outlook_anywhere.transport.kerberos import Client

    return Client(args.username or args.autodiscover, args.password, args.keytab, args.kerberos)


def _use_proxy(args: SimpleNamespace) -> Proxy | None:
    """--proxy: every connection of this check goes through it from here on (transport.connect),
    whatever opens it; never a proxy from the environment."""
    transport.PROXY = None
    if args.proxy is None:
        return None
    from outlook_anywhere.check.credentials import remember
    from outlook_anywhere.transport.proxy import Proxy

    user = args.proxy_user or ""
    if user:
        remember(args.proxy_password, user, add=True)
    transport.PROXY = Proxy(args.proxy[0], args.proxy[1], user, args.proxy_password)
    return transport.PROXY


class _Overrun(Exception):
    pass


def _overrun(signum: int, frame: object) -> NoReturn:
    raise _Overrun()


def run(argv: Sequence[str] | None = None) -> tuple[str, int]:
    """The whole check: the text to print and the exit code.  Never raises."""
    try:
        args = parse(sys.argv[1:] if argv is None else argv)
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
