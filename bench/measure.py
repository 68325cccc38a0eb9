"""Run a piece of Python in a child process and measure that process alone: its wall time and
its peak resident memory.

Why a launcher: RUSAGE_CHILDREN's ru_maxrss is the largest of all the children a process has
waited for, so measured from the benchmark itself it also counts the export generator and the
floor's read that ran before. The launcher's only child is the measured process.
"""

from __future__ import annotations

import subprocess
import sys
import time

LAUNCHER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:])
print(f"peak_rss_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}", file=sys.stderr)
sys.exit(done.returncode)
"""


def run_measured(code: str, *args: str, env: dict[str, str] | None = None) -> tuple[str, float, float]:
    """(the child's stdout, wall seconds seen from outside, the child's own peak RSS in MiB);
    exits with the end of its stderr when it fails. `env`: the child's environment (default: ours)."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )
    outside = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"child failed:\n{done.stderr[-3000:]}")
    peak = next(line for line in reversed(done.stderr.splitlines()) if line.startswith("peak_rss_kib=")).removeprefix(
        "peak_rss_kib="
    )
    return done.stdout, outside, int(peak) / 1024
