"""The options of the command line, as data: :data:`OPTIONS`, and the rest of ``--help``.

Each :class:`Option` is the single source of one option for both readers of
:mod:`.command_line` (the fast reader and the argparse parser), and through the parser for the
man page (contrib/manpage.py) and the Director basket.  The values are checked by the readers
of :mod:`.options`.
"""

from __future__ import annotations

from collections.abc import Callable

from . import options

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


class Option:
    """One command-line option: the single source of the fast reader and of the argparse
    parser (:mod:`.command_line`) that prints ``--help``, words every mistake, and feeds the man
    page and the Director basket.  ``action``: store (a value), append, store_true, count, or
    optional (a value that may be left out: ``const`` then)."""

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
