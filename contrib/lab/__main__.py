"""Command line of the lab.

``make lab`` runs ``python -m contrib.lab serve --summary --hostile``: every scenario, the
hostile servers included, until Ctrl-C, with a readable summary of how to reach them
(addresses, ports, DNS server, CA file, credentials and ready-made commands).

``python -m contrib.lab serve [--dir DIR] [--port N] [--dns-port N] [--ready-file FILE]
[--hostile] [--summary]`` starts the lab and prints its JSON description as one line (and
writes it to the ready file; with ``--summary`` the text instead), then runs until SIGTERM or
SIGINT.  ``python -m contrib.lab list`` prints the scenario table.

The lab needs the plugin's runtime dependencies (``cryptography``, ``dnspython``; ``pyspnego``
for the NTLM sites and the Exchange front ends): ``make lab`` runs it in a venv that has them.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import Lab


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def plugin_command() -> str:
    """How to call the plugin from here: installed next to this interpreter, else the checkout's
    script with this interpreter."""
    installed = Path(sys.executable).parent / "check_outlook_anywhere"
    if installed.exists():
        return str(installed)
    script = Path(__file__).resolve().parents[2] / "check_outlook_anywhere.py"
    return f"{shlex.quote(sys.executable)} {shlex.quote(str(script))}"


def _shown(addresses: list[str] | tuple[str, ...]) -> str:
    if not addresses:
        return "-"
    if len(addresses) <= 3:
        return ", ".join(addresses)
    return f"{addresses[0]} .. {addresses[-1]} ({len(addresses)})"


def _rows(rows: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Aligned columns; the last one runs free."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return [
        indent + "  ".join([c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)] + [row[-1]])
        for row in rows
    ]


def summary(lab: Lab, password_file: Path, hostile: bool) -> str:
    """What a person needs to use the running lab by hand."""
    from . import hostile as hostile_mod
    from .endpoints.autodiscover import MAILBOXES
    from .endpoints.frontdoors import HOSTS as FRONT_DOORS
    from .endpoints.proxy import GATEWAY_FAILS, PROXIES
    from .endpoints.web import SITES
    from .identities.accounts import PASSWORD, PROXY_DOMAIN, PROXY_PASSWORD, PROXY_USER

    plugin = plugin_command()
    dns, port, ca = lab.dns_server, lab.port, lab.ca_file
    common = f"-p {port} --dns-server {dns} --ca-file {ca}"
    ad_url = lab.web.url("autodiscover.contoso.test")
    lines = [
        "check_outlook_anywhere lab: running until Ctrl-C (or SIGTERM)",
        "",
        f"  TLS nodes      127.0.0.0/8 (and ::1), all on port {port}, SNI honoured",
        f"  web nodes      Autodiscover and RPC proxy sites on port {lab.web.port}",
        f"  PKI site       CRLs, OCSP, caIssuers: http://pki.contoso.test:{lab.revocation.port}"
        " (the rev- scenarios, --revocation)",
        f"  DNS server     {dns}   (the plugin's --dns-server; dig @{dns.rsplit(':', 1)[0]}"
        f" -p {dns.rsplit(':', 1)[1]} healthy.contoso.test)",
        f"  CA file        {ca}   (--ca-file; the rogue CA: {lab.rogue_ca_file})",
        f"  mailboxes      <name>@contoso.test, user = the address, password {PASSWORD}",
        f"  password file  {password_file}   (--password-file)",
        f"  proxies        HTTP CONNECT proxies on port {lab.proxy.port} (--proxy), user"
        f" {PROXY_USER} (NTLM: {PROXY_DOMAIN}\\{PROXY_USER}), password {PROXY_PASSWORD}",
        f"  work directory {lab.workdir}",
        "",
        "Ready-made commands:",
        "",
        f"  PLUGIN='{plugin}'" if " " in plugin else f"  PLUGIN={plugin}",
        f"  $PLUGIN -H healthy.contoso.test {common}",
        f"  $PLUGIN -H wrong-cn-node.contoso.test {common}",
        f"  $PLUGIN --autodiscover monitor@contoso.test --autodiscover-url {ad_url}"
        f" --password-file {password_file} {common}",
        f"  $PLUGIN -H rpc-ok.contoso.test -p {lab.web.port} --dns-server {dns} --ca-file {ca}"
        " --rpc --expect-auth Negotiate,NTLM",
        f"  $PLUGIN -H rev-crl-revoked.contoso.test {common} --revocation",
    ]
    if hostile:
        lines.append(f"  $PLUGIN -H drip.contoso.test {common} -t 5")
    # Logging on to the Exchange front ends (contrib/lab/endpoints/exchange.py) as Outlook does.
    lines.append(
        f"  $PLUGIN --autodiscover logon-ok@contoso.test --autodiscover-url {ad_url}"
        f" --password-file {password_file} --logon --rpc --mapi -p {lab.web.port}"
        f" --dns-server {dns} --ca-file {ca}"
    )
    lines += [
        "",
        f"Scenarios: $PLUGIN -H <host> {common}",
        "",
    ]
    lines += _rows([(s.name, s.host, _shown(s.addresses), s.description) for s in lab.scenarios()])
    if hostile:
        lines += ["", f"Hostile servers: $PLUGIN -H <host> {common} -t 5", ""]
        lines += _rows(
            [
                (h.name, h.host, _shown(hostile_mod.addresses(h)), h.description)
                for h in hostile_mod.HOSTILE
            ]
        )
        lines += [
            "",
            "Hostile web answers: $PLUGIN -H <host> -I <address> --rpc, or --autodiscover"
            " monitor@contoso.test --autodiscover-url https://<host>:PORT/autodiscover/"
            f"autodiscover.xml --password-file {password_file} (PORT: {port})",
            "",
        ]
        lines += _rows([(kind, *hostile_mod.web_target(kind)) for kind in hostile_mod.WEB_KINDS])
    lines += [
        "",
        f"Autodiscover mailboxes: $PLUGIN --autodiscover <mailbox>@contoso.test"
        f" --autodiscover-url {ad_url} --password-file {password_file} {common}",
        f"  (or the standard lookup: --autodiscover-port {lab.web.port} instead of"
        " --autodiscover-url; other domains: fabrikam.test, northwind.test, adatum.test (SRV),"
        " tailspin.test, litware.test, wingtip.test)",
        "",
    ]
    lines += _rows([(name, description) for name, description in MAILBOXES.items()])
    lines += [
        "",
        f"Web sites (port {lab.web.port}); RPC proxy: $PLUGIN -H <host> -p {lab.web.port}"
        f" --dns-server {dns} --ca-file {ca} --rpc; Exchange front ends (logon-*): their"
        " mailbox <first label>@contoso.test with --autodiscover ... --logon --rpc --mapi",
        "",
    ]
    by_host: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    for site in SITES:
        by_host.setdefault(site.host, []).append(site.address)
        detail = site.kind + (f" {site.rpc}" if site.rpc else "")
        if site.about:
            detail += f": {site.about}"
        if site.auth != ("Basic",) and site.kind == "autodiscover":
            detail += " " + "/".join(site.auth)
        if site.tls != "good":
            detail += f", TLS {site.tls}"
        kinds[site.host] = detail
    lines += _rows([(host, _shown(addrs), kinds[host]) for host, addrs in by_host.items()])
    fd = lab.frontdoors  # contrib/lab/endpoints/frontdoors.py
    lines += ["", f"Front doors (port {fd.port}): $PLUGIN -H <host> -p {fd.port} --dns-server"
              f" {dns} --ca-file {ca} --auth-certificate --health --build", ""]  # fmt: skip
    lines += _rows([(h.host, _shown(fd.addresses(h.name)), h.about) for h in FRONT_DOORS])
    manners = {
        "open": "tunnels without authentication",
        "basic": "wants Basic",
        "ntlm": "wants NTLM or Negotiate",
        "forbidden": "refuses every CONNECT (403)",
        "gateway": f"502 Bad Gateway for {GATEWAY_FAILS}, tunnels to the others",
        "silent": "accepts and never answers",
        "not-allowed": "refuses every CONNECT (405)",
        "negotiate": "wants Negotiate (alone)",
        "ports": "CONNECT to the node and web ports only (403 for the PKI site)",
        "ntlm-close": "wants NTLM or Negotiate, and closes the connection after its 407",
        "nowhere": "nothing listens",
        "garbage": "answers CONNECT with an SSH banner",
        "endless": "a header line that never ends",
        "drip": "the 200 one byte every 0.3 s",
        "chatty": "200, then bytes of its own",
        "crowded": "200 with 1,000 header lines",
        "markup": "refuses every CONNECT with HTML in its reason phrase",
    }
    lines += [
        "",
        f"Proxies: $PLUGIN -H healthy.contoso.test {common} --proxy <URL>"
        " [--proxy-user USER, the password in OUTLOOK_ANYWHERE_PROXY_PASSWORD]",
        "",
    ]
    lines += _rows([(name, lab.proxy.url(name), manners[name]) for name in (*PROXIES, "nowhere")])
    return "\n".join(lines) + "\n"


def serve(args: argparse.Namespace) -> int:
    from . import Lab
    from .identities.accounts import PASSWORD

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        # started and stopped as the tests and the demo do: Lab's context manager
        with Lab(args.dir, port=args.port, dns_port=args.dns_port) as lab:
            if args.hostile:
                from . import hostile

                hostile.install(lab)
            password_file = Path(args.dir) / "password"
            _write_atomic(password_file, PASSWORD + "\n")
            password_file.chmod(0o600)
            described = {**lab.describe(), "password_file": str(password_file)}
            line = json.dumps(described, sort_keys=True)
            text = summary(lab, password_file, args.hostile) if args.summary else line + "\n"
            if args.ready_file:
                _write_atomic(Path(args.ready_file), text)
            print(text, end="", flush=True)
            while not stop.is_set():
                stop.wait(3600)
    finally:
        if args.ready_file:  # gone once the lab has stopped
            Path(args.ready_file).unlink(missing_ok=True)
    return 0


def list_scenarios(args: argparse.Namespace) -> int:
    from .scenarios import DEMO, SCENARIOS

    width = max(len(s.name) for s in SCENARIOS)
    host_width = max(len(s.host) for s in SCENARIOS)
    for s in SCENARIOS:
        addresses = s.addresses
        shown = (
            ", ".join(addresses) if len(addresses) <= 3 else f"{addresses[0]} .. {addresses[-1]}"
        )
        if not addresses:
            shown = f"(dns: {s.dns})"
        print(f"{s.name:<{width}}  {s.host:<{host_width}}  {s.description}  [{shown}]")
    print(f"\ndemo: {', '.join(DEMO)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from . import default_workdir

    parser = argparse.ArgumentParser(
        prog="python3 -m contrib.lab", description="local fake Exchange Client Access array"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the lab until SIGTERM/SIGINT")
    p_serve.add_argument("--dir", type=Path, default=default_workdir(), help="work directory")
    p_serve.add_argument("--port", type=int, default=0, help="shared node port (0: any free)")
    p_serve.add_argument("--dns-port", type=int, default=0, help="DNS port (0: any free)")
    p_serve.add_argument("--ready-file", help="write the description here once ready")
    p_serve.add_argument(
        "--hostile",
        action="store_true",
        help="also start the hostile servers (contrib/lab/hostile.py)",
    )
    p_serve.add_argument(
        "--summary",
        action="store_true",
        help="print a readable summary (addresses, ports, credentials, commands), not JSON",
    )
    p_serve.set_defaults(func=serve)
    p_list = sub.add_parser("list", help="print the scenario table")
    p_list.set_defaults(func=list_scenarios)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
