"""``make demo``: start the lab and run the plugin against a healthy and a broken array.

Runs the installed ``check_outlook_anywhere`` (the one next to this interpreter), else the
checkout's script, exactly as an engine would: a separate process, its output and exit code.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from contrib.lab import DEMO, Lab, default_workdir

STATES = {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}


def plugin_command() -> list[str]:
    installed = Path(sys.executable).parent / "check_outlook_anywhere"
    if installed.exists():
        return [str(installed)]
    return [sys.executable, str(Path(__file__).resolve().parents[2] / "check_outlook_anywhere.py")]


def main() -> int:
    with Lab(default_workdir()) as lab:
        print(f"lab: {len(lab.scenarios())} scenarios on 127.0.0.0/8, port {lab.port},"
              f" DNS {lab.dns_server}, CA {lab.ca_file}\n")  # fmt: skip
        for name in DEMO:
            scenario = lab.scenario(name)
            args = ["-H", scenario.host, "-p", str(lab.port),
                    "--dns-server", lab.dns_server, "--ca-file", str(lab.ca_file)]  # fmt: skip
            command = [*plugin_command(), *args]
            print(f"# {name}: {scenario.description}")
            print("$ check_outlook_anywhere " + shlex.join(args))
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
            print(done.stdout + done.stderr, end="")
            print(f"(exit {done.returncode}: {STATES.get(done.returncode, '?')})\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
