# SPDX-License-Identifier: GPL-2.0-only
"""Numeric options, range-checked as argparse types: a value out of range
is one line and exit 2 before anything runs (never a run of 0 operations
or a traceback from C)."""

from __future__ import annotations

import argparse
import math

SEED_MAX = (1 << 64) - 1    # seeds are C unsigned long long


def integer(lo: int, hi: int | None = None):
    """An int type for argparse that accepts lo..hi (hi None: no upper bound)."""
    def parse(text: str) -> int:
        try:
            v = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if v < lo or (hi is not None and v > hi):
            raise argparse.ArgumentTypeError(
                f"{v} is out of range ({lo}..{hi if hi is not None else 'any'})")
        return v
    parse.__name__ = "integer"
    return parse


def seconds(lo_exclusive: float = 0.0, hi: float = 30 * 86400.0):
    """A finite float type for argparse in (lo_exclusive, hi]."""
    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(v) or v <= lo_exclusive or v > hi:
            raise argparse.ArgumentTypeError(f"{text} is out of range (more than "
                                             f"{lo_exclusive:g}, at most {hi:g})")
        return v
    parse.__name__ = "seconds"
    return parse


SEED = integer(0, SEED_MAX)
POSITIVE = integer(1)
COUNT = integer(0)
