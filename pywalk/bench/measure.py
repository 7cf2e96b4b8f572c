# SPDX-License-Identifier: GPL-2.0-only
"""Measuring arms: one variant's populated mm (Side), a timed block of walks
(Arm), calibration and seeded rounds, paired B/A ratios, and refaulting
threads for the contended phase.  pywalk/bench/runner.py strings them into
a benchmark."""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from pywalk.bench import stats
from pywalk.bench.layouts import GiB, Layout, Seg
from pywalk.errors import EXIT_FINDING, PywalkError
from pywalk.variant import consts
from pywalk.variant.runtime import ERR_OOPS, ERR_PANIC, ERR_TAINTED, MM, WALKERS, Variant

WALKER = "count-dirty"      # the default walker (ours): never splits a huge leaf
# walkers that split huge leaves on their way down (no pud_entry / pmd_entry
# that stops at a leaf): timed under refault (pywalk/bench/refault.py).
# Ours (csrc/walkers.c) count as they walk; the tree's numa_maps client
# (csrc/clients.c) is timed as it runs and counted by census walks.
SPLITTING = ("numa_maps", "count-numa", "pmd_pte")
TREE_WALKERS = ("numa_maps",)
BENCH_WALKERS = (WALKER,) + SPLITTING
# arm name: PW_BENCH_FLOOR_* (csrc/pywalk_api.h)
FLOOR_MODES = consts.named("PW_BENCH_FLOOR_", {"floor": "SHIM", "floor_raw": "RAW", "floor_cb": "CB"})
FLOOR_WEIGHT = 0.25         # time share of each floor arm, relative to a or b


class BenchError(PywalkError):
    """A benchmark could not run as set up (or kernel code oopsed in it)."""

    exit_code = EXIT_FINDING


class BenchOops(BenchError):
    """Kernel code oopsed or warned during a benchmark call (report attached)."""

    def __init__(self, message: str, report):
        super().__init__(message)
        self.report = report


ENTRY_CALLBACKS = ("pgd_entry", "p4d_entry", "pud_entry", "pmd_entry", "pte_entry", "pte_hole")


# ---- one variant's populated mm -----------------------------------------

class Side:
    """One variant's mm holding a layout, and the C calls on it."""

    def __init__(self, variant: Variant, layout: Layout, size: int, walker: str = WALKER,
                 tracked: bool = False):
        self.variant = variant
        self.layout = layout
        self.size = size
        self.walker = walker
        self.tracked = tracked
        self.lib, self.ffi = variant.lib, variant.ffi
        self.mm = self._new_mm()
        self.start = self.mm.map(size, huge=layout.huge, write_notify=layout.write_notify)
        self._ns = self.ffi.new("long long[]", 1024)
        self.counts = self.ffi.new("struct pw_walk_counts *")
        self._entries = self.ffi.new("long *")
        self.pages = 0          # page-table pages its population took
        self.tot = dict.fromkeys(("walks", "splits", "retries", "entries"), 0)

    def _new_mm(self) -> MM:
        """An mm whose stores keep no history (shim/checkers/history.c), unless
        tracked: the benchmark times the tree's code, not that bookkeeping
        (a record and a lock check per entry store: most of a split's time)."""
        mm = MM(self.variant)
        self.lib.pw_mm_set_untracked(mm.handle, 0 if self.tracked else 1)
        return mm

    def rebuild(self, segs: list[Seg]) -> None:
        """A new mm with the same mapping and faults (after an oops tainted
        this one, or for a new placement): populated before the old one is
        freed, so that its tables lie elsewhere."""
        old = self.mm
        self.mm = self._new_mm()
        try:
            start = self.mm.map(self.size, huge=self.layout.huge,
                                write_notify=self.layout.write_notify)
            if start != self.start:
                raise BenchError("pywalk: a rebuilt mm mapped the layout at another address")
            self.populate(segs)
        finally:
            old.close()

    def check(self, r: int, what: str) -> int:
        if r in (ERR_OOPS, ERR_PANIC):
            rep = self.mm.oops_report()
            where = f" at {rep.where}" if rep and rep.where else ""
            top = f" in {rep.backtrace[0]}" if rep and rep.backtrace else ""
            raise BenchOops(f"pywalk: {self.variant.name} oopsed during {what}: "
                            f"{rep.kind if rep else 'oops'} {rep.message if rep else ''}"
                            f"{where}{top}", rep)
        if r == ERR_TAINTED:
            raise BenchError(f"pywalk: {self.variant.name}: the mm oopsed before {what}")
        if r < 0:
            raise BenchError(f"pywalk: {self.variant.name}: {what} failed ({r})")
        if self.lib.pw_mm_nwarns(self.mm.handle):
            rep = self.mm.warnings()[0]
            raise BenchOops(f"pywalk: {self.variant.name} warned during {what}: {rep.message}"
                            f"{' at ' + rep.where if rep.where else ''}", rep)
        return r

    def populate(self, segs: list[Seg], chunk: int = 4 * GiB,
                 tick: Callable[[int], None] | None = None) -> int:
        """Fault every address of the plan; returns the number of faults."""
        bad = self.ffi.new("unsigned long *")
        faults = 0
        for s in segs:
            for lo in range(s.start, s.end, chunk):
                hi = min(lo + chunk, s.end)
                r = self.lib.pw_bench_populate(self.mm.handle, self.start + lo, self.start + hi,
                                               s.step, int(s.write), bad)
                if r == consts.C["PW_BENCH_ERR_FAULT"]:
                    raise BenchError(f"pywalk: {self.variant.name}: a fault at {bad[0]:#x} "
                                     "returned an error")
                faults += self.check(r, "populate")
                if tick:
                    tick(hi - lo)
        return faults

    def fingerprint(self, end: int | None = None) -> tuple[int, int, int]:
        h = self.ffi.new("unsigned long long *")
        pres = self.ffi.new("long *")
        self.check(self.lib.pw_bench_fingerprint(self.mm.handle, self.start,
                                                 self.start + (end or self.size), h,
                                                 self._entries, pres), "fingerprint")
        return int(h[0]), int(self._entries[0]), int(pres[0])

    def _buf(self, n: int):
        if len(self._ns) < n:
            self._ns = self.ffi.new("long long[]", n)
        return self._ns

    def walk(self, iters: int, end: int | None = None) -> list[int]:
        ns = self._buf(iters)
        r = self.lib.pw_bench_walk(self.mm.handle, self.start, self.start + (end or self.size),
                                   WALKERS[self.walker], 0, iters, ns, self.counts)
        self.check(r, "walk_page_range()")
        self.add_counts(iters)
        return self.ffi.unpack(ns, iters)

    def add_counts(self, iters: int) -> None:
        """Add self.counts (summed over iters walks) to the totals."""
        c, t = self.counts, self.tot
        t["walks"] += iters
        t["splits"] += c.pud_splits + c.pmd_splits
        t["retries"] += c.retries
        t["entries"] += sum(getattr(c, k) for k in ENTRY_CALLBACKS)

    def per_walk(self) -> dict:
        """splits, retries and entries (callbacks) per walk since tot was reset."""
        w = self.tot["walks"]
        return {k: (round(self.tot[k] / w, 3) if w else None)
                for k in ("splits", "retries", "entries")}

    def reset_totals(self) -> None:
        self.tot = dict.fromkeys(self.tot, 0)

    def floor(self, mode: int, iters: int, end: int | None = None) -> list[int]:
        ns = self._buf(iters)
        r = self.lib.pw_bench_floor(self.mm.handle, self.start, self.start + (end or self.size),
                                    mode, WALKERS[self.walker], iters, ns, self._entries,
                                    self.counts)
        self.check(r, "the floor loop")
        return self.ffi.unpack(ns, iters)

    def counts_dict(self) -> dict:
        return self.counts_of(self.counts)

    @staticmethod
    def counts_of(c) -> dict:
        return {k: int(getattr(c, k)) for k in ("pud_entry", "pmd_entry", "pte_entry",
                                                "pud_leaf", "pmd_leaf", "pte_present",
                                                "pte_hole", "retries")} | {
            "splits": int(c.pud_splits + c.pmd_splits),
            "entries": sum(int(getattr(c, k)) for k in ENTRY_CALLBACKS)}

    @property
    def floor_entries(self) -> int:
        return int(self._entries[0])

    def table_pages(self) -> int:
        return int(self.lib.pw_table_pages_in_use())

    def close(self) -> None:
        self.mm.close()


# ---- interleaved rounds ---------------------------------------------------

@dataclass
class Arm:
    """Something timed in blocks: run(iters) -> ns per walk for each walk."""

    name: str
    run: Callable[[int], list[int]]
    weight: float = 1.0
    iters: int = 1
    every: int = 1          # runs in rounds r with r % every == 0
    est_ns: float = 0.0
    rounds: list[int] = field(default_factory=list)     # rounds it ran in
    blocks: list[float] = field(default_factory=list)   # ns per walk of each block
    walks: int = 0
    min_ns: int = 0
    max_ns: int = 0

    def record(self, rnd: int, ns: list[int]) -> None:
        s = sorted(ns)
        n = len(s)
        self.rounds.append(rnd)
        self.blocks.append(stats.block_center(s))
        self.min_ns = s[0] if not self.walks else min(self.min_ns, s[0])
        self.max_ns = max(self.max_ns, s[-1])
        self.walks += n

    @property
    def median(self) -> float:
        return stats.median(self.blocks)


def calibrate(arms: list[Arm], block_ns: float, warmup_s: float, same: int = 2) -> None:
    """Warm every arm up and size its blocks: about weight * block_ns of walks.
    The first `same` arms (A and B) get the same block size."""
    per_arm = warmup_s / max(1, len(arms))
    for arm in arms:
        t0 = time.perf_counter()
        samples: list[int] = []
        iters = 1
        while True:
            samples += arm.run(iters)
            if time.perf_counter() - t0 >= per_arm and len(samples) >= 3:
                break
            iters = min(iters * 2, 4096)
        arm.est_ns = max(1.0, stats.median(samples))
        want = arm.weight * block_ns
        if arm.est_ns <= want:
            arm.iters, arm.every = max(1, int(want / arm.est_ns)), 1
        else:
            arm.iters, arm.every = 1, max(1, math.ceil(arm.est_ns / want)) if arm.weight < 1 else 1
    pair = arms[:same]
    if len(pair) > 1:
        iters = min(arm.iters for arm in pair)
        for arm in pair:
            arm.iters, arm.every = iters, 1


def run_rounds(arms: list[Arm], seconds: float, rng: random.Random, *, min_rounds: int = 10,
               tick: Callable[[float], None] | None = None, first: int = 0) -> int:
    """Interleave the arms, in a random order per round, for `seconds`; the
    rounds are numbered from `first`.  Returns the number of rounds run."""
    t0 = time.perf_counter()
    rnd = first
    while True:
        order = [a for a in arms if rnd % a.every == 0]
        rng.shuffle(order)
        for arm in order:
            arm.record(rnd, arm.run(arm.iters))
        rnd += 1
        elapsed = time.perf_counter() - t0
        if tick:
            tick(min(1.0, elapsed / seconds) if seconds else 1.0)
        if elapsed >= seconds and rnd - first >= min_rounds:
            return rnd - first


def paired(a: Arm, b: Arm, rounds: range | None = None) -> tuple[list[float], list[float]]:
    """Blocks of a and b from the rounds in which both ran (among `rounds`)."""
    bm = dict(zip(b.rounds, b.blocks))
    xs, ys = [], []
    for r, m in zip(a.rounds, a.blocks):
        if r in bm and (rounds is None or r in rounds):
            xs.append(m)
            ys.append(bm[r])
    return xs, ys


def aa_json(ab: stats.RatioCI, aa: stats.RatioCI) -> tuple[stats.RatioCI, dict]:
    """The A/A control: A against a second copy of A (its own mm, its tables
    placed apart), interleaved in the same rounds as A/B.  Returns the A/B
    interval widened by the A/A spread (how far the A/A interval reaches
    from 1.0 either way: what identical code shows on this machine in this
    run), and the JSON fields of the control.  The spread is a systematic
    error (where the tables lie, the machine) on top of the bootstrap's: each
    side of the interval grows to the root of the sum of squares of the
    two (stats.widen())."""
    spread = stats.aa_spread(aa.low, aa.high)
    low, high = stats.widen(ab.ratio, ab.low, ab.high, spread)
    wide = dataclasses.replace(ab, low=low, high=high)
    return wide, {"aa_ratio": round(aa.ratio, 5), "aa_ci_low": round(aa.low, 5),
                  "aa_ci_high": round(aa.high, 5), "aa_spread": round(spread, 5),
                  "aa_verdict": stats.verdict(aa.ratio, aa.low, aa.high, "A'"),
                  "ab_ci": [round(ab.low, 5), round(ab.high, 5)]}


def ab_json(A: Arm, B: Arm, ci: stats.RatioCI, nrounds: int, arms: list[Arm],
            aa: stats.RatioCI | None = None) -> dict:
    """The A/B fields every layout's JSON has, whatever the mode.  With aa
    (the A/A control's ratio and interval), ci_low/ci_high and the verdict
    are the A/B interval widened by the A/A spread (aa_json())."""
    r = lambda x, nd=1: None if x is None else round(x, nd)
    extra: dict = {}
    if aa is not None:
        ci, extra = aa_json(ci, aa)
    return {**extra,
        "a_ns_per_walk": r(A.median), "b_ns_per_walk": r(B.median),
        "a_min_ns": A.min_ns, "a_max_ns": A.max_ns, "b_min_ns": B.min_ns, "b_max_ns": B.max_ns,
        "ratio": round(ci.ratio, 5), "ci_low": round(ci.low, 5), "ci_high": round(ci.high, 5),
        "ratio_of_medians": round(B.median / A.median, 5),
        "ci_half_width_pct": round(ci.half_width / ci.ratio * 100, 3),
        "verdict": stats.verdict(ci.ratio, ci.low, ci.high),
        "rounds": nrounds, "a_walks": A.walks, "b_walks": B.walks,
        "walks_per_block": {arm.name: arm.iters for arm in arms},
    }


def ratio_of(a: Arm, b: Arm, seed: int, resamples: int = 2000) -> stats.RatioCI:
    """The median over rounds of b's block / a's block, and its bootstrap CI."""
    xs, ys = paired(a, b)
    return stats.bootstrap_ratio(xs, ys, paired=True, resamples=resamples, seed=seed)


# ---- contention -----------------------------------------------------------

class Faulters:
    """Threads that read-refault populated addresses of one side's mm (delays off)."""

    def __init__(self, side: Side, segs: list[Seg], n: int, seed: int):
        self.side, self.n, self.seed = side, n, seed
        ffi = side.ffi
        self.segs = ffi.new("struct pw_bench_seg[]", len(segs))
        for i, s in enumerate(segs):
            self.segs[i].start = side.start + s.start
            self.segs[i].end = side.start + s.end
            self.segs[i].step = s.step
        self.nsegs = len(segs)
        self.faults = 0
        self.busy_s = 0.0

    def around(self, fn: Callable[[], list[int]], rnd: int) -> list[int]:
        """Run fn() while the faulters run."""
        side, ffi = self.side, self.side.ffi
        stop = ffi.new("int *")
        ops = [ffi.new("long *") for _ in range(self.n)]
        rets = [0] * self.n
        segs = [ffi.new("struct pw_bench_seg[]", self.nsegs) for _ in range(self.n)]

        def body(i: int) -> None:
            ffi.memmove(segs[i], self.segs, ffi.sizeof("struct pw_bench_seg") * self.nsegs)
            rets[i] = side.lib.pw_bench_refault(side.mm.handle, segs[i], self.nsegs,
                                                self.seed * 1000003 + rnd, 100 + i, stop, ops[i])

        threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(self.n)]
        for t in threads:
            t.start()
        deadline = time.perf_counter() + 1.0
        while any(o[0] == 0 for o in ops) and time.perf_counter() < deadline:
            time.sleep(0)
        t0 = time.perf_counter()
        try:
            ns = fn()
        finally:
            stop[0] = 1
            for t in threads:
                t.join()
        self.busy_s += time.perf_counter() - t0
        self.faults += sum(int(o[0]) for o in ops)
        for r in rets:
            side.check(r, "refaulting")
        return ns
