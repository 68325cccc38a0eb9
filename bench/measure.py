"""Run a piece of Python in a child process and measure that process alone: its wall time and
its peak resident memory.

Why a launcher: RUSAGE_CHILDREN's ru_maxrss is the largest of all the children a process has
waited for, so measured from the benchmark itself it also counts the export generator and the
floor's read that ran before. The launcher's only child is the measured process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

LAUNCHER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:])
print(f"peak_rss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(done.returncode)
"""


class TimedOut(Exception):
    """The child ran past its time limit and was stopped (with its own children)."""


def run_measured(
    code: str, *args: str, env: dict[str, str] | None = None, cwd: str | None = None, timeout: float | None = None
) -> tuple[str, float, float]:
    """(the child's stdout, wall seconds seen from outside, the child's own peak RSS in MiB);
    exits with the end of its stderr when it fails. `env`, `cwd`: the child's environment and
    folder (default: ours). `timeout`: seconds, after which the launcher and the child are
    stopped and TimedOut is raised."""
    started = time.perf_counter()
    with subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
        start_new_session=True,  # its own process group, so that a timeout stops the child too
    ) as launched:
        try:
            stdout, stderr = launched.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(launched.pid, signal.SIGKILL)
            launched.communicate()
            raise TimedOut(f"stopped after {timeout:g} s") from None
    outside = time.perf_counter() - started
    if launched.returncode:
        sys.exit(f"child failed:\n{stderr[-3000:]}")
    peak = next(line for line in reversed(stderr.splitlines()) if line.startswith("peak_rss_kib=")).removeprefix(
        "peak_rss_kib="
    )
    return stdout, outside, int(peak) / 1024
