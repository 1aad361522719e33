#!/usr/bin/env python3
"""The side-by-side benchmark of docs/benchmarks.md (``make bench``).

It starts the lab, installs the working tree into a clean virtual environment (``bench/.venv``,
the way users install it: pip compiles the bytecode), and times with hyperfine, in one run and
in the same warm state:

- the plugin on its common paths: one healthy node, an 8-node healthy array, a refused node, a
  CN mismatch, a lookup through ``--dns-server`` (and ``--rpc`` / ``--autodiscover`` when the
  plugin has them and the lab serves them);
- the floor: the same interpreter importing what no check can avoid
  (``python -c "import nagiosplugin, ssl, socket"``), and the bare interpreter for reference;
- the peers on the same lab node: ``check_http -C``, ``check_curl -C`` (on the lab's RPC proxy
  node, which answers its ``GET /``) and ``check_ssl_cert``.

Every command runs in ``--rounds`` rounds (the order rotated from one round to the next, so a
drifting machine does not favour one command); the rounds' timings are merged.  Peak RSS is read
per process with GNU time (``%M``).  Written to ``bench/results/<timestamp>/``: ``results.md`` (the
table and the targets), ``results.json`` (every figure and every run), ``hyperfine-*.json``
(hyperfine's raw exports) and ``results.png`` (the chart); ``docs/benchmarks.md`` and
``docs/benchmarks.png`` are rewritten from the same figures unless ``--no-docs`` is given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import report  # noqa: E402
from contrib.lab import Lab  # noqa: E402

PLUGINS_DIR = Path("/usr/lib/nagios/plugins")
TIME = "/usr/bin/time"  # GNU time, for the peak RSS
FLOOR_IMPORTS = "import nagiosplugin, ssl, socket"
# --dns-server's floor: the same, plus the dnspython modules that path imports.
DNS_FLOOR_IMPORTS = FLOOR_IMPORTS + ", dns.resolver, dns.exception, dns.rcode"
# --logon's floor: the --dns-server floor plus pyspnego, which every NTLM logon imports.
SPNEGO_FLOOR_IMPORTS = DNS_FLOOR_IMPORTS + ", spnego"
# --auth-certificate's and --revocation's floor: the floor plus the certificate reader.
X509_FLOOR_IMPORTS = FLOOR_IMPORTS + ", cryptography.x509"
# the Kerberos logon's floor: the --dns-server floor plus python-gssapi (no pyspnego).
GSSAPI_FLOOR_IMPORTS = DNS_FLOOR_IMPORTS + ", gssapi"
# The plugin's rows and the state each must end in: a row that ends otherwise measured nothing.
EXPECTED_EXIT = {
    "single": 0,
    "healthy8": 0,
    "refused": 2,
    "cn-mismatch": 2,
    "dns-server": 0,
    "rpc": 0,
    "autodiscover": 0,
    "revocation": 0,
    "logon-rpc": 0,
    "logon-mapi": 0,
    "logon-all": 0,
    "frontdoors": 0,
    "logon-kerberos": 0,
    "proxy": 0,
    # the floors: one that cannot import what it names would count less than it should
    "floor": 0,
    "floor-dns": 0,
    "floor-spnego": 0,
    "floor-x509": 0,
    "floor-gssapi": 0,
}


@dataclass
class Row:
    key: str
    label: str  # what the table shows
    argv: list[str]
    kind: str  # plugin | floor | reference | peer
    note: str = ""
    slow: bool = False  # timed with fewer runs (check_ssl_cert takes seconds)
    first_line: str = ""
    exit_code: int | None = None
    rss_kb: list[int] = field(default_factory=list)
    instructions: int | None = None  # counted by callgrind, one run
    # what the command runs under (``env K=V``, a mount namespace; see :func:`poller_hosts`):
    # it execs the command, so time, callgrind and the RSS still see the plugin's process only
    prefix: list[str] = field(default_factory=list)

    @property
    def command(self) -> list[str]:
        return [*self.prefix, *self.argv]


# -- the environment -------------------------------------------------------------------------------


def clean_env() -> dict[str, str]:
    """The caller's environment without PYTHON* variables (PYTHONPATH would change the
    imports)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def plugin_venv(venv: Path, base_python: str, fresh: bool) -> Path:
    """A clean venv with the working tree installed as users install it (``pip install .``)."""
    if fresh and venv.exists():
        shutil.rmtree(venv)
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} from {base_python}", flush=True)
        subprocess.run([base_python, "-m", "venv", str(venv)], check=True)
    # pip rebuilds and reinstalls a local directory every time: the working tree as it is now.
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # with the ntlm extra (pyspnego): --logon logs on with NTLM, as against a real array; and
    # the kerberos extra (python-gssapi) for --auth kerberos
    subprocess.run([*pip, f"{REPO}[ntlm,kerberos]"], check=True)
    return venv


def plugin_help(venv: Path) -> str:
    proc = subprocess.run(
        [str(venv / "bin" / "check_outlook_anywhere"), "-h"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=False,
    )
    return proc.stdout


# -- the commands ----------------------------------------------------------------------------------


def poller_hosts(workdir: Path, names: dict[str, str]) -> list[str]:
    """A prefix that runs a command as on a poller whose system resolver knows ``names`` (name ->
    address; its /etc/hosts, say): the lab's names resolve only through the lab's DNS server,
    and a path that needs no ``--dns-server`` must not be measured with dnspython's import in
    it.  The command gets a mount namespace of its own with /etc/hosts bound to a copy that
    adds the names (``unshare``, util-linux; as root, or in a user namespace of its own)."""
    hosts = workdir / ("hosts-" + "-".join(sorted(names)))  # one file per set of names
    lines = [f"{address} {name}" for name, address in sorted(names.items())]
    hosts.write_text(Path("/etc/hosts").read_text() + "\n".join(lines) + "\n")
    user = [] if os.geteuid() == 0 else ["--map-root-user"]
    bind = 'mount --bind "$0" /etc/hosts && exec "$@"'
    return ["unshare", *user, "--mount", "sh", "-c", bind, str(hosts)]


def environment(variables: dict[str, str]) -> list[str]:
    """A prefix that adds ``variables`` to a command's environment (``env``, which execs it)."""
    return ["env", *(f"{k}={v}" for k, v in sorted(variables.items()))]


def build_rows(
    lab: Lab, venv: Path, workdir: Path, notes: list[str], realm: Any = None
) -> list[Row]:
    """The rows; ``realm``, a running lab KDC (contrib/lab/identities/kdc.py) the lab's
    Kerberos front ends use, adds the Kerberos logon's row."""
    port = str(lab.port)
    ca = lab.ca_file
    plugin = str(venv / "bin" / "check_outlook_anywhere")
    python = str(venv / "bin" / "python")
    single = lab.scenario("single")
    node = single.addresses[0]

    def check(scenario: str, *extra: str) -> list[str]:
        s = lab.scenario(scenario)
        given = [a for address in s.addresses for a in ("-I", address)]
        return [plugin, "-H", s.host, *given, "-p", port, "--ca-file", ca, *extra]

    rows = [
        Row("floor", "floor: python -c \"import nagiosplugin, ssl, socket\"", [python, "-c", FLOOR_IMPORTS], "floor"),  # noqa: E501
        Row("floor-dns", "floor with dnspython: the floor + dns.resolver, dns.exception, dns.rcode", [python, "-c", DNS_FLOOR_IMPORTS], "floor"),  # noqa: E501
        Row("floor-spnego", "floor with dnspython and pyspnego: the floor-dns + spnego", [python, "-c", SPNEGO_FLOOR_IMPORTS], "floor"),  # noqa: E501
        Row("floor-x509", "floor with cryptography.x509: the floor + cryptography.x509", [python, "-c", X509_FLOOR_IMPORTS], "floor"),  # noqa: E501
        Row("floor-gssapi", "floor with dnspython and python-gssapi: the floor-dns + gssapi", [python, "-c", GSSAPI_FLOOR_IMPORTS], "floor"),  # noqa: E501
        Row("python", "python -c pass (the interpreter alone)", [python, "-c", "pass"], "reference"),  # noqa: E501
        Row("single", "plugin: 1 healthy node", check("single"), "plugin"),
        Row("healthy8", "plugin: 8-node healthy array", check("healthy8"), "plugin"),
        Row("refused", "plugin: refused node", check("refused"), "plugin"),
        Row("cn-mismatch", "plugin: CN mismatch", check("cn-mismatch"), "plugin"),
        Row(
            "dns-server",
            "plugin: 1 node via --dns-server",
            [plugin, "-H", single.host, "--dns-server", lab.dns_server, "-p", port, "--ca-file", ca],  # noqa: E501
            "plugin",
        ),
    ]  # fmt: skip
    helptext = plugin_help(venv).split()
    web = getattr(lab, "web", None)
    for option in ("--rpc", "--autodiscover", "--revocation"):
        if option not in helptext:
            notes.append(f"`{option}`: not in `check_outlook_anywhere -h` yet; row skipped.")
        elif web is None:
            notes.append(f"`{option}`: the lab serves no web sites yet; row skipped.")
        else:
            rows.append(optional_row(lab, web, option, plugin, workdir))
    if "--logon" in helptext and web is not None:
        rows += logon_rows(lab, web, plugin, workdir)
        if realm is None:
            notes.append("`--auth kerberos`: no lab KDC (krb5-kdc); row skipped.")
        else:
            rows.append(kerberos_row(lab, web, realm, plugin))
    if "--proxy" in helptext and getattr(lab, "proxy", None) is not None:
        proxied = check("healthy", "--proxy", lab.proxy.url("open"))
        rows.append(Row("proxy", "plugin: 3 nodes through --proxy", proxied, "plugin", "CONNECT"))
    doors = getattr(lab, "frontdoors", None)
    if "--auth-certificate" in helptext and doors is not None:
        rows.append(frontdoors_row(lab, doors, plugin))

    peers = [
        Row(
            "check_http",
            "check_http -C 30,14 --sni",
            [
                str(PLUGINS_DIR / "check_http"),
                "-C",
                "30,14",
                "--sni",
                "-H",
                single.host,
                "-I",
                node,
                "-p",
                port,
            ],
            "peer",
            "expiry only, no name check",
        ),
        curl_row(lab, single.host, node, port),
        Row(
            "check_ssl_cert",
            "check_ssl_cert --ignore-altnames -r CA --ignore-sct --ignore-ocsp",
            [
                str(PLUGINS_DIR / "check_ssl_cert"),
                "-H",
                single.host,
                "--resolve",
                node,
                "-p",
                port,
                "--ignore-altnames",
                "-r",
                ca,
                "--ignore-sct",
                "--ignore-ocsp",
                "-w",
                "30",
                "-c",
                "14",
            ],
            "peer",
            "CN, dates, trust; OCSP off (the lab has no responder)",
            slow=True,
        ),
    ]
    for row in peers:
        if os.access(row.argv[0], os.X_OK):
            rows.append(row)
        else:
            notes.append(f"`{row.argv[0]}` not installed; row skipped.")
    return rows


def curl_row(lab: Lab, host: str, node: str, port: str) -> Row:
    """check_curl -C sends ``GET /`` and judges the certificate only once an HTTP answer came:
    a TLS-only node leaves it waiting for the node to give up (seconds), so it is pointed at
    the lab's RPC proxy node, which answers HTTP, when there is one."""
    argv = [str(PLUGINS_DIR / "check_curl"), "-C", "30,14", "--sni"]
    web = getattr(lab, "web", None)
    if web is None:
        return Row(
            "check_curl",
            "check_curl -C 30,14 --sni",
            [*argv, "-H", host, "-I", node, "-p", port],
            "peer",
            "expiry only; sends GET /, waits for the answer",
        )
    host = "rpc-ok.contoso.test"
    argv += ["-H", host, "-I", web.addresses(host)[0], "-p", str(web.port)]
    return Row(
        "check_curl",
        "check_curl -C 30,14 --sni",
        argv,
        "peer",
        "expiry only; sends GET /: on the RPC proxy node, which answers it",
    )


def optional_row(lab: Lab, web: Any, option: str, plugin: str, workdir: Path) -> Row:
    """The HTTP options, on the lab's web side (contrib/lab/endpoints/web.py) and its PKI site
    (contrib/lab/endpoints/revocation.py)."""
    if option == "--revocation":
        # rev-ok: 2 CRLs and 2 OCSP answers from pki.contoso.test, which the system resolver
        # knows here, as a poller's would
        from contrib.lab.endpoints.revocation import PKI_ADDRESS, PKI_HOST

        s = lab.scenario("rev-ok")
        argv = [plugin, "-H", s.host, "-I", s.addresses[0], "-p", str(lab.port)]
        argv += ["--ca-file", lab.ca_file, "--revocation"]
        argv += ["-t", "60"]  # under callgrind the default 10 s would end the check early
        hosts = poller_hosts(workdir, {PKI_HOST: PKI_ADDRESS})
        return Row(
            "revocation",
            "plugin: 1 node with --revocation",
            argv,
            "plugin",
            "CRL+OCSP",
            prefix=hosts,
        )
    if option == "--rpc":
        host = "rpc-ok.contoso.test"
        argv = [plugin, "-H", host, "-I", web.addresses(host)[0], "-p", str(web.port)]
        argv += ["--ca-file", lab.ca_file, "--rpc", "-t", "60"]  # callgrind: see logon_rows
        return Row("rpc", "plugin: 1 RPC proxy node with --rpc", argv, "plugin")
    password = workdir / "password"
    password.write_text(str(web.describe()["password"]) + "\n")
    healthy = lab.scenario("healthy")  # the array Autodiscover publishes
    # The endpoint's name is the system resolver's here, as a poller's would be: the URL path
    # needs no DNS library, and is compared with the plain floor.
    endpoint = "autodiscover.contoso.test"
    url = f"https://{endpoint}:{web.port}/autodiscover/autodiscover.xml"
    argv = [plugin, "-H", healthy.host, "-I", healthy.addresses[0], "-p", str(lab.port)]
    argv += ["--ca-file", lab.ca_file]
    argv += ["--autodiscover", "monitor@contoso.test", "--autodiscover-url", url]
    argv += ["--password-file", str(password), "-t", "60"]  # callgrind: see logon_rows
    hosts = poller_hosts(workdir, {endpoint: web.addresses(endpoint)[0]})
    label = "plugin: 1 node with --autodiscover"
    return Row("autodiscover", label, argv, "plugin", "Basic", prefix=hosts)


def frontdoors_row(lab: Lab, doors: Any, plugin: str) -> Row:
    """--auth-certificate --health --build on the lab's 8-node fd-ok8 array
    (contrib/lab/endpoints/frontdoors.py): per node the metadata document, five healthcheck pages
    and /owa/ over one connection, beside the TLS probe's handshake."""
    given = [a for address in doors.addresses("fd-ok8") for a in ("-I", address)]
    argv = [plugin, "-H", "fd-ok8.contoso.test", *given, "-p", str(doors.port)]
    argv += ["--ca-file", lab.ca_file, "--auth-certificate", "--health", "--build"]
    argv += ["-t", "60"]  # callgrind: see logon_rows
    label = "plugin: 8 nodes with --auth-certificate --health --build"
    return Row("frontdoors", label, argv, "plugin", "metadata, 5 healthchecks, /owa/")


def logon_rows(lab: Lab, web: Any, plugin: str, workdir: Path) -> list[Row]:
    """--logon on the lab's 3-node front end logon-ok.contoso.test, NTLM with channel binding:
    RPC (per node the echo and two channels to each of 6001, 6002, 6004, each its own TLS
    connection and logon), MAPI (per node the mailbox logon: Connect, PING, Disconnect on one
    connection), and both (Autodiscover asked twice, without and with X-MapiHttpCapability)."""
    password = workdir / "password"
    password.write_text(str(web.describe()["password"]) + "\n")
    url = f"https://autodiscover.contoso.test:{web.port}/autodiscover/autodiscover.xml"
    argv = [plugin, "-p", str(web.port), "--ca-file", lab.ca_file, "--dns-server", lab.dns_server]
    argv += ["--autodiscover", "logon-ok@contoso.test", "--autodiscover-url", url]
    argv += ["--password-file", str(password), "--logon"]
    # -t 60 / 55: under callgrind, some 50 times slower, the default 10 s would end the check
    # early, and what would be counted is the waiting for the deadline
    rpc, mapi = [*argv, "--rpc", "-t", "60"], [*argv, "--mapi", "-t", "60"]
    both = [*argv, "--rpc", "--mapi", "-t", "55"]
    return [
        Row("logon-rpc", "plugin: 3 nodes with --rpc --logon", rpc, "plugin", "NTLM"),
        Row("logon-mapi", "plugin: 3 nodes with --mapi --logon", mapi, "plugin", "NTLM"),
        Row(
            "logon-all",
            "plugin: 3 nodes with --rpc --mapi --logon",
            both,
            "plugin",
            "NTLM, mailbox logon",
        ),
    ]


@contextlib.contextmanager
def lab_realm(lab: Lab, workdir: Path, notes: list[str]) -> Iterator[Any]:
    """The lab's KDC (contrib/lab/identities/kdc.py) for the Kerberos row, its front ends using
    it; None, with a note, where the KDC's programs are not installed."""
    from contrib.lab.identities.kdc import Kdc, missing_programs

    absent = missing_programs()
    if absent:
        notes.append(f"the lab's KDC needs {', '.join(absent)}; the Kerberos row skipped.")
        yield None
        return
    with Kdc(workdir / "kdc", hosts=lab.web.kerberos_spns()) as realm:
        lab.web.use_kdc(realm)
        yield realm


def kerberos_row(lab: Lab, web: Any, realm: Any, plugin: str) -> Row:
    """--rpc --mapi --logon with --auth kerberos on the lab's Kerberos-only 3-node front end
    logon-krb.contoso.test (NTLM refused, Extended Protection Require), from the realm's user
    keytab: one service ticket per node name, a bound Kerberos token per logon."""
    url = web.url("krb.contoso.test")
    argv = [plugin, "-p", str(web.port), "--ca-file", lab.ca_file, "--dns-server", lab.dns_server]
    argv += ["--autodiscover", "logon-krb@contoso.test", "--autodiscover-url", url]
    argv += ["--username", realm.user, "--keytab", str(realm.user_keytab), "--auth", "kerberos"]
    argv += ["--rpc", "--mapi", "--logon", "-t", "55"]  # callgrind: see logon_rows
    label = "plugin: 3 nodes with --rpc --mapi --logon --auth kerberos"
    prefix = environment(dict(realm.env))
    return Row("logon-kerberos", label, argv, "plugin", "Kerberos, keytab", prefix=prefix)


# -- sanity and memory -----------------------------------------------------------------------------


def run_once(row: Row, env: dict[str, str], workdir: Path) -> None:
    """Run the command once outside hyperfine: its first line, exit code and peak RSS.

    GNU time starts it: a child forked from this process (which holds the lab) would inherit
    this process's high-water mark, which Linux keeps across exec."""
    rss = workdir / "rss"
    with tempfile.TemporaryFile() as out:
        proc = subprocess.run(
            [TIME, "-f", "%M", "-o", str(rss), *row.command],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            check=False,
        )
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    row.first_line = text.split("\n", 1)[0][:200]
    row.exit_code = proc.returncode
    row.rss_kb.append(int(rss.read_text().split()[-1]))  # kilobytes


def check_rows(rows: list[Row], env: dict[str, str], repeats: int, workdir: Path) -> None:
    for row in rows:
        for _ in range(1 if row.slow else repeats):
            run_once(row, env, workdir)
        want = EXPECTED_EXIT.get(row.key) if row.kind == "plugin" else None
        if want is not None and row.exit_code != want:
            raise SystemExit(
                f"bench: {row.label} exited {row.exit_code}, expected {want}: {row.first_line}"
            )
        print(f"  {row.key:<15} exit {row.exit_code}  {row.first_line[:90]}", flush=True)


# -- counted instructions --------------------------------------------------------------------------


def count_instructions(rows: list[Row], env: dict[str, str]) -> None:
    """Instructions of one run of each plugin and floor command (valgrind's callgrind): unlike
    wall time on a shared machine, they repeat to within a percent from one run to the next."""
    for row in rows:
        if row.kind not in ("plugin", "floor"):
            continue
        proc = subprocess.run(
            [
                *row.prefix,
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                *row.argv,
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            # a fixed hash seed: dict and set layouts, and so the count, repeat from run to run
            env={**env, "PYTHONHASHSEED": "0"},
            check=False,
        )
        expected = EXPECTED_EXIT.get(row.key)
        if expected is not None and proc.returncode != expected:  # a run cut short counts less
            raise SystemExit(
                f"bench: {row.key} ended {proc.returncode} under callgrind, not {expected}:"
                f" {proc.stdout.partition(chr(10))[0][:300]}"
            )
        found = [line for line in proc.stderr.splitlines() if "Collected :" in line]
        if not found:
            raise SystemExit(
                f"bench: callgrind counted nothing for {row.key}: {proc.stderr[-300:]}"
            )
        row.instructions = int(found[-1].rsplit(":", 1)[1].strip())
        print(f"  {row.key:<15} {row.instructions / 1e6:8.1f} M instructions", flush=True)


# -- timing ----------------------------------------------------------------------------------------


def hyperfine(
    rows: list[Row], runs: int, warmup: int, export: Path, env: dict[str, str]
) -> dict[str, Any]:
    cmd = ["hyperfine", "-N", "-i", "--style", "basic", "--warmup", str(warmup)]
    cmd += ["--runs", str(runs), "--export-json", str(export)]
    for row in rows:
        cmd += ["--command-name", row.key, shlex.join(row.command)]
    subprocess.run(cmd, check=True, env=env, stdin=subprocess.DEVNULL)
    data: dict[str, Any] = json.loads(export.read_text())
    return data


def measure(
    rows: list[Row], args: argparse.Namespace, outdir: Path, env: dict[str, str]
) -> dict[str, dict[str, list[float]]]:
    """Per command: every run's wall, user and system seconds, merged over the rounds."""
    merged: dict[str, dict[str, list[float]]] = {
        r.key: {"times": [], "cpu": [], "exit_codes": []} for r in rows
    }
    fast = [r for r in rows if not r.slow]
    slow = [r for r in rows if r.slow]
    for n in range(args.rounds):
        shift = n % len(fast)
        order = fast[shift:] + fast[:shift]
        groups = [(order, args.runs, args.warmup, "fast")]
        if slow:
            groups.append((slow, args.slow_runs, 1, "slow"))
        for group, runs, warmup, name in groups:
            print(f"\nround {n + 1}/{args.rounds}: {name} commands", flush=True)
            export = outdir / f"hyperfine-round{n + 1}-{name}.json"
            data = hyperfine(group, runs, warmup, export, env)
            for result in data["results"]:
                into = merged[result["command"]]
                into["times"].extend(result["times"])
                into["exit_codes"].extend(result.get("exit_codes") or [])
                # hyperfine exports the mean user and system time of each command's runs
                cpu = result["user"] + result["system"]
                into["cpu"].extend([cpu] * len(result["times"]))
    return merged


def summarise(rows: list[Row], merged: dict[str, dict[str, list[float]]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        m = merged[row.key]
        times = m["times"]
        cpu = m["cpu"]
        out.append(
            {
                "key": row.key,
                "label": row.label,
                "kind": row.kind,
                "note": row.note,
                "command": shlex.join(row.command),
                "exit_code": row.exit_code,
                "first_line": row.first_line,
                "runs": len(times),
                "mean": statistics.fmean(times),
                "stddev": statistics.stdev(times) if len(times) > 1 else 0.0,
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "cpu": statistics.fmean(cpu) if cpu else None,
                "peak_rss_mb": max(row.rss_kb) / 1024 if row.rss_kb else None,
                "instructions": row.instructions,
                "times": times,
                "exit_codes": m["exit_codes"],
            }
        )
    return out


# -- the machine -----------------------------------------------------------------------------------


def _first(cmd: list[str]) -> str:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else "?"


def machine(venv: Path) -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    distro = "?"
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                distro = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    python = str(venv / "bin" / "python")
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "os": distro,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": _first([python, "-c", "import sys; print(sys.version.split()[0])"]),
        "openssl": _first([python, "-c", "import ssl; print(ssl.OPENSSL_VERSION)"]),
        "nagiosplugin": _first([python, "-c", "import nagiosplugin; print(nagiosplugin.__version__)"]),  # noqa: E501
        "hyperfine": _first(["hyperfine", "--version"]),
        "check_http": _first([str(PLUGINS_DIR / "check_http"), "-V"]),
        "check_ssl_cert": _first([str(PLUGINS_DIR / "check_ssl_cert"), "--version"]),
    }  # fmt: skip


# -- main ------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=30, help="runs per command and round (30)")
    p.add_argument("--slow-runs", type=int, default=3, help="runs of check_ssl_cert per round (3)")
    p.add_argument("--rounds", type=int, default=5, help="rounds, order rotated (5)")
    p.add_argument("--warmup", type=int, default=5, help="warm-up runs per command and round (5)")
    p.add_argument("--rss-runs", type=int, default=5, help="runs for the peak RSS (5)")
    p.add_argument(
        "--python",
        default=getattr(sys, "_base_executable", sys.executable),
        help="base interpreter of the venv",
    )
    p.add_argument("--venv", type=Path, default=REPO / "bench" / ".venv")
    p.add_argument("--fresh", action="store_true", help="recreate the venv")
    p.add_argument("--results", type=Path, default=REPO / "bench" / "results")
    p.add_argument("--no-docs", action="store_true", help="leave docs/benchmarks.* alone")
    p.add_argument("--command", default="make bench", help="how this run was started (for docs)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not (shutil.which("hyperfine") and shutil.which("valgrind") and os.access(TIME, os.X_OK)):
        raise SystemExit(
            "bench: hyperfine, valgrind or GNU time is missing (make bench installs them)"
        )
    stamp = time.strftime("%Y%m%dT%H%M%S")
    outdir = args.results / stamp
    outdir.mkdir(parents=True, exist_ok=True)
    venv = plugin_venv(args.venv, args.python, args.fresh)
    env = clean_env()
    notes: list[str] = []
    with contextlib.ExitStack() as stack:
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-lab-"))
        lab = stack.enter_context(Lab(workdir))
        realm = stack.enter_context(lab_realm(lab, Path(workdir), notes))
        rows = build_rows(lab, venv, Path(workdir), notes, realm)
        print("\nevery command once (exit code, first line) and peak RSS:", flush=True)
        check_rows(rows, env, args.rss_runs, Path(workdir))
        print("\ncounted instructions (callgrind, one run each):", flush=True)
        count_instructions(rows, env)
        merged = measure(rows, args, outdir, env)
    results = {
        "stamp": stamp,
        "command": args.command,
        "argv": ["bench/run.py", *(argv if argv is not None else sys.argv[1:])],
        "settings": {
            k: getattr(args, k) for k in ("runs", "slow_runs", "rounds", "warmup", "rss_runs")
        },
        "machine": machine(venv),
        "notes": notes,
        "rows": summarise(rows, merged),
    }
    results["targets"] = report.targets(results["rows"])
    (outdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    table = report.markdown(results)
    (outdir / "results.md").write_text(table)
    report.chart(results, outdir / "results.png")
    print("\n" + table)
    print(f"results: {outdir.relative_to(REPO) if outdir.is_relative_to(REPO) else outdir}")
    if not args.no_docs:
        docs = REPO / "docs"
        docs.mkdir(exist_ok=True)
        (docs / "benchmarks.md").write_text(report.document(results, "benchmarks.png"))
        shutil.copyfile(outdir / "results.png", docs / "benchmarks.png")
        print("updated docs/benchmarks.md and docs/benchmarks.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
