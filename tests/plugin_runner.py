"""Runs the plugin many times for the soak and leak tests (a process of its own, started by them).

``python3 tests/plugin_runner.py fork``: reads one JSON argument vector per line on stdin; for
each, forks a child that runs the real entry point (``main()``: its own process, exit code,
stdout, stderr, sockets and deadline) and answers one JSON line: code, stdout, stderr, elapsed.
The interpreter start-up and imports are paid once, so hundreds of consecutive runs fit in the
default suite (start-up has its own benchmark).

``python3 tests/plugin_runner.py leaks N ARGS...``: runs ``run(ARGS)`` N times in this one
process and reports the open file descriptors, threads and resident memory before and after.
"""

from __future__ import annotations

import json
import os
import select
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import check_outlook_anywhere

HARD_LIMIT = 60.0  # a run still going after this is killed and reported as such


def _child(argv: list[str], out_w: int, err_w: int) -> None:
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    sys.argv = ["check_outlook_anywhere", *argv]
    code = 70
    try:
        check_outlook_anywhere.main()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        os._exit(code)


def _collect(pid: int, out_r: int, err_r: int) -> tuple[int, bytes, bytes]:
    data = {out_r: b"", err_r: b""}
    open_fds = [out_r, err_r]
    until = time.monotonic() + HARD_LIMIT
    while open_fds:
        ready, _, _ = select.select(open_fds, [], [], max(until - time.monotonic(), 0))
        if not ready:
            os.kill(pid, 9)
            break
        for fd in ready:
            chunk = os.read(fd, 65536)
            if chunk:
                data[fd] += chunk
            else:
                open_fds.remove(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), data[out_r], data[err_r]


def fork_loop() -> None:
    for line in sys.stdin:
        argv = json.loads(line)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            os.close(out_r)
            os.close(err_r)
            _child(argv, out_w, err_w)
        os.close(out_w)
        os.close(err_w)
        code, out, err = _collect(pid, out_r, err_r)
        os.close(out_r)
        os.close(err_r)
        answer = {
            "code": code,
            "stdout": out.decode("utf-8", "replace"),
            "stderr": err.decode("utf-8", "replace"),
            "elapsed": time.monotonic() - started,
        }
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def _counts() -> dict[str, int]:
    # the kernel's counts: threads started by _thread (the probes') are not threading's
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "threads": int(status["Threads"]),
        "rss_kib": int(status["VmRSS"].split()[0]),
    }


def leaks(count: int, argv: list[str]) -> None:
    codes: dict[int, int] = {}
    check_outlook_anywhere.run(argv)  # the first run loads lazily imported modules and contexts
    before = _counts()
    for number in range(count):
        _text, code = check_outlook_anywhere.run(argv)
        codes[code] = codes.get(code, 0) + 1
        if number == count // 10:
            warm = _counts()
    settle = time.monotonic() + 5.0  # probe threads of the last run end with their sockets
    while _counts()["threads"] > before["threads"] and time.monotonic() < settle:
        time.sleep(0.05)
    print(json.dumps({"before": before, "warm": warm, "after": _counts(), "codes": codes}))


if __name__ == "__main__":
    if sys.argv[1] == "fork":
        fork_loop()
    else:
        leaks(int(sys.argv[2]), sys.argv[3:])
