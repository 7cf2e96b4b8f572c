# SPDX-License-Identifier: GPL-2.0-only
"""Walks that split under refault: the path a walker fix changes.

A walker without a pud_entry (numa_maps-like) or that descends below huge
PMDs (pmd_pte) makes walk_page_range() split every huge leaf it meets;
after the first walk only refaults bring leaves back.  So A and B are
timed while `faulters` threads read-refault the walked range of the same
mm (delays off), each block of walks with its own faulters: every walk
splits what was refaulted since the last one, and goes back (goto again /
ACTION_AGAIN) where the split left no table.  That is the code the 2019
recheck and upstream's pudp_get() fix change.

Per walk, the shim counts what the tree's code did (csrc/bench.c,
shim/include/pywalk/runtime.h pw_note_split()): splits (huge entries the
split path cleared, at the tree's pudp/pmdp_huge_clear_flush() call),
retries (splits after which the walk's next step was the same entry at
the same level again) and entries (walker callbacks).  The tables are
identical in A and B when the timing starts (fingerprint) and then follow
the refaults, so they differ from walk to walk; splits per walk say how
much of the split path each side ran.

A variant with the race (6.1 as shipped) may oops in a timed walk: the
oops is recorded (kind, race), that side gets a new mm populated as
before, and the block is run again.
"""

from __future__ import annotations

import threading
import time

from pywalk.bench import stats
from pywalk.bench.layouts import Layout, Seg
from pywalk.bench.measure import (Arm, BenchError, BenchOops, Side, ab_json, calibrate, ratio_of,
                                  run_rounds)
from pywalk.hunt.races import identify

TARGET_ROUNDS = 300
# stalled walks (a lock holder preempted on a busy machine) make rounds far
# longer than planned; the CI wants rounds, so --seconds is a soft budget here
MIN_ROUNDS = 120
MAX_OOPSES = 200            # per side: past this the comparison means little


def _r(x, nd: int = 1):
    return None if x is None else round(x, nd)


RUN, EXIT, PAUSE = 0, 1, 2   # csrc/bench.c pw_bench_refault()'s *stop


class Refaulters:
    """Threads that read-refault one side's walked range, paused between
    that side's blocks (csrc/bench.c pw_bench_refault(), delays off).  They
    live as long as the side's mm: starting threads for every block would
    cost more than a block."""

    def __init__(self, side: Side, segs: list[Seg], n: int, seed: int):
        self.side, self.n, self.seed = side, n, seed
        ffi = side.ffi
        self.src = [(side.start + s.start, side.start + s.end, s.step) for s in segs]
        self.stop = ffi.new("int *", PAUSE)
        self.ops = [ffi.new("long *") for _ in range(n)]
        self.rets = [0] * n
        self.threads: list[threading.Thread] = []
        self.faults = 0
        self.busy_s = 0.0
        self.generation = 0

    def _start(self) -> None:
        ffi, lib, handle = self.side.ffi, self.side.lib, self.side.mm.handle
        self.stop[0] = PAUSE
        self.generation += 1

        def body(i: int) -> None:
            segs = ffi.new("struct pw_bench_seg[]", len(self.src))
            for k, (a, b, step) in enumerate(self.src):
                segs[k].start, segs[k].end, segs[k].step = a, b, step
            self.rets[i] = lib.pw_bench_refault(handle, segs, len(self.src),
                                                self.seed * 1000003 + self.generation,
                                                100 + i, self.stop, self.ops[i])

        self.threads = [threading.Thread(target=body, args=(i,), daemon=True)
                        for i in range(self.n)]
        for t in self.threads:
            t.start()

    def close(self) -> None:
        self.stop[0] = EXIT
        for t in self.threads:
            t.join()
        self.threads = []

    def around(self, fn):
        """fn() while the threads refault; they pause again after it."""
        if not self.threads:
            self._start()
        before = [int(o[0]) for o in self.ops]
        self.stop[0] = RUN
        deadline = time.perf_counter() + 1.0
        while any(int(o[0]) == b for o, b in zip(self.ops, before)) and \
                time.perf_counter() < deadline:
            time.sleep(0)
        t0 = time.perf_counter()
        try:
            out = fn()
        except BaseException:
            self.close()        # the mm is tainted or the run is over
            raise
        self.stop[0] = PAUSE
        self.busy_s += time.perf_counter() - t0
        self.faults += sum(int(o[0]) - b for o, b in zip(self.ops, before))
        for t, r in zip(self.threads, self.rets):
            if not t.is_alive():
                self.close()
                self.side.check(r, "refaulting")
        return out


class _Recovering:
    """Runs a side's block of walks under its refaulters; on an oops, records
    it, rebuilds the side's mm and runs the block again."""

    def __init__(self, side: Side, faulters: Refaulters, size: int, segs):
        self.side, self.faulters, self.size, self.segs = side, faulters, size, segs
        self.oopses: list = []
        self.count = 0
        self.block_splits: list[float] = []     # splits per walk of each block

    def __call__(self, iters: int) -> list[int]:
        while True:
            try:
                before = self.side.tot["splits"]
                ns = self.faulters.around(lambda: self.side.walk(iters, self.size))
                self.block_splits.append((self.side.tot["splits"] - before) / iters)
                return ns
            except BenchOops as e:
                self.count += 1
                if len(self.oopses) < 8:
                    self.oopses.append(e.report)
                if self.count > MAX_OOPSES:
                    raise BenchError(f"{e} (and {self.count - 1} more: giving up)") from None
                self.side.rebuild(self.segs)

    def as_json(self) -> dict:
        races: dict[str, int] = {}
        for rep in self.oopses:
            race = identify(rep) if rep is not None else None
            name = race.name if race else (rep.signature if rep is not None else "?")
            races[name] = races.get(name, 0) + 1
        first = self.oopses[0] if self.oopses else None
        return {"count": self.count, "first": first.as_json() if first is not None else None,
                "kinds_of_first_8": races}


def compare(sa: Side, sb: Side, layout: Layout, size: int, st, rng, progress) -> dict:
    """A and B walks, each block under its own refaulting threads; the JSON fields."""
    segs = layout.plan(sa.size)
    walked = layout.plan(size)
    fa = Refaulters(sa, walked, st.faulters, st.seed)
    fb = Refaulters(sb, walked, st.faulters, st.seed + 1)
    ra, rb = _Recovering(sa, fa, size, segs), _Recovering(sb, fb, size, segs)
    block_ns = st.seconds * 1e9 / (TARGET_ROUNDS * 2)
    arms = [Arm("a", ra), Arm("b", rb)]
    try:
        progress(f"{layout.name}: warm-up under refault")
        calibrate(arms, block_ns, st.warmup_s)
        for side in (sa, sb):
            side.reset_totals()
        ra.block_splits, rb.block_splits = [], []
        fa.faults = fb.faults = 0
        fa.busy_s = fb.busy_s = 0.0
        nrounds = run_rounds(arms, st.seconds, rng, min_rounds=MIN_ROUNDS,
                             tick=lambda f: progress(f"{layout.name}: A/B walks under refault", f))
    finally:
        fa.close()
        fb.close()
    A, B = arms
    ci = ratio_of(A, B, st.seed, st.resamples)
    pa, pb = sa.per_walk(), sb.per_walk()
    walks = sa.tot["walks"] + sb.tot["walks"]
    both = {k: round((sa.tot[k] + sb.tot[k]) / walks, 3) if walks else None
            for k in ("splits", "retries", "entries")}
    cost = _split_cost(A, ra.block_splits, B, rb.block_splits)
    return {
        "mode": "refault", "faulters": st.faulters,
        **ab_json(A, B, ci, nrounds, arms),
        "splits_per_walk": both["splits"], "retries_per_walk": both["retries"],
        "entries_per_walk": both["entries"],
        "a_splits_per_walk": pa["splits"], "b_splits_per_walk": pb["splits"],
        "a_retries_per_walk": pa["retries"], "b_retries_per_walk": pb["retries"],
        "a_entries_per_walk": pa["entries"], "b_entries_per_walk": pb["entries"],
        "a_faults_per_s": _r(fa.faults / fa.busy_s if fa.busy_s else 0),
        "b_faults_per_s": _r(fb.faults / fb.busy_s if fb.busy_s else 0),
        "split_cost": cost,
        "oopses": {"a": ra.as_json(), "b": rb.as_json()},
    }


def _split_cost(A: Arm, a_splits: list[float], B: Arm, b_splits: list[float]) -> dict | None:
    """How block time grows with splits per walk (least squares over blocks),
    per side: the two sides' faulters need not bring back as many leaves per
    walk.  A rough estimate (see r2), not a comparison: B/A above is that."""
    fits = {}
    for name, arm, xs in (("a", A, a_splits), ("b", B, b_splits)):
        if len(xs) != len(arm.blocks) or len(set(xs)) < 2:
            return None
        fits[name] = stats.linear_fit(xs, arm.blocks)
    return {"a_ns_per_split": round(fits["a"].slope, 1), "b_ns_per_split": round(fits["b"].slope, 1),
            "a_ns_no_split": round(fits["a"].intercept, 1),
            "b_ns_no_split": round(fits["b"].intercept, 1),
            "a_r2": round(fits["a"].r2, 3), "b_r2": round(fits["b"].r2, 3)}
