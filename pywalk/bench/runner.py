# SPDX-License-Identifier: GPL-2.0-only
"""Benchmarks: the real walk_page_range() of two variants on identical tables.

For each layout, both variants get a new mm with the same mapping,
populated by the same faults through each variant's own fault path
(csrc/bench.c pw_bench_populate()); a fingerprint of the tables checks that
they are identical.  Then, after a warm-up, rounds run every "arm" once in
a seeded random order, each arm a block of walks timed one by one in C
(pw_bench_walk(): clock_gettime() around each walk, mmap_lock for read
included, no Python between walks):

  a, b        the tree's walk_page_range() of variant A and of variant B
  a2          the A/A control: variant A again, in a third mm populated
              like the others (its tables lie elsewhere); A'/A is what
              identical code shows in this run, and the A/B interval is
              widened by how far A'/A's interval reaches from 1.0
  floor       a minimal hand-written descent of A's tables (bench.c, our
              code: the shim's entry accessors, no callbacks, no locks)
  floor_raw   the same with plain loads (what the shim's hook costs)
  floor_cb    plain loads plus the walker's own callbacks through
              walk->ops (what the callbacks cost)

Each block gives its ns per walk (the mean of the middle half of its walks:
robust to a preempted walk, and not stuck on whole nanoseconds as a median
of short walks is); a layout's ns per walk is the median over rounds.  The B/A ratio is the median over rounds of the
round's B block / A block, with a 95% percentile-bootstrap interval that
resamples rounds (pywalk/bench/stats.py): A and B of one round run back to back,
so a slow phase of a shared machine (another job on the other core, for
seconds) cancels in their ratio, where a plain ratio of medians would take
it in whole (both are reported).

Walker: by default our built-in "count-dirty" walker
(mm/mapping_dirty_helpers.c-like) for every layout: its pud_entry and pmd_entry return ACTION_CONTINUE
on huge leaves, so no walk splits (zaps) a leaf and the tables stay as
populated (checked by the fingerprint at the end); its pte_entry counts
ptes.  The tree's own numa_maps walk, our numa_maps-like "count-numa" and
our pmd_entry+pte_entry walker split every huge leaf they meet, so they
are timed under refault instead (pywalk/bench/refault.py): the path a
walker fix changes.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass

from pywalk.bench import refault, stats
from pywalk.bench.layouts import LAYOUTS, PAGE, Layout, fmt_size, rss_bytes
from pywalk.variant.runtime import Variant
from pywalk.bench.measure import (FLOOR_MODES, FLOOR_WEIGHT, SPLITTING, WALKER, Arm,  # noqa: F401
                                  ab_json,
                                  BenchError, Faulters, Side, calibrate, ratio_of, run_rounds)

TARGET_ROUNDS = 300         # rounds aimed at per measuring phase


# ---- results --------------------------------------------------------------

def _r(x: float | None, nd: int = 1):
    return None if x is None else round(x, nd)


def _fit_json(entries: list[int], ns: list[float]) -> dict | None:
    if len(entries) < 2 or len(set(entries)) < 2:
        return None
    fit = stats.linear_fit(entries, ns)
    out = {"slope_ns_per_entry": round(fit.slope, 4), "intercept_ns": round(fit.intercept, 1),
           "r2": round(fit.r2, 5)}
    if min(entries) > 0 and min(ns) > 0:
        out["exponent"] = round(stats.loglog_exponent(entries, ns), 4)
    return out


@dataclass
class Settings:
    layouts: list[str]
    sizes: dict[str, list[int]]         # layout -> sizes mapped and walked (scaling)
    compare: dict[str, int]             # layout -> the size of the A/B comparison
    seconds: float = 6.0                # uncontended comparison per layout
    contention_seconds: float | None = None
    scaling_seconds: float | None = None
    faulters: int = 1
    seed: int = 1
    warmup_s: float = 0.3
    resamples: int = 2000
    walker: str = WALKER
    refault: str = "between"            # splitting walkers: refault between walks, or during

    @property
    def splits(self) -> bool:
        """The walker splits huge leaves: it is timed under refault."""
        return self.walker in SPLITTING

    def as_json(self) -> dict:
        return {"layouts": self.layouts,
                "sizes": {k: v for k, v in self.sizes.items() if k in self.layouts},
                "compare": {k: v for k, v in self.compare.items() if k in self.layouts},
                "seconds": self.seconds, "contention_seconds": self.contention_s,
                "scaling_seconds": self.scaling_s, "faulters": self.faulters, "seed": self.seed,
                "warmup_s": self.warmup_s, "resamples": self.resamples,
                "walker": self.walker, "mode": "refault" if self.splits else "static",
                "refault": self.refault if self.splits else None}

    @property
    def contention_s(self) -> float:
        return self.seconds / 3 if self.contention_seconds is None else self.contention_seconds

    @property
    def scaling_s(self) -> float:
        return self.seconds / 3 if self.scaling_seconds is None else self.scaling_seconds


def variant_json(v: Variant) -> dict:
    return {"name": v.name, "variant": v.id, "kernel": v.kernel, "patches": v.patches,
            "source": v.provenance}


def _nop(label: str, fraction: float | None = None) -> None:
    pass


# ---- one layout -----------------------------------------------------------

def _verify_identical(sa: Side, sb: Side, what: str) -> tuple[int, int, int]:
    fa, fb = sa.fingerprint(), sb.fingerprint()
    if fa != fb:
        raise BenchError(f"pywalk: the two variants' page tables differ {what} "
                         f"({fa[1]} vs {fb[1]} entries): the comparison would not be fair")
    return fa


def _populate_pair(a: Variant, b: Variant, layout: Layout, mapped: int, progress,
                   keep: list | None, walker: str = WALKER,
                   tracked: bool = False) -> tuple[Side, Side, Side, dict]:
    """A, B and A' (the A/A control: variant A again, in its own mm) each get
    a new mm with the same mapping and the same faults."""
    segs = layout.plan(mapped)
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    sides = []
    for name, v in (("A", a), ("B", b), ("A'", a)):
        side = Side(v, layout, mapped, walker, tracked)
        sides.append(side)
        if keep is not None:
            keep.append(side)
        pages0 = side.table_pages()
        done = [0]

        def tick(n, name=name):
            done[0] += n
            progress(f"{layout.name}: populating {name}", done[0] / mapped)
        side.populate(segs, tick=tick)
        side.pages = side.table_pages() - pages0
    sa, sb, sc = sides
    if not sa.start == sb.start == sc.start:
        raise BenchError("pywalk: the two variants mapped the layout at different addresses")
    table_bytes = (sa.pages + sb.pages + sc.pages) * PAGE
    rss_delta = rss_bytes() - rss0
    info = {"populate_s": round(time.perf_counter() - t0, 3),
            "memory": {"table_bytes": table_bytes, "rss_delta_bytes": rss_delta,
                       "ratio": round(rss_delta / table_bytes, 3) if table_bytes else None}}
    return sa, sb, sc, info


def _visited(sa: Side, sb: Side, size: int) -> dict:
    """What one walk of [start, start + size) visits: the same in A and B,
    and the floor loop visits as many entries."""
    sa.walk(1, size)
    ca = sa.counts_dict()
    sb.walk(1, size)
    if sb.counts_dict() != ca:
        raise BenchError(f"pywalk: the walker saw different tables in A and B: {ca} vs "
                         f"{sb.counts_dict()}")
    visited = ca["pud_entry"] + ca["pmd_entry"] + ca["pte_entry"]
    sa.floor(0, 1, size)
    if sa.floor_entries != visited:
        raise BenchError(f"pywalk: the floor loop visited {sa.floor_entries} entries, "
                         f"the walker {visited}")
    return dict(ca, visited=visited)


def _compare(sa: Side, sb: Side, sc: Side, size: int, visited: int, st: Settings, rng,
             progress, label: str) -> tuple[dict, dict]:
    """A, B, A' (the A/A control) and the floors interleaved; returns the
    JSON fields and the arms."""
    weights = 3 + FLOOR_WEIGHT * len(FLOOR_MODES)
    block_ns = st.seconds * 1e9 / (TARGET_ROUNDS * weights)
    arms = [Arm("a", lambda it: sa.walk(it, size)), Arm("b", lambda it: sb.walk(it, size)),
            Arm("a2", lambda it: sc.walk(it, size))]
    arms += [Arm(k, (lambda it, m=m: sa.floor(m, it, size)), FLOOR_WEIGHT)
             for k, m in FLOOR_MODES.items()]
    progress(f"{label}: warm-up")
    calibrate(arms, block_ns, st.warmup_s, same=3)
    for side in (sa, sb, sc):
        side.reset_totals()
    nrounds = run_rounds(arms, st.seconds, rng, tick=lambda f: progress(f"{label}: A/B walks", f))
    pa, pb = sa.per_walk(), sb.per_walk()
    by = {arm.name: arm for arm in arms}
    A, B = by["a"], by["b"]
    ci = ratio_of(A, B, st.seed, st.resamples)
    aa = ratio_of(A, by["a2"], st.seed, st.resamples)
    fr = ratio_of(by["floor"], A, st.seed, 500)
    fb = ratio_of(by["floor"], B, st.seed, 500)
    hook = ratio_of(by["floor_raw"], by["floor"], st.seed, 500)
    cbs = ratio_of(by["floor_raw"], by["floor_cb"], st.seed, 500)
    rest = ratio_of(by["floor_cb"], A, st.seed, 500)
    ci2 = lambda c: [round(c.low, 4), round(c.high, 4)]
    out = {
        **ab_json(A, B, ci, nrounds, arms, aa),
        "a2_ns_per_walk": _r(by["a2"].median),
        "a_ns_per_entry": _r(A.median / visited, 3), "b_ns_per_entry": _r(B.median / visited, 3),
        "mode": "static",
        "splits_per_walk": pa["splits"], "retries_per_walk": pa["retries"],
        "entries_per_walk": pa["entries"],
        "a_splits_per_walk": pa["splits"], "b_splits_per_walk": pb["splits"],
        "a_retries_per_walk": pa["retries"], "b_retries_per_walk": pb["retries"],
        "a_entries_per_walk": pa["entries"], "b_entries_per_walk": pb["entries"],
        # the floor: our minimal loop over A's tables, and what A adds to it
        "floor_ns_per_walk": _r(by["floor"].median),
        "floor_ratio": round(fr.ratio, 4), "floor_ratio_ci": ci2(fr),
        "b_floor_ratio": round(fb.ratio, 4),
        "floor_raw_ns_per_walk": _r(by["floor_raw"].median),
        "hook_ratio": round(hook.ratio, 4), "hook_ratio_ci": ci2(hook),
        "hook_share_of_a": round((1 - 1 / hook.ratio) / fr.ratio, 4),
        "floor_cb_ns_per_walk": _r(by["floor_cb"].median),
        "callbacks_ratio": round(cbs.ratio, 4),
        "walker_over_callbacks": round(rest.ratio, 4), "walker_over_callbacks_ci": ci2(rest),
    }
    return out, by


def _contend(sa: Side, sb: Side, layout: Layout, size: int, st: Settings, rng, progress) -> dict:
    """A and B walks while faulter threads read-refault the walked range, and
    A alone in the same rounds (for the slowdown)."""
    walked = layout.plan(size)
    fa = Faulters(sa, walked, st.faulters, st.seed)
    fb = Faulters(sb, walked, st.faulters, st.seed)
    block_ns = max(st.seconds * 1e9 / (TARGET_ROUNDS * 3), 20e6)
    arms = [Arm("a", lambda it: fa.around(lambda: sa.walk(it, size), len(arms[0].rounds))),
            Arm("b", lambda it: fb.around(lambda: sb.walk(it, size), len(arms[1].rounds))),
            Arm("a_quiet", lambda it: sa.walk(it, size))]
    calibrate(arms, block_ns, st.warmup_s / 2, same=3)
    fa.faults = fb.faults = 0
    fa.busy_s = fb.busy_s = 0.0
    nrounds = run_rounds(arms, st.contention_s, rng, min_rounds=5,
                         tick=lambda f: progress(f"{layout.name}: under contention", f))
    A, B, quiet = arms
    ci = ratio_of(A, B, st.seed, st.resamples)
    slow = ratio_of(quiet, A, st.seed, 500)
    return {
        "faulters": st.faulters,
        "a_ns_per_walk": _r(A.median), "b_ns_per_walk": _r(B.median),
        "a_walks_per_s": _r(1e9 / A.median), "b_walks_per_s": _r(1e9 / B.median),
        "a_faults_per_s": _r(fa.faults / fa.busy_s if fa.busy_s else 0),
        "b_faults_per_s": _r(fb.faults / fb.busy_s if fb.busy_s else 0),
        "a_slowdown": round(slow.ratio, 3), "a_slowdown_ci": [round(slow.low, 3),
                                                               round(slow.high, 3)],
        "ratio": round(ci.ratio, 5), "ci_low": round(ci.low, 5), "ci_high": round(ci.high, 5),
        "verdict": stats.verdict(ci.ratio, ci.low, ci.high), "rounds": nrounds,
    }


def _scale(sa: Side, sb: Side, sizes: list[int], st: Settings, rng, progress, label: str,
           known: tuple) -> dict:
    """Walk cost over prefixes of the same tables; `known` is the compared
    point (size, entries, a, b, floor)."""
    points = [known]
    per = st.scaling_s / len(sizes)
    for i, s in enumerate(sizes):
        arms = [Arm("a", lambda it, s=s: sa.walk(it, s)),
                Arm("b", lambda it, s=s: sb.walk(it, s)),
                Arm("floor", lambda it, s=s: sa.floor(0, it, s), 0.5)]
        calibrate(arms, per * 1e9 / (50 * 2.5), min(0.1, per / 4))
        sa.walk(1, s)
        c = sa.counts_dict()
        run_rounds(arms, per, rng, min_rounds=5,
                   tick=lambda f, i=i: progress(f"{label}: scaling", (i + f) / len(sizes)))
        points.append((s, c["pud_entry"] + c["pmd_entry"] + c["pte_entry"],
                       arms[0].median, arms[1].median, arms[2].median))
    points.sort()
    sz, ent, an, bn, fn = (list(x) for x in zip(*points))
    return {"sizes": sz, "entries": ent, "a_ns": [_r(x) for x in an],
            "b_ns": [_r(x) for x in bn], "floor_ns": [_r(x) for x in fn],
            "a_fit": _fit_json(ent, an), "b_fit": _fit_json(ent, bn),
            "floor_fit": _fit_json(ent, fn)}


def bench_layout(a: Variant, b: Variant, layout: Layout, st: Settings, progress=_nop,
                 keep: list | None = None) -> dict:
    """Populate max(sizes) in A and B, compare at st.compare, scale over sizes."""
    sizes = st.sizes[layout.name]
    mapped = max(sizes)
    size = st.compare[layout.name]
    rng = random.Random(st.seed)
    if st.splits:
        mapped = size       # walks change the tables: no scaling over prefixes
    out: dict = {"layout": layout.name, "description": layout.description,
                 "walker": st.walker, "size": size, "size_human": fmt_size(size),
                 "mapped": mapped}
    # --refault during: an oops in a timed walk names who raced it (the
    # entry's store history), at the cost of that bookkeeping in the times
    tracked = st.splits and st.refault == "during"
    sa, sb, sc, info = _populate_pair(a, b, layout, mapped, progress, keep, st.walker,
                                      tracked)
    out.update(info)
    fp = _verify_identical(sa, sb, "after populating")
    _verify_identical(sa, sc, "after populating (A and the A/A control A')")
    out["fingerprint"] = f"{fp[0]:016x}"
    if st.splits:
        out["entries"] = {"populated": fp[1], "present": fp[2]}
        out.update(refault.compare(sa, sb, sc, layout, size, st, rng, progress))
        out["contention"] = out["scaling"] = None
        progress(f"{layout.name}: done", 1.0)
        return out
    out["entries"] = _visited(sa, sb, size)
    visited = out["entries"]["visited"]
    fields, arms = _compare(sa, sb, sc, size, visited, st, rng, progress, layout.name)
    out.update(fields)
    out["contention"] = None
    if st.faulters > 0 and st.contention_s > 0:
        out["contention"] = _contend(sa, sb, layout, size, st, rng, progress)
    out["scaling"] = None
    others = sorted(s for s in sizes if s != size)
    if others and st.scaling_s > 0:
        known = (size, visited, arms["a"].median, arms["b"].median, arms["floor"].median)
        out["scaling"] = _scale(sa, sb, others, st, rng, progress, layout.name, known)
    if (_verify_identical(sa, sb, "after the benchmark") != fp
            or _verify_identical(sa, sc, "after the benchmark") != fp):
        raise BenchError(f"pywalk: the {layout.name} benchmark changed its own page tables")
    progress(f"{layout.name}: done", 1.0)
    return out


# ---- the whole run ---------------------------------------------------------

def run(a: Variant, b: Variant, st: Settings, progress=_nop) -> dict:
    """Every layout of st; returns the JSON-able result (interrupted runs keep
    what was measured)."""
    # delays are off: they belong to an mm (new_mm(delays=...)), and the
    # benchmark's mms have none; nothing but the code under test waits
    t0 = time.perf_counter()
    result: dict = {"a": variant_json(a), "b": variant_json(b), "settings": st.as_json(),
                    "host": {"cpus": os.cpu_count(), "loadavg_start": list(os.getloadavg())},
                    "layouts": [], "interrupted": False}
    keep: list[Side] = []
    rss0 = rss_bytes()
    libs = list({str(v.module_path): v.lib for v in (a, b)}.values())   # A may be B
    pages0 = [lib.pw_table_pages_in_use() for lib in libs]
    try:
        for name in st.layouts:
            result["layouts"].append(bench_layout(a, b, LAYOUTS[name], st, progress, keep))
    except KeyboardInterrupt:
        result["interrupted"] = True
    table_bytes = sum((lib.pw_table_pages_in_use() - p0) * PAGE for lib, p0 in zip(libs, pages0))
    rss_delta = rss_bytes() - rss0
    result["memory"] = {"table_bytes": table_bytes, "rss_delta_bytes": rss_delta,
                        "ratio": round(rss_delta / table_bytes, 3) if table_bytes else None}
    result["host"]["loadavg_end"] = list(os.getloadavg())
    result["elapsed_s"] = round(time.perf_counter() - t0, 2)
    for s in keep:
        s.close()
    return result
