"""Command line of the lab.

``python3 -m contrib.lab serve [--dir DIR] [--port N] [--dns-port N] [--ready-file FILE]``
starts the lab, prints its JSON description as one line (and writes it to the ready file),
then runs until SIGTERM or SIGINT.  ``python3 -m contrib.lab list`` prints the scenario table.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path

from . import Lab, default_workdir
from .scenarios import DEMO, SCENARIOS


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


def serve(args: argparse.Namespace) -> int:
    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    lab = Lab(args.dir, port=args.port, dns_port=args.dns_port)
    lab.start()
    try:
        line = json.dumps(lab.describe(), sort_keys=True)
        if args.ready_file:
            _write_atomic(Path(args.ready_file), line + "\n")
        print(line, flush=True)
        while not stop.is_set():
            stop.wait(3600)
    finally:
        lab.stop()
        if args.ready_file:
            Path(args.ready_file).unlink(missing_ok=True)
    return 0


def list_scenarios(args: argparse.Namespace) -> int:
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
    parser = argparse.ArgumentParser(
        prog="python3 -m contrib.lab", description="local fake Exchange Client Access array"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the lab until SIGTERM/SIGINT")
    p_serve.add_argument("--dir", type=Path, default=default_workdir(), help="work directory")
    p_serve.add_argument("--port", type=int, default=0, help="shared node port (0: any free)")
    p_serve.add_argument("--dns-port", type=int, default=0, help="DNS port (0: any free)")
    p_serve.add_argument("--ready-file", help="write the JSON description here once ready")
    p_serve.set_defaults(func=serve)
    p_list = sub.add_parser("list", help="print the scenario table")
    p_list.set_defaults(func=list_scenarios)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
