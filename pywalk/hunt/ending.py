# SPDX-License-Identifier: GPL-2.0-only
"""How a hunt ends, whatever its threads are doing.

Threads look at their stop flag between kernel operations.  A thread that
loops inside kernel code never looks: the soft-lockup watchdog
(shim/checkers/watchdog.c) reports it after the lockup time, and `unwind()`
ends it at once on Ctrl-C or at the time bound, by the watchdog's signal.
"""

from __future__ import annotations

import time

LOCKUP_S = 10.0     # like the kernel's soft-lockup report (2 x watchdog_thresh)
GRACE_S = 3.0       # past the time budget, threads still in kernel code are unwound


def unwind(lib, request_stop, threads, patience: float = 1.0) -> int:
    """Ask the threads to stop; unwind those still inside kernel code after
    `patience` seconds.  Returns how many had to be unwound."""
    request_stop()
    _join(threads, patience)
    stuck = sum(t.is_alive() for t in threads)
    if stuck:
        lib.pw_watchdog_kick()
        _join(threads, patience)
    return stuck


def _join(threads, seconds: float) -> None:
    deadline = time.perf_counter() + seconds
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.perf_counter()))
