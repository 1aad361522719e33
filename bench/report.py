"""Figures to words and pictures: the targets, the Markdown table, the chart and
docs/benchmarks.md, all from one run's ``results.json`` (``python -m bench.report FILE``
rewrites them from a saved run)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}
# The speed targets, as ratios from one run.
FLOOR_RATIO = 1.3
PEER_FACTOR = 15.0
ARRAY_RATIO = 1.3
RSS_LIMIT_MB = 40.0
# Counted instructions of each path, as a ratio to the floor's (--dns-server: to the floor that
# also imports the dnspython modules it uses).
INSTRUCTION_GOALS = {
    "single": ("1 healthy node", "floor", 1.15),
    "healthy8": ("8 nodes", "floor", 1.40),
    # per node one connection to the RPC proxy beside the TLS probe's: RPC_IN_DATA, then the
    # health check on it (IIS keeps it open after its 401)
    "rpc": ("--rpc, one node", "floor", 1.20),
    # the URL path needs no DNS library (the row's names come from the system resolver, as on
    # a poller); its XML parser (defusedxml) is in the row, held to the plain floor
    "autodiscover": ("--autodiscover (Basic), one node", "floor", 1.35),
    "dns-server": ("--dns-server", "floor-dns", 1.05),
    # --logon: per node of the 3-node array a TLS connection and NTLM logon for the echo and
    # for each of the six channels of the three endpoints (RPC), or one for the mailbox logon
    # (MAPI); each further connection to a node resumes the TLS session of the one before, and
    # the NT hash is derived once per check.  The floor imports pyspnego (and, where it is
    # installed, python-gssapi, which pyspnego imports).
    "logon-rpc": ("--rpc --logon, 3 nodes (NTLM)", "floor-spnego", 1.40),
    "logon-mapi": ("--mapi --logon, 3 nodes (NTLM)", "floor-spnego", 1.20),
    # both, the mailbox logon (Connect, PING, Disconnect) included and Autodiscover asked twice
    "logon-all": ("--rpc --mapi --logon, 3 nodes (NTLM, mailbox logon)", "floor-spnego", 1.50),
    # the same with Kerberos from a keytab: python-gssapi, no pyspnego
    "logon-kerberos": ("--rpc --mapi --logon --auth kerberos, 3 nodes", "floor-gssapi", 1.65),
    # per node the Auth metadata, five healthcheck pages and /owa/ over one connection; the
    # metadata's certificate is read with cryptography, whose import is in its floor
    "frontdoors": ("--auth-certificate --health --build, 8 nodes", "floor-x509", 1.40),
    # per node a CRL and an OCSP answer per certificate, read with cryptography
    "revocation": ("--revocation, one node", "floor-x509", 1.30),
    # three tunnels through one CONNECT proxy
    "proxy": ("--proxy, 3 nodes", "floor", 1.35),
}
FLOOR_IMPORTS_DOC = "import nagiosplugin, ssl, socket"

Rows = list[dict[str, Any]]


def _by_key(rows: Rows) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows}


def _stderr_of_mean(row: dict[str, Any]) -> float:
    return float(row["stddev"]) / math.sqrt(max(int(row["runs"]), 1))


def no_slower(path: dict[str, Any], healthy: dict[str, Any]) -> tuple[bool, float]:
    """Whether ``path`` is no slower than ``healthy``: its mean is lower, or higher by less than
    two standard errors of the difference (the same work cannot be ranked inside the noise).
    Returns the verdict and that noise margin in seconds."""
    margin = 2 * math.hypot(_stderr_of_mean(path), _stderr_of_mean(healthy))
    return path["mean"] <= healthy["mean"] + margin, margin


def targets(rows: Rows) -> list[dict[str, Any]]:
    """Each target with its measured value and whether it is met; missing rows are skipped."""
    by = _by_key(rows)
    out: list[dict[str, Any]] = []

    def add(name: str, value: str, met: bool) -> None:
        out.append({"target": name, "measured": value, "met": met})

    for key, (name, base, goal) in INSTRUCTION_GOALS.items():
        row, floor = by.get(key), by.get(base)
        if row and floor and row.get("instructions") and floor.get("instructions"):
            r = row["instructions"] / floor["instructions"]
            add(f"{name}: counted instructions within {goal}× of {base}", f"{r:.2f}×", r <= goal)
    single = by.get("single")
    if single is None:
        return out
    if "floor" in by:
        r = single["mean"] / by["floor"]["mean"]
        add(f"1 healthy node within {FLOOR_RATIO}× of the floor", f"{r:.2f}×", r <= FLOOR_RATIO)
    if "check_ssl_cert" in by:
        r = by["check_ssl_cert"]["mean"] / single["mean"]
        name = f"1 healthy node at least {PEER_FACTOR:g}× faster than check_ssl_cert on it"
        add(name, f"{r:.1f}×", r >= PEER_FACTOR)
    if "healthy8" in by:
        r = by["healthy8"]["mean"] / single["mean"]
        add(f"8 nodes within {ARRAY_RATIO}× of 1 node", f"{r:.2f}×", r <= ARRAY_RATIO)
    for key, name in (("refused", "refused node"), ("cn-mismatch", "CN mismatch")):
        if key in by:
            ok, margin = no_slower(by[key], single)
            r = by[key]["mean"] / single["mean"]
            shown = f"{r:.2f}× of healthy (noise ±{margin / single['mean']:.2f})"
            add(f"{name} no slower than the healthy node", shown, ok)
    rss = single.get("peak_rss_mb")
    if rss is not None:
        add(
            f"peak RSS of the default path under {RSS_LIMIT_MB:g} MB",
            f"{rss:.1f} MB",
            rss < RSS_LIMIT_MB,
        )
    return out


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    ms = seconds * 1000
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:.1f}"


def _state(row: dict[str, Any]) -> str:
    if row["kind"] in ("floor", "reference"):
        return "–"
    return STATES.get(row["exit_code"], str(row["exit_code"]))


def table(results: dict[str, Any]) -> str:
    rows: Rows = results["rows"]
    by = _by_key(rows)
    floor = by.get("floor", {}).get("mean")
    peer = by.get("check_ssl_cert", {}).get("mean")
    lines = [
        "| command | state | mean ms | min ms | max ms | CPU ms | peak RSS MB | × floor"
        " | M instructions | instructions × floor | check_ssl_cert ÷ this |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        rss = f"{r['peak_rss_mb']:.1f}" if r.get("peak_rss_mb") is not None else "–"
        to_floor = f"{r['mean'] / floor:.2f}" if floor else "–"
        to_peer = f"{peer / r['mean']:.1f}" if peer else "–"
        label = r["label"] + (f" ({r['note']})" if r.get("note") else "")
        count = r.get("instructions")
        base = by.get(INSTRUCTION_GOALS.get(r["key"], ("", "floor", 0))[1], {}).get("instructions")
        millions = f"{count / 1e6:.1f}" if count else "–"
        to_floor_count = f"{count / base:.2f}" if count and base else "–"
        lines.append(
            f"| {label} | {_state(r)} | {_ms(r['mean'])} | {_ms(r['min'])} | {_ms(r['max'])}"
            f" | {_ms(r['cpu'])} | {rss} | {to_floor} | {millions} | {to_floor_count}"
            f" | {to_peer} |"
        )
    return "\n".join(lines) + "\n"


def target_list(results: dict[str, Any]) -> str:
    lines = []
    for t in results["targets"]:
        mark = "met" if t["met"] else "**NOT met**"
        lines.append(f"- {t['target']}: {t['measured']} — {mark}")
    return "\n".join(lines) + "\n"


def markdown(results: dict[str, Any]) -> str:
    s = results["settings"]
    head = (
        f"Benchmark {results['stamp']}: `{results['command']}`"
        f" (`{' '.join(results['argv'])}`); {s['rounds']} rounds of {s['runs']} runs per"
        f" command ({s['slow_runs']} for check_ssl_cert) after {s['warmup']} warm-up runs.\n\n"
    )
    notes = "".join(f"- {n}\n" for n in results["notes"])
    return (
        head
        + table(results)
        + "\nTargets:\n\n"
        + target_list(results)
        + ("\nNotes:\n\n" + notes if notes else "")
    )


def chart(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows: Rows = list(reversed(results["rows"]))
    colours = {"plugin": "#2a6fb0", "floor": "#7a7a7a", "reference": "#b5b5b5", "peer": "#d9822b"}
    means = [r["mean"] * 1000 for r in rows]
    low = [(r["mean"] - r["min"]) * 1000 for r in rows]
    high = [(r["max"] - r["mean"]) * 1000 for r in rows]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(rows) + 1.6), dpi=110)
    ax.barh(
        range(len(rows)),
        means,
        xerr=[low, high],
        color=[colours.get(r["kind"], "#444444") for r in rows],
        error_kw={"elinewidth": 0.8, "capsize": 2, "ecolor": "#333333"},
    )
    ax.set_yticks(range(len(rows)), [r["label"] for r in rows], fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("wall time per check, ms (log scale; bar = mean, whiskers = min..max)")
    floor = _by_key(rows).get("floor")
    for i, r in enumerate(rows):
        text = f"{_ms(r['mean'])} ms"
        if floor:
            text += f"  ({r['mean'] / floor['mean']:.2f}× floor)"
        ax.text(r["max"] * 1000 * 1.08, i, text, va="center", fontsize=7)
    if floor:
        ax.axvline(floor["mean"] * 1000, color="#7a7a7a", linestyle=":", linewidth=1)
    ax.set_xlim(right=max(r["max"] for r in rows) * 1000 * 8)
    ax.set_title(f"check_outlook_anywhere and its peers, side by side ({results['stamp']})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _scale(results: dict[str, Any]) -> str:
    by = _by_key(results["rows"])
    lines = []
    for key in ("single", "healthy8"):
        row = by.get(key)
        if row is None or not row.get("cpu"):
            continue
        cpu_ms = row["cpu"] * 1000
        per_minute = 60000 / cpu_ms
        lines.append(
            f"| {row['label'].removeprefix('plugin: ')} | {cpu_ms:.0f} ms |"
            f" {per_minute:,.0f} | {per_minute * 5:,.0f} | {per_minute * 5 * 0.5:,.0f} |"
        )
    peer = by.get("check_ssl_cert")
    if peer and peer.get("cpu"):
        per_minute = 60000 / (peer["cpu"] * 1000)
        lines.append(
            f"| check_ssl_cert, for comparison | {peer['cpu'] * 1000:,.0f} ms |"
            f" {per_minute:,.0f} | {per_minute * 5:,.0f} | {per_minute * 5 * 0.5:,.0f} |"
        )
    return (
        "| check | CPU per check | checks per core per minute | services per core at a"
        " 5-minute interval | the same at 50 % of a core |\n|---|--:|--:|--:|--:|\n"
        + "\n".join(lines)
        + "\n"
    )


def machine_table(results: dict[str, Any]) -> str:
    m = results["machine"]
    names = {
        "cpu": "CPU",
        "cores": "cores",
        "os": "OS",
        "kernel": "kernel",
        "python": "Python (the plugin's venv)",
        "openssl": "OpenSSL",
        "nagiosplugin": "nagiosplugin",
        "hyperfine": "hyperfine",
        "check_http": "check_http",
        "check_ssl_cert": "check_ssl_cert",
    }
    return "| | |\n|---|---|\n" + "".join(
        f"| {names.get(k, k)} | {v} |\n" for k, v in m.items() if k in names
    )


def _when(stamp: str) -> str:
    """20261127T025742 -> 2026-11-27 02:57:42"""
    if len(stamp) != 15:
        return stamp
    return f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}:{stamp[13:]}"


def document(results: dict[str, Any], png: str) -> str:
    """docs/benchmarks.md: the latest run, how it was made, and what it means at scale."""
    notes = "".join(f"- {n}\n" for n in results["notes"])
    notes_section = f"### Notes\n\n{notes}\n" if notes else ""
    s = results["settings"]
    return f"""# Benchmarks

A monitoring poller starts this plugin as a new process for every check, thousands of times an
hour, so start-up and the handshakes are its whole cost. This page keeps the latest side-by-side
run of the benchmark: the plugin on its common paths, its *floor* (the same interpreter
importing what no check can avoid: `python -c "{FLOOR_IMPORTS_DOC}"`) and its peers
(`check_http -C`, `check_curl -C`, `check_ssl_cert`) against the same node of the
[lab](../README.md#the-lab). Absolute times on a shared machine drift by ±30 %, so the targets
are ratios from one run.

## How to run it

```sh
make bench
```

`make bench` installs hyperfine and the peers (Debian packages, as root) and matplotlib (the
`bench` extra), installs the working tree into a clean virtual environment `bench/.venv` the way
users install it (`pip install .`, which compiles the bytecode), starts the lab, runs every
command once to check its state and read its peak RSS (GNU time), then times all of them with
hyperfine (`-N`, warm-up runs, `--export-json`) in rounds with the order rotated. It writes
`bench/results/<timestamp>/` (`results.md`, `results.json` with every run, hyperfine's raw
JSON, `results.png`) and rewrites this page and its chart. `python3 bench/run.py --help` lists
the knobs (runs, rounds, `--no-docs`).

## Latest run

Run of {_when(results["stamp"])} with `{results["command"]}` (that is,
`{" ".join(results["argv"])}`): {s["rounds"]} rounds of {s["runs"]} runs per command
({s["slow_runs"]} for check_ssl_cert), each after {s["warmup"]} warm-up runs, on this machine:

{machine_table(results)}
{table(results)}
*state*: what the command reported on its lab node. *CPU*: user + system time of the process
and everything it started. *× floor*: mean over the floor's mean. *check_ssl_cert ÷ this*: how
many times faster than check_ssl_cert. `check_curl -C` sends `GET /` and judges the certificate
only once an HTTP answer came, so it runs against the lab's RPC proxy node (same PKI, same
chain length), which answers; the TLS-only node would leave it waiting for the node to give up.
The lab serves all 8 nodes of the array from this same machine, so their side of the 8
handshakes competes with the plugin for the same cores; on a real array that work is done by
8 servers.

### Targets

{target_list(results)}
"No slower" means a lower mean, or a higher one by less than two standard errors of the
difference: two paths that do the same work cannot be ranked inside the noise.

{notes_section}![the same figures as a chart]({png})

## Where the time goes, and what keeps it low

- The floor is most of the cost: the interpreter (see `python -c pass`) plus `nagiosplugin`,
  `ssl` and `socket`.
- The default path imports nothing else that is heavy: no `dns` (dnspython, only with
  `--dns-server`), no `http.client`, no XML, no `cryptography` (only to explain a weak key or
  signature), no `dataclasses`, `typing` or `calendar`. `tests/test_import_hygiene.py` keeps it
  that way.
- The certificate facts come from OpenSSL's own decoding of the verified handshake; one TLS
  context serves every node; the nodes are probed concurrently, so 8 nodes cost about one.
- Options pay for what they need only when given: `--dns-server` loads dnspython, `--rpc` and
  `--autodiscover` the HTTP client and the hardened XML parser (and they wait for the servers'
  answers); their rows above show what that costs.
- After printing, the command-line entry point leaves without the interpreter's teardown
  (`os._exit` once stdout is flushed); `run()` stays usable in-process.
- Installs compile bytecode (`pip install`). A drop-in checkout should be run once by a user
  who can write `__pycache__/` beside the modules (see the README).

## Scale on paper

From the CPU time per check measured above (user + system, the process and everything it
started), one core of a poller or satellite sustains:

{_scale(results)}
On a real network the wall time also grows with the round trips to the nodes, which cost the
poller nothing; the CPU time is what a core spends. Keep the checks under about half of the
poller's cores so the monitoring daemon, its other checks and the bursts after a restart have
room.

When one poller would pass that, or when the Client Access nodes sit in networks the master
cannot reach (DMZ, branch sites, the internal view next to the external one through
`--dns-server`), move the checks to Icinga 2 satellites (or agents) in those zones: each runs
the plugin locally and sends only results to the master. The README's
[Icinga 2](../README.md#icinga-2) section ("Distributed (satellites and agents)") shows where the
CheckCommand and the plugin go.
"""


def main(argv: list[str]) -> int:
    """Rewrite results.md, results.png and docs/benchmarks.* from a saved results.json."""
    path = Path(argv[0])
    results = json.loads(path.read_text())
    results["targets"] = targets(results["rows"])
    (path.parent / "results.md").write_text(markdown(results))
    chart(results, path.parent / "results.png")
    if "--docs" in argv:
        docs = Path(__file__).resolve().parent.parent / "docs"
        docs.mkdir(exist_ok=True)
        (docs / "benchmarks.md").write_text(document(results, "benchmarks.png"))
        chart(results, docs / "benchmarks.png")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
