# SPDX-License-Identifier: GPL-2.0-only
"""A live progress line on stderr, shown only on a terminal."""

from __future__ import annotations

import sys


class Progress:
    """A live line on a terminal: ops, ops/s, findings."""

    def __init__(self, label: str):
        self.label = label
        self.tty = sys.stderr.isatty()

    def __call__(self, ops: int, elapsed: float, findings: int) -> None:
        if self.tty:
            rate = ops / elapsed if elapsed else 0
            sys.stderr.write(f"\r{self.label}: {ops:,} ops  {rate:,.0f} ops/s  "
                             f"{findings} finding(s)  {elapsed:5.1f} s ")
            sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
