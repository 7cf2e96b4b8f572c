# SPDX-License-Identifier: GPL-2.0-only
"""Walks that split under refault: the path a walker fix changes.

A walker without a pud_entry (the tree's numa_maps, our count-numa) or that
descends below huge PMDs (pmd_pte) makes walk_page_range() split every
huge leaf it meets; after the first walk only refaults bring leaves back.
So A and B are timed while `faulters` threads read-refault the walked
range of the same mm (delays off), in one of two ways (--refault):

  between  (default) before every timed walk the faulters refault every
           huge leaf and the walker waits for them (pywalk/bench/paced.py):
           every walk starts on the tables as populated, splits all their
           leaves and goes back where the split left no table.  A and B
           time the same work, so B/A is tight.
  during   the faulters refault at random while the walker walks, each
           block of walks with its own faulters: walks split what was
           refaulted since the last one, and race with refaults as in the
           kernel (6.1 as shipped may oops), so splits per walk vary from
           block to block and B/A is wide.

Either way that is the code the 2019 recheck and upstream's pudp_get()
fix change.  Per walk, the shim counts what the tree's code did
(shim/include/pywalk/runtime.h pw_note_split()): splits (huge entries the
split path cleared, at the tree's pudp/pmdp_huge_clear_flush() call),
retries (splits after which the walk's next step was the same entry at
the same level again) and entries (walker callbacks).  Our walkers count
in their timed walks; the tree's clients are timed as they run and counted
by census walks (csrc/clients.c), which must split as many leaves per walk
as the timed walks did.

A variant with the race (6.1 as shipped) may oops in a timed walk under
`during`: the oops is recorded (kind, race), that side gets a new mm
populated as before, and the block is run again.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from pywalk.bench import stats
from pywalk.bench.layouts import Layout, Seg
from pywalk.bench.measure import (TREE_WALKERS, Arm, BenchError, BenchOops, Side, ab_json,
                                  calibrate, paired, ratio_of, run_rounds)
from pywalk.bench.paced import Pacer
from pywalk.hunt.races import identify
from pywalk.variant import consts

TARGET_ROUNDS = 300
# stalled walks (a lock holder preempted on a busy machine) make rounds far
# longer than planned; the CI wants rounds, so --seconds is a soft budget here
MIN_ROUNDS = 120
MAX_OOPSES = 200            # per side: past this the comparison means little


def _r(x, nd: int = 1):
    return None if x is None else round(x, nd)


RUN, EXIT, PAUSE = (consts.C[f"PW_STOP_{n}"] for n in ("RUN", "EXIT", "PAUSE"))  # pw_bench_refault()'s *stop


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


CENSUS_WALKS = 3             # per side, after the timed rounds (--refault between)


def compare(sa: Side, sb: Side, sc: Side, layout: Layout, size: int, st, rng,
            progress) -> dict:
    """The JSON fields of the A/B comparison under refault (st.refault); sc is
    the A/A control (variant A in a third mm), timed in the same rounds."""
    if st.refault == "between":
        return _compare_paced(sa, sb, sc, layout, size, st, rng, progress)
    return _compare_during(sa, sb, sc, layout, size, st, rng, progress)


def _split_fields(sa: Side, sb: Side) -> dict:
    pa, pb = sa.per_walk(), sb.per_walk()
    walks = sa.tot["walks"] + sb.tot["walks"]
    both = {k: round((sa.tot[k] + sb.tot[k]) / walks, 3) if walks else None
            for k in ("splits", "retries", "entries")}
    return {"splits_per_walk": both["splits"], "retries_per_walk": both["retries"],
            "entries_per_walk": both["entries"],
            "a_splits_per_walk": pa["splits"], "b_splits_per_walk": pb["splits"],
            "a_retries_per_walk": pa["retries"], "b_retries_per_walk": pb["retries"],
            "a_entries_per_walk": pa["entries"], "b_entries_per_walk": pb["entries"]}


def _census(side: Side, pacer: Pacer, size: int) -> dict:
    """CENSUS_WALKS census walks; their counts per walk, which must not vary."""
    seen = [pacer.census(size) for _ in range(CENSUS_WALKS)]
    if any(c != seen[0] for c in seen):
        raise BenchError(f"pywalk: {side.variant.name}: census walks after a refault round "
                         f"differ ({seen[0]} vs {[c for c in seen if c != seen[0]][0]}): the "
                         "walks do not start from the same tables")
    return seen[0]


# --refault between: each side's tables are placed anew this often.  Now and
# then one side walks 10-25% slower in one placement for the whole placement
# (seen in A/A runs: A'/A 1.09 and 1.18 in one placement, 1.00 in the other;
# cause unknown, see README "Benchmarks"); with three, the median over
# rounds stands on the two others, and the A/A control still sees it.
PLACEMENTS = 3


def _compare_paced(sa: Side, sb: Side, sc: Side, layout: Layout, size: int, st, rng,
                   progress) -> dict:
    """A and B walks, each after a refault round of every huge leaf (paced.py).

    The rounds are split over PLACEMENTS placements of the two sides' tables:
    between them both sides get a new mm, populated as before, made before
    the old one is freed (so its tables lie elsewhere).  Where the tables lie
    can move a walk's time by more than one run's CI says; B/A per placement
    shows it."""
    walked = layout.plan(size)
    segs = layout.plan(sa.size)
    populated = (sa.fingerprint(size), sb.fingerprint(size), sc.fingerprint(size))
    sides = {"a": sa, "b": sb, "a2": sc}
    pacers = {k: Pacer(side, walked, st.faulters) for k, side in sides.items()}
    block_ns = st.seconds * 1e9 / (TARGET_ROUNDS * 3)
    arms = [Arm(k, lambda it, k=k: pacers[k].walk(it, size)) for k in sides]
    bounds = [0]
    faults = 0
    try:
        progress(f"{layout.name}: warm-up, refault before every walk")
        calibrate(arms, block_ns, st.warmup_s, same=3)
        for side in sides.values():
            side.reset_totals()
        for place in range(PLACEMENTS):
            if place:
                for name, side in sides.items():
                    pacers[name].close()
                    side.rebuild(segs)
                    pacers[name] = Pacer(side, walked, st.faulters)
            f0 = pacers["a"].faults + pacers["b"].faults   # A/B's: A' is the control
            n = run_rounds(arms, st.seconds / PLACEMENTS, rng,
                           min_rounds=max(10, MIN_ROUNDS // PLACEMENTS),
                           tick=lambda f, p=place: progress(
                               f"{layout.name}: A/B walks, refault before each",
                               (p + f) / PLACEMENTS), first=bounds[-1])
            bounds.append(bounds[-1] + n)
            faults += pacers["a"].faults + pacers["b"].faults - f0   # the timed rounds'
        census = {"a": _census(sa, pacers["a"], size), "b": _census(sb, pacers["b"], size)}
        for pacer in pacers.values():
            pacer.refault()
        after = (sa.fingerprint(size), sb.fingerprint(size), sc.fingerprint(size))
    finally:
        for pacer in pacers.values():
            pacer.close()
    A, B, A2 = arms
    nrounds = bounds[-1]
    placements = _by_placement(A, B, bounds, st)
    # the interval reported covers each placement's: B/A of one placement
    # says nothing of where the other's tables lay
    pooled = ratio_of(A, B, st.seed, st.resamples)
    envelope = _envelope(pooled, placements)
    aa_placements = _by_placement(A, A2, bounds, st)
    aa = ratio_of(A, A2, st.seed, st.resamples)
    fields = _split_fields(sa, sb)
    for name, side in (("a", sa), ("b", sb)):
        timed = side.per_walk()["splits"]
        if census[name]["splits"] != timed:
            raise BenchError(f"pywalk: {side.variant.name}: a census walk split "
                             f"{census[name]['splits']} leaves, the timed walks {timed} per "
                             "walk: they did not walk the same tables")
    if st.walker in TREE_WALKERS:    # the tree's client: its retries and callbacks, by census
        for name in ("a", "b"):
            fields[f"{name}_retries_per_walk"] = census[name]["retries"]
            fields[f"{name}_entries_per_walk"] = census[name]["entries"]
        fields["retries_per_walk"] = (census["a"]["retries"] + census["b"]["retries"]) / 2
        fields["entries_per_walk"] = (census["a"]["entries"] + census["b"]["entries"]) / 2
    if after != populated or len(set(populated)) != 1:
        raise BenchError("pywalk: after a refault round the tables are not as populated, or "
                         "A's and B's differ: the comparison would not be fair")
    return {
        "mode": "refault", "refault": "between", "faulters": st.faulters,
        **ab_json(A, B, pooled, nrounds, arms, aa), **fields,
        "a2_ns_per_walk": _r(A2.median),
        "placements": placements, "aa_placements": aa_placements,
        "pooled_ci": [round(pooled.low, 5), round(pooled.high, 5)],
        "placements_envelope": [round(envelope.low, 5), round(envelope.high, 5)],
        "counted_by": "census" if st.walker in TREE_WALKERS else "timed walks",
        "census": census,
        "refaults_per_walk": round(faults / (A.walks + B.walks), 3)
        if A.walks + B.walks else None,
        "split_cost": None,
        "oopses": {"a": _no_oops(), "b": _no_oops()},
    }


def _envelope(pooled: stats.RatioCI, placements: list[dict]) -> stats.RatioCI:
    """pooled, its interval widened to cover each placement's."""
    return dataclasses.replace(
        pooled, low=min([pooled.low] + [p["ci_low"] for p in placements]),
        high=max([pooled.high] + [p["ci_high"] for p in placements]))


def _by_placement(A: Arm, B: Arm, bounds: list[int], st) -> list[dict]:
    """B/A and its CI over the rounds of each placement of the tables."""
    out = []
    for lo, hi in zip(bounds, bounds[1:]):
        xs, ys = paired(A, B, range(lo, hi))
        if len(xs) < 2:
            continue
        c = stats.bootstrap_ratio(xs, ys, paired=True, resamples=st.resamples, seed=st.seed)
        out.append({"rounds": len(xs), "ratio": round(c.ratio, 5),
                    "a_ns": round(stats.median(xs), 1), "b_ns": round(stats.median(ys), 1),
                    "ci_low": round(c.low, 5), "ci_high": round(c.high, 5)})
    return out


def _no_oops() -> dict:
    return {"count": 0, "first": None, "kinds_of_first_8": {}}


def _compare_during(sa: Side, sb: Side, sc: Side, layout: Layout, size: int, st, rng,
                    progress) -> dict:
    """A and B walks, each block under its own refaulting threads; the JSON fields."""
    if st.walker in TREE_WALKERS:
        raise BenchError(f"pywalk: --walker {st.walker} (the tree's) is counted by census "
                         "walks, which need --refault between")
    segs = layout.plan(sa.size)
    walked = layout.plan(size)
    fa = Refaulters(sa, walked, st.faulters, st.seed)
    fb = Refaulters(sb, walked, st.faulters, st.seed + 1)
    fc = Refaulters(sc, walked, st.faulters, st.seed + 2)
    ra, rb = _Recovering(sa, fa, size, segs), _Recovering(sb, fb, size, segs)
    rc = _Recovering(sc, fc, size, segs)
    block_ns = st.seconds * 1e9 / (TARGET_ROUNDS * 3)
    arms = [Arm("a", ra), Arm("b", rb), Arm("a2", rc)]
    try:
        progress(f"{layout.name}: warm-up under refault")
        calibrate(arms, block_ns, st.warmup_s, same=3)
        for side in (sa, sb, sc):
            side.reset_totals()
        ra.block_splits, rb.block_splits, rc.block_splits = [], [], []
        fa.faults = fb.faults = 0
        fa.busy_s = fb.busy_s = 0.0
        nrounds = run_rounds(arms, st.seconds, rng, min_rounds=MIN_ROUNDS,
                             tick=lambda f: progress(f"{layout.name}: A/B walks under refault", f))
    finally:
        fa.close()
        fb.close()
        fc.close()
    A, B, A2 = arms
    ci = ratio_of(A, B, st.seed, st.resamples)
    aa = ratio_of(A, A2, st.seed, st.resamples)
    cost = _split_cost(A, ra.block_splits, B, rb.block_splits)
    return {
        "mode": "refault", "refault": "during", "faulters": st.faulters,
        **ab_json(A, B, ci, nrounds, arms, aa), **_split_fields(sa, sb),
        "a2_ns_per_walk": _r(A2.median), "a2_splits_per_walk": sc.per_walk()["splits"],
        "counted_by": "timed walks",
        "a_faults_per_s": _r(fa.faults / fa.busy_s if fa.busy_s else 0),
        "b_faults_per_s": _r(fb.faults / fb.busy_s if fb.busy_s else 0),
        "split_cost": cost,
        "oopses": {"a": ra.as_json(), "b": rb.as_json(), "a2": rc.as_json()},
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
