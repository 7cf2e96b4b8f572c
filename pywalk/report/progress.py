# SPDX-License-Identifier: GPL-2.0-only
"""The one live progress line of long commands (stress, matrix, reproduce,
bench), on stderr, shown only when stderr is a terminal and not --quiet.

Hunts call it with (ops, elapsed_s, findings): the line shows operations,
operations per second, findings so far and the time left of the budget
(ops or seconds).  The benchmark calls phase(label, fraction): the line
shows the phase, a bar and the phase's time left.  Lines are cut to the
terminal's width so that they stay one line.
"""

from __future__ import annotations

import shutil
import sys
import time


def _secs(s: float) -> str:
    if s >= 3600:
        return f"{s / 3600:.1f} h"
    if s >= 120:
        return f"{s / 60:.0f} min"
    return f"{s:.0f} s" if s >= 10 else f"{s:.1f} s"


class Progress:
    """A live line on a terminal (see the module's docstring)."""

    def __init__(self, label: str = "", *, ops: int | None = None,
                 seconds: float | None = None, quiet: bool = False, stream=None,
                 interval: float = 0.1):
        self.label = label
        self.ops_budget = ops
        self.seconds_budget = seconds
        self.stream = stream or sys.stderr
        self.shown = not quiet and self.stream.isatty()
        self.interval = interval
        self.t0 = time.perf_counter()
        self._last = 0.0
        self._phase = ("", 0.0)         # bench: the phase and when it began
        self._dirty = False

    # -- what is written -------------------------------------------------------
    def _write(self, text: str, force: bool = False, label: str = "") -> None:
        """label + text, the label shortened first when the line is too long."""
        if not self.shown:
            return
        now = time.perf_counter()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
        room = width - len(text)
        if label and room < len(label):
            label = label[:max(0, room - 1)] + "…" if room > 8 else ""
            if not label:
                text = text.lstrip(": ")
        self.stream.write("\r\033[K" + (label + text)[:width])
        self.stream.flush()
        self._dirty = True

    def line(self, ops: int, elapsed: float, findings: int) -> str:
        rate = ops / elapsed if elapsed > 0 else 0.0
        left = None
        if self.seconds_budget is not None:
            left = max(0.0, self.seconds_budget - elapsed)
        elif self.ops_budget is not None and rate > 0:
            left = max(0.0, (self.ops_budget - ops) / rate)
        text = (f"{ops:,} ops, {rate:,.0f} ops/s, {findings} finding"
                f"{'' if findings == 1 else 's'}, {_secs(elapsed)}")
        if left is not None:
            text += f", {_secs(left)} left at most"
        return text

    # -- hunts -----------------------------------------------------------------
    def __call__(self, ops: int, elapsed: float, findings: int) -> None:
        if self.shown:
            self._write(": " + self.line(ops, elapsed, findings) if self.label else
                        self.line(ops, elapsed, findings), label=self.label)

    # -- phases (pywalk bench) ---------------------------------------------------
    def phase(self, label: str, fraction: float | None = None) -> None:
        if not self.shown:
            return
        now = time.perf_counter()
        if label != self._phase[0]:
            self._phase = (label, now)
        text = f"{self.label + ': ' if self.label else ''}{label}"
        if fraction is not None:
            n = int(max(0.0, min(1.0, fraction)) * 20)
            text += f" [{'#' * n}{'.' * (20 - n)}]"
            spent = now - self._phase[1]
            if 0 < fraction < 1 and spent > 0.5:
                text += f" {_secs(spent * (1 - fraction) / fraction)} left"
        text += f", {_secs(now - self.t0)} in all"
        self._write(text, force=fraction in (0.0, 1.0))

    def done(self) -> None:
        if self.shown and self._dirty:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._dirty = False


def factory(*, ops: int | None = None, seconds: float | None = None, quiet: bool = False,
            total: int | None = None):
    """label -> Progress, for campaigns of hunts (matrix, reproduce): each
    hunt gets its line, numbered "[i/total]" when total is given."""
    count = [0]

    def make(label: str) -> Progress:
        count[0] += 1
        head = f"[{count[0]}/{total}] " if total else ""
        return Progress(head + label, ops=ops, seconds=seconds, quiet=quiet)
    return make
