"""``make demo``: start the lab and run the plugin against a healthy and two broken arrays, then
log on (``--rpc --mapi --logon``) to a front end whose second node breaks Extended Protection,
and read the front doors (``--auth-certificate --health --build``) of an array whose second node
publishes an Exchange Auth certificate 20 days from expiry.

Runs the installed ``check_outlook_anywhere`` (the one next to this interpreter), else the
checkout's script, exactly as an engine would: a separate process, its output and exit code.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

from contrib.lab import DEMO, Lab, default_workdir
from contrib.lab.identities.accounts import PASSWORD

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
            show(f"{name}: {scenario.description}", args)
        password = lab.workdir / "demo-password"
        password.write_text(PASSWORD + "\n")
        password.chmod(0o600)
        args = ["--autodiscover", "logon-ep-broken@contoso.test",
                "--autodiscover-url", lab.web.url("autodiscover.contoso.test"),
                "--password-file", str(password), "--rpc", "--mapi", "--logon",
                "-p", str(lab.web.port), "--dns-server", lab.dns_server,
                "--ca-file", str(lab.ca_file)]  # fmt: skip
        show("logon-ep-broken: log on as Outlook does; node 2 binds another certificate", args)
        doors = ["-H", "fd-expiring-critical.contoso.test", "-p", str(lab.frontdoors.port),
                 "--dns-server", lab.dns_server, "--ca-file", str(lab.ca_file),
                 "--auth-certificate", "--health", "--build"]  # fmt: skip
        show("fd-expiring-critical: the front doors; node 2's Auth certificate expires soon", doors)
    return 0


def show(title: str, args: list[str]) -> None:
    """Run the plugin as an engine would and print the command, its output and exit code."""
    print(f"# {title}")
    print("$ check_outlook_anywhere " + shlex.join(args))
    done = subprocess.run([*plugin_command(), *args], capture_output=True, text=True, timeout=30)
    print(done.stdout + done.stderr, end="")
    print(f"(exit {done.returncode}: {STATES.get(done.returncode, '?')})\n")


if __name__ == "__main__":
    sys.exit(main())
