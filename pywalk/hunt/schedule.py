# SPDX-License-Identifier: GPL-2.0-only
"""Controlled schedules: one thread at a time, decisions from a seed.

A scheduled run starts one real thread per thread of the plan, each doing a
fixed number of the scenario's operations on a fresh mm; the C scheduler
(csrc/sched.c) lets one run at a time and decides at every scheduling
point (the hook sites in ``sites``) who runs next.  Kinds: ``pct`` (random
priorities, depth-1 change points), ``random`` (a random runnable thread at
every point) and ``replay`` (run on, switch only at the recorded steps).
Every run records the decisions that differ from run-on as ``switches``;
replaying those gives the same interleaving, on any machine.

A hunt (:func:`hunt`) runs schedule after schedule, each with its own seed
derived from the hunt's seed and its index, until a finding or the budget.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field

from pywalk.errors import UsageError
from pywalk.hunt import reach, stress
from pywalk.hunt.races import race_name
from pywalk.variant.oops import read_report
from pywalk.variant import consts
from pywalk.variant.consts import ALL_ROLES, SCHED_KINDS
from pywalk.variant.runtime import MM, Variant

KINDS = SCHED_KINDS     # PW_SCHED_*
DEFAULT_SITES = tuple(stress.SITES)     # every hook site is a scheduling point
DEFAULT_OPS = {"walker": 2, "reader": 2, "writer": 2, "zapper": 2, "reaper": 1}
MAX_STEPS = 1_000_000
MAX_THREADS = consts.C["PW_MAX_SCHED_THREADS"]
# PW_ROLE_*, with "abba" (tests only): harness code taking page_table_lock, then
# mmap_lock for write, against the walker's order: a deadlock for the scheduler to find
ROLES = ALL_ROLES
REC_CAP = 4096
_run_lock = threading.Lock()     # one scheduled run at a time per process


def site_mask(sites) -> int:
    mask = 0
    for s in sites:
        if s not in stress.SITES:
            raise UsageError(f"pywalk: schedule site {s!r}: one of {', '.join(stress.SITES)}")
        mask |= 1 << stress.SITES.index(s)
    return mask


def parse_sites(spec: str | None) -> tuple[str, ...]:
    if not spec:
        return DEFAULT_SITES
    sites = tuple(x.strip() for x in spec.split(",") if x.strip())
    site_mask(sites)
    return sites


def run_seed(seed: int, index: int) -> int:
    """The seed of a hunt's index-th schedule (addresses and decisions)."""
    h = hashlib.sha256(f"pywalk-schedule:{seed}:{index}".encode()).digest()
    return int.from_bytes(h[:7], "little")


@dataclass
class Spec:
    """Everything one scheduled run depends on (besides the variant)."""

    scenario: str
    threads: list            # [(role, walker kind or None), ...], thread i has tid i
    ops: list                # operations per thread
    kind: str = "pct"
    seed: int = 1            # this run's seed: addresses and decisions
    depth: int = 3
    expect_steps: int = 100
    sites: tuple = DEFAULT_SITES
    switches: list = field(default_factory=list)   # [(step, thread), ...] for replay
    size: int = 0            # mapping size (0: the scenario's)
    prefault: bool = False   # fault every huge leaf in before the threads start
    local: bool = False      # replay switches by (deciding thread, its own count), not step
    skip: list = field(default_factory=list)   # per thread: bit j = skip operation j (shrink)
    driver: str | None = None   # --driver: the tree's huge_fault driver (None: ours)

    def tid(self, i: int) -> int:
        """Thread i's id (seeds its addresses); a shrunk plan keeps the original ids."""
        t = self.threads[i]
        return t[2] if len(t) > 2 else i

    def as_json(self) -> dict:
        return {"kind": self.kind, "run_seed": self.seed, "depth": self.depth,
                "expect_steps": self.expect_steps, "sites": list(self.sites),
                "threads": [list(t) for t in self.threads], "ops": list(self.ops),
                "switches": [list(s) for s in self.switches],
                "size": self.size, "prefault": self.prefault, "local": self.local,
                "skip": list(self.skip),
                **({"driver": self.driver} if self.driver else {})}

    @classmethod
    def from_json(cls, scenario: str, d: dict) -> "Spec":
        return cls(scenario, [tuple(t) for t in d["threads"]], list(d["ops"]), "replay",
                   int(d["run_seed"]), int(d.get("depth", 0)), int(d.get("expect_steps", 0)),
                   tuple(d["sites"]), [tuple(s) for s in d["switches"]],
                   int(d.get("size", 0)), bool(d.get("prefault", False)), bool(d.get("local", False)),
                   list(d.get("skip", [])), d.get("driver"))


@dataclass
class Outcome:
    spec: Spec
    steps: int
    finding_step: int | None
    switches: list             # the decisions that differed from run-on
    finding: stress.Finding | None
    deadlock: bool
    truncated: bool
    ops: int
    trace: list = field(default_factory=list)   # raw trace entries (dicts)
    choices: list = field(default_factory=list)  # per step: (runnable mask, thread picked)


def plan_threads(scenario: str, walkers=None, faulters=None, ops_per_thread=None,
                 counts: dict | None = None, walker: str | None = None) -> tuple[list, list]:
    plan = stress.thread_plan(stress.SCENARIOS[scenario], walkers, faulters, counts)
    if walker is not None:    # --walker: every walker thread runs that client
        plan = {g: (n, walker if g.split("/")[0] == "walker" else kind, pause)
                for g, (n, kind, pause) in plan.items()}
    threads = [(g.split("/")[0], kind) for g, (n, kind, _) in plan.items() for _ in range(n)]
    if not 0 < len(threads) <= MAX_THREADS:
        raise UsageError(f"pywalk: a schedule runs 1 to {MAX_THREADS} threads")
    ops = [ops_per_thread or DEFAULT_OPS.get(r, 2) for r, _ in threads]
    return threads, ops


def run_once(variant: Variant, spec: Spec, *, trace_cap: int = 0, hunt_seed: int | None = None,
             choices_cap: int = 0) -> Outcome:
    """One scheduled run on a fresh mm."""
    ffi, lib = variant.ffi, variant.lib
    sc = stress.SCENARIOS[spec.scenario]
    n = len(spec.threads)
    with _run_lock:
        mm = MM(variant)        # no delays: they belong to an mm, and this one has none
        try:
            size = spec.size or sc.size
            start = mm.map(size, huge=sc.huge, write_notify=sc.write_notify, driver=spec.driver)
            if spec.prefault:
                unit = 1 << (30 if sc.huge == "pud" else 21)
                for a in range(start, start + size, unit):
                    mm.fault(a)
            pause = {g.split("/")[0]: p for g, (_, _, p) in sc.roles.items()}
            cfgs = ffi.new("struct pw_stress_cfg[]", n)
            for i, (role, kind, *_) in enumerate(spec.threads):
                c = cfgs[i]
                c.role, c.tid, c.seed = ROLES[role], spec.tid(i), spec.seed
                c.walker = stress.WALKERS.get(kind or "count", 0)
                c.start, c.size, c.pause_us = start, size, pause.get(role, 0)
            ops = ffi.new("long[]", list(spec.ops))
            p = ffi.new("struct pw_sched_params *")
            p.kind, p.seed, p.depth = KINDS[spec.kind], spec.seed, spec.depth
            p.expect_steps, p.site_mask, p.max_steps = spec.expect_steps, site_mask(spec.sites), MAX_STEPS
            sw = [tuple(x) + (-1, -1) * (len(x) < 4) for x in spec.switches]
            sw_step = ffi.new("long[]", [x[0] for x in sw] or [0])
            sw_tid = ffi.new("int[]", [x[1] for x in sw] or [0])
            p.nswitch, p.switch_step, p.switch_tid = len(sw), sw_step, sw_tid
            if spec.local:
                if len(sw) > 256:
                    raise UsageError("pywalk: more than 256 switches to replay by thread")
                sw_by = ffi.new("int[]", [x[2] for x in sw] or [0])
                sw_local = ffi.new("long[]", [x[3] for x in sw] or [0])
                p.switch_by, p.switch_local = sw_by, sw_local
            res = ffi.new("struct pw_sched_result *")
            rec_step, rec_tid = ffi.new("long[]", REC_CAP), ffi.new("int[]", REC_CAP)
            res.rec_cap, res.rec_step, res.rec_tid = REC_CAP, rec_step, rec_tid
            rec_by, rec_local = ffi.new("int[]", REC_CAP), ffi.new("long[]", REC_CAP)
            res.rec_by, res.rec_local = rec_by, rec_local
            ch = ffi.new("long[]", max(choices_cap, 1))
            res.choices_cap, res.choices = choices_cap, ch
            tr = ffi.new("struct pw_sched_trace[]", trace_cap) if trace_cap else ffi.NULL
            skip = ffi.new("unsigned long long[]", (list(spec.skip) + [0] * n)[:n])
            ntrace = lib.pw_sched_run(mm.handle, cfgs, ops, skip, n, p, res, tr, trace_cap)
            if ntrace < 0:
                raise OSError(f"pywalk: scheduled run failed ({ntrace})")
            if res.nrec > REC_CAP:
                raise UsageError(f"pywalk: more than {REC_CAP} switches in one schedule: "
                                 "use fewer operations per thread")
            switches = [(int(rec_step[i]), int(rec_tid[i]), int(rec_by[i]), int(rec_local[i]))
                        for i in range(res.nrec)]
            finding = _finding(variant, mm, spec, res, hunt_seed)
            trace = _raw_trace(variant, tr, ntrace, trace_cap) if trace_cap else []
            fstep = int(res.finding_step) if res.finding_step >= 0 else None
            choices = [(int(ch[i]) >> 8, int(ch[i]) & 0xff)
                       for i in range(min(int(res.steps), choices_cap))]
            return Outcome(spec, int(res.steps), fstep, switches, finding, bool(res.deadlock),
                           bool(res.truncated), sum(int(res.ops[i]) for i in range(n)), trace,
                           choices)
        finally:
            mm.close()


def _finding(variant, mm, spec, res, hunt_seed) -> stress.Finding | None:
    names = {v: k for k, v in ROLES.items()}
    seed = spec.seed if hunt_seed is None else hunt_seed
    ops = sum(int(res.ops[i]) for i in range(len(spec.threads)))
    if res.deadlock:
        stacks = [read_report(res.stacks[i], str(variant.module_path), variant.ffi)
                  for i in range(len(spec.threads)) if res.blocked[i]]
        for st in stacks:
            while st.backtrace and st.backtrace[-1].startswith("??"):
                st.backtrace.pop()
        bt = stacks[0].backtrace if stacks else []
        msg = "; ".join(f"thread {s.thread} {s.message[len('deadlock: '):]}: " + " < ".join(
            b.split(" ", 1)[0] for b in s.backtrace[:8]) for s in stacks)
        f = stress.Finding("DEADLOCK", 0, bt, "deadlock: every thread blocked on a lock; " + msg,
                           None, stacks[0].thread if stacks else -1,
                           names.get(stacks[0].role, "?") if stacks else "?", 0.0, ops,
                           spec.scenario, variant.name, seed)
        f.stacks = {s.thread: s.backtrace for s in stacks}    # every blocked thread's stack
        return f
    rep = None
    if mm.lib.pw_mm_nwarns(mm.handle) > 0:
        rep = mm.warnings()[0]
    if any(int(res.ret[i]) == -1000 for i in range(len(spec.threads))):
        rep = mm.oops_report()
    if rep is None:
        return None
    bt = list(rep.backtrace)
    while bt and bt[-1].startswith("??"):      # the thread's libc start frames
        bt.pop()
    f = stress.Finding(rep.kind, rep.address, bt, rep.message, rep.where,
                       rep.thread, names.get(rep.role, str(rep.role)), 0.0, ops,
                       spec.scenario, variant.name, seed)
    kinds = {i: t[1] for i, t in enumerate(spec.threads) if t[0] == "walker"}
    f.reachable = reach.label(f, race=race_name(f), driver=spec.driver, thread_kinds=kinds,
                              walker_kinds={"walker": list(dict.fromkeys(kinds.values()))})
    return f


def _raw_trace(variant, tr, ntrace: int, cap: int) -> list[dict]:
    ffi = variant.ffi
    out = []
    for k in range(max(0, ntrace - cap), ntrace):
        e = tr[k % cap]
        site = (stress.SITES[e.site] if e.site < len(stress.SITES)
                else "waits (lock held)" if e.site == consts.C["PW_TRACE_WAITS"] else f"site{e.site}")
        out.append({"step": int(e.step), "tid": int(e.tid), "site": site,
                    "val": int(e.val) if e.has_val else None,
                    "frames": [int(ffi.cast("unsigned long", e.frames[i])) for i in range(e.nframes)]})
    return out


def schedule_json(spec: Spec, outcome: Outcome, *, hunt_seed: int, index: int,
                  schedules: int) -> dict:
    d = spec.as_json()
    d.update({"kind": spec.kind, "seed": hunt_seed, "index": index, "schedules": schedules,
              "steps": outcome.finding_step if outcome.finding_step is not None else outcome.steps,
              "total_steps": outcome.steps, "switches": [list(s) for s in outcome.switches],
              "preemptions": len(outcome.switches)})
    return d


def hunt(variant: Variant, scenario: str, *, kind: str = "pct", seed: int = 1, depth: int = 3,
         schedules: int = 1000, ops_per_thread: int | None = None, sites=DEFAULT_SITES,
         walkers=None, faulters=None, ops_budget: int | None = None,
         progress=None, counts: dict | None = None, walker: str | None = None,
         driver: str | None = None) -> stress.StressResult:
    """Scheduled runs until the first finding, `schedules` runs, or `ops_budget` ops."""
    if kind not in ("pct", "random"):
        raise UsageError(f"pywalk: --schedule {kind}: pct or random")
    if depth < 1:
        raise UsageError("pywalk: --depth must be at least 1")
    threads, ops = plan_threads(scenario, walkers, faulters, ops_per_thread, counts, walker)
    result = stress.StressResult(variant.id, variant.kernel, variant.patches, scenario, seed,
                                 {}, None, walker=walker, driver=driver)
    result.source = getattr(variant, "provenance", None)
    for r, _ in threads:
        result.threads[r] = result.threads.get(r, 0) + 1
    t0 = time.perf_counter()
    # PCT draws its change points from 1..k: k is the longest run seen so far,
    # first measured by a run-on (no switch) run.  Deterministic.
    calib = run_once(variant, Spec(scenario, threads, ops, "replay", run_seed(seed, -1), depth, 0,
                                   tuple(sites), driver=driver))
    k = max(calib.steps, 1)
    total_ops = total_steps = 0
    last = None
    i = 0
    for i in range(schedules):
        spec = Spec(scenario, threads, ops, kind, run_seed(seed, i), depth, k, tuple(sites),
                    driver=driver)
        try:
            out = run_once(variant, spec, hunt_seed=seed)
        except KeyboardInterrupt:     # between runs: keep what was measured
            result.interrupted = True
            break
        total_ops += out.ops
        total_steps += out.steps
        k = max(k, out.steps)
        last = out
        if progress:
            progress(total_ops, time.perf_counter() - t0, int(out.finding is not None))
        if out.finding is not None:
            out.finding.elapsed_s = time.perf_counter() - t0
            out.finding.ops = total_ops
            result.findings.append(out.finding)
            result.first_finding_s, result.first_finding_ops = out.finding.elapsed_s, total_ops
            break
        if ops_budget is not None and total_ops >= ops_budget:
            break
    result.ops = total_ops
    result.elapsed_s = time.perf_counter() - t0
    if last is not None:
        result.schedule = schedule_json(last.spec, last, hunt_seed=seed, index=i, schedules=i + 1)
        result.schedule["total_steps_all"] = total_steps
        if last.finding is not None and getattr(last.finding, "stacks", None):
            result.schedule["deadlock_stacks"] = {str(t): bt for t, bt in last.finding.stacks.items()}
        result.schedule["expected_length"] = k
        if kind == "pct":   # PCT's guarantee per run for a bug of depth d (ASPLOS 2010)
            result.schedule["pct_bound"] = 1.0 / (len(threads) * k ** max(depth - 1, 0))
    return result
