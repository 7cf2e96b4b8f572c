# SPDX-License-Identifier: GPL-2.0-only
"""Benchmark layouts: which page tables each layout builds, and sizes.

A layout is a plan of segments (address ranges with a fault step and
read/write), so that both variants of a comparison are populated by the
same faults.  Sizes are checked against the layout's unit and against the
memory two variants' tables would take.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable

from pywalk.errors import UsageError

KiB, MiB, GiB, TiB = 1 << 10, 1 << 20, 1 << 30, 1 << 40
PAGE = 4096
MAX_SIZE = 16 * TiB


@dataclass(frozen=True)
class Seg:
    """Faults at start, start + step, ... < end (offsets into the mapping)."""

    start: int
    end: int
    step: int
    write: bool = False


def _pud_plan(size: int) -> list[Seg]:
    return [Seg(0, size, GiB)]


def _pmd_plan(size: int) -> list[Seg]:
    return [Seg(0, size, 2 * MiB)]


def _pte_plan(size: int) -> list[Seg]:
    return [Seg(0, size, PAGE)]


MIX_PTES = 64 * MiB


def _mix_plan(size: int) -> list[Seg]:
    """Per GiB, in turn: a 1 GiB leaf; 511 2 MiB leaves after a pte table;
    64 MiB of 4 KiB ptes (write faults on the write-notify mapping fall
    back to ptes); nothing."""
    segs = []
    for g in range(0, size, GiB):
        kind = (g // GiB) % 4
        if kind == 0:
            segs.append(Seg(g, g + GiB, GiB))
        elif kind == 1:
            segs.append(Seg(g, g + PAGE, PAGE, write=True))
            segs.append(Seg(g + 2 * MiB, g + GiB, 2 * MiB))
        elif kind == 2:
            segs.append(Seg(g, g + MIX_PTES, PAGE, write=True))
    return segs


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    huge: object            # MM.map(huge=...)
    write_notify: bool
    plan: Callable[[int], list[Seg]]
    largest: int            # default: scaling sizes up to this
    compare: int            # default: the A/B comparison walks this much
    unit: int               # sizes are multiples of this
    tables_per_gib: float   # page-table bytes per GiB mapped (estimate)

    def table_bytes(self, size: int) -> int:
        return int(self.tables_per_gib * size / GiB) + 2 * PAGE


LAYOUTS = {
    "pud": Layout("pud", "1 GiB leaves (read faults on a PUD-capable mapping)", "pud", False,
                  _pud_plan, TiB, TiB, GiB, 8),
    "pmd": Layout("pmd", "2 MiB leaves (read faults, mapping huge='pmd')", "pmd", False,
                  _pmd_plan, TiB, 256 * GiB, GiB, PAGE),
    "pte": Layout("pte", "4 KiB ptes (read faults, mapping huge=False)", False, False,
                  _pte_plan, 16 * GiB, 4 * GiB, GiB, PAGE + 512 * PAGE),
    "mix": Layout("mix", "per 4 GiB: a 1 GiB leaf, 511 2 MiB leaves, 64 MiB of ptes "
                  "(write faults, write-notify), a hole", "pud", True,
                  _mix_plan, 64 * GiB, 64 * GiB, 4 * GiB, PAGE + 9 * PAGE),
}


def parse_size(text: str) -> int:
    """'64G', '1T', '512M', '1GiB', '4096' -> bytes."""
    t = text.strip().lower().replace("ib", "").replace("b", "")
    mult = {"k": KiB, "m": MiB, "g": GiB, "t": TiB}.get(t[-1:], 1)
    num = t[:-1] if mult != 1 else t
    try:
        value = float(num)
    except ValueError:
        raise UsageError(f"pywalk: bad size {text!r} (use e.g. 64G, 1T)") from None
    if value <= 0 or not math.isfinite(value):
        raise UsageError(f"pywalk: bad size {text!r} (use e.g. 64G, 1T)")
    return int(value * mult)


def fmt_size(n: int) -> str:
    for unit, name in ((TiB, "TiB"), (GiB, "GiB"), (MiB, "MiB"), (KiB, "KiB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n} B"


def mem_available() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * KiB
    except OSError:
        pass
    return 0


def check_size(layout: Layout, size: int) -> None:
    """A one-line UsageError unless size suits the layout and memory."""
    if size < layout.unit or size % layout.unit:
        raise UsageError(f"pywalk: --size {fmt_size(size)}: the {layout.name} layout needs a "
                         f"multiple of {fmt_size(layout.unit)}")
    if size > MAX_SIZE:
        raise UsageError(f"pywalk: --size {fmt_size(size)} is larger than {fmt_size(MAX_SIZE)}")
    need = 2 * layout.table_bytes(size)     # both variants
    avail = mem_available()
    if avail and need > avail // 2:
        raise UsageError(f"pywalk: the {layout.name} layout at {fmt_size(size)} needs about "
                         f"{need / GiB:.1f} GiB of page tables for two variants; "
                         f"{avail / GiB:.1f} GiB available (use a smaller --size)")


def default_sizes(layout: Layout, largest: int | None = None) -> list[int]:
    """Scaling sizes: from one unit (at least 1 GiB) up to largest, x2 or x4 apart."""
    largest = largest or layout.largest
    lo = max(layout.unit, GiB)
    factor = 2 if largest // lo <= 32 else 4
    sizes = [largest]
    while sizes[-1] // factor >= lo and sizes[-1] % factor == 0:
        nxt = sizes[-1] // factor
        if nxt % layout.unit:
            break
        sizes.append(nxt)
    return sorted(sizes)


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return 0
