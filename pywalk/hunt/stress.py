# SPDX-License-Identifier: GPL-2.0-only
"""Race hunting: scenarios run by Python threads over a variant's real code.

Each thread loops in C (csrc/scenarios.c) for a batch of kernel operations
with the GIL released; Python only starts the threads, checks the budget
and collects findings.

Window widening (on by default, ``delays=False`` turns it off): seeded
random short waits at the shim's shared-state hook (lock release, entry
stores, the driver's fault return), as KCSAN does.  A delay only waits; the
race always comes from real threads running the real code concurrently.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pywalk.variant.runtime import ERR_OOPS, ERR_PANIC, MM, WALKERS, Variant  # WALKERS: ours and the tree's
from pywalk.errors import UsageError
from pywalk.variant.oops import Report

ROLE = {"walker": 1, "reader": 2, "writer": 3, "zapper": 4, "reaper": 5}
SITES = ("lock", "unlock", "load", "store", "fault_return")
GiB = 1 << 30


@dataclass(frozen=True)
class DelayProfile:
    """Chance (per 65536 hits) and maximum length (cpu_relax() spins) per hook site."""

    prob: tuple[int, ...] = (0, 2048, 0, 512, 4096)
    max_spins: tuple[int, ...] = (0, 1000, 0, 250, 1000)
    yield_permille: int = 100

    @classmethod
    def parse(cls, spec: str) -> "DelayProfile":
        """'unlock=2048:1000,fault_return=4096:1000,yield=100' on top of the defaults.

        Each site takes chance-per-65536:max-spins; 'yield' the permille of
        delays that also sched_yield().
        """
        prob, spins, yld = list(cls.prob), list(cls.max_spins), cls.yield_permille
        for item in filter(None, (x.strip() for x in spec.split(","))):
            name, _, value = item.partition("=")
            try:
                if name == "yield":
                    yld = int(value)
                    continue
                i = SITES.index(name)
                p, _, m = value.partition(":")
                prob[i], spins[i] = int(p), int(m) if m else spins[i]
            except ValueError:
                raise UsageError(f"pywalk: --delays {item!r}: expected SITE=CHANCE[:SPINS] with "
                                 f"SITE one of {', '.join(SITES)}, or yield=PERMILLE") from None
            if not 0 <= prob[i] <= 65536:
                raise UsageError(f"pywalk: --delays {item!r}: chance is per 65536")
        return cls(tuple(prob), tuple(spins), yld)

    def as_json(self) -> dict:
        return {"sites": {s: {"prob_per_65536": p, "max_spins": m}
                          for s, p, m in zip(SITES, self.prob, self.max_spins)},
                "yield_permille": self.yield_permille}


OFF = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    size: int
    huge: str
    write_notify: bool
    # role -> (default thread count, walker kind or None, pause in us)
    roles: dict
    walkers_role: str = "walker"
    faulters_role: str = "reader"


SCENARIOS = {
    "walk-vs-refault": Scenario(
        "walk-vs-refault",
        "numa_maps-like walks (no pud_entry) split 1 GiB PUD leaves while readers refault them",
        4 * GiB, "pud", False,
        {"walker": (1, "count-numa", 0), "reader": (2, None, 0)}),
    "walk-vs-refault-pmd": Scenario(
        "walk-vs-refault-pmd",
        "walks with pmd_entry+pte_entry split 2 MiB PMD leaves while readers refault them",
        1 * GiB, "pmd", False,
        {"walker": (1, "pmd_pte", 0), "reader": (2, None, 0)}),
    "fault-vs-fault": Scenario(
        "fault-vs-fault",
        "write faults on a write-notify mapping fall back while read faults install 1 GiB PUDs",
        1 * GiB, "pud", True,
        {"writer": (2, None, 0), "reader": (1, None, 0), "reaper": (1, None, 20)},
        walkers_role="reader", faulters_role="writer"),
    "mixed": Scenario(
        "mixed",
        "reads, writes, three walker kinds, zaps and page-table teardown together",
        4 * GiB, "pud", True,
        {"walker/count-numa": (1, "count-numa", 0), "walker/count-dirty": (1, "count-dirty", 0),
         "walker/pmd_pte": (1, "pmd_pte", 0), "reader": (1, None, 0), "writer": (1, None, 0),
         "zapper": (1, None, 20), "reaper": (1, None, 200)}),
}


@dataclass
class Finding:
    kind: str
    address: int
    backtrace: list[str]
    message: str
    where: str | None
    thread: int
    role: str
    elapsed_s: float
    ops: int
    scenario: str
    variant: str
    seed: int

    @property
    def signature(self) -> str:
        """Kind and the innermost kernel frames: findings with one cause share it."""
        frames = [b.split(" ", 1)[0] for b in self.backtrace
                  if " " in b and not b.split(" ", 1)[1].startswith(("shim/", "csrc/", "??"))]
        return " ".join([self.kind, "<".join(frames[:3])])

    def as_json(self) -> dict:
        return {"kind": self.kind, "signature": self.signature, "address": self.address,
                "backtrace": self.backtrace,
                "message": self.message, "where": self.where, "thread": self.thread,
                "role": self.role, "elapsed_s": round(self.elapsed_s, 4), "ops": self.ops,
                "scenario": self.scenario, "variant": self.variant, "seed": self.seed}


@dataclass
class StressResult:
    variant: str
    kernel: str
    patches: list[str]
    scenario: str
    seed: int
    threads: dict
    delays: dict | None
    ops: int = 0
    elapsed_s: float = 0.0
    first_finding_s: float | None = None
    first_finding_ops: int | None = None
    findings: list[Finding] = field(default_factory=list)
    interrupted: bool = False
    python_s: float = 0.0
    label: str = ""                     # the variant's label (pywalk/variant/labels.py)
    kernel_git: str | None = None       # git describe of a --kernel worktree
    patch_sha256: list[str] = field(default_factory=list)
    walker: str | None = None     # --walker: the walk client every walker thread runs
    driver: str | None = None     # --driver: whose huge_fault the mapping has

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.elapsed_s if self.elapsed_s else 0.0

    def as_json(self) -> dict:
        return {"variant": self.variant, "kernel": self.kernel, "patches": self.patches,
                "label": self.label, "kernel_git": self.kernel_git,
                "patch_sha256": self.patch_sha256,
                "scenario": self.scenario, "seed": self.seed, "threads": self.threads,
                "delays": self.delays, "ops": self.ops, "elapsed_s": round(self.elapsed_s, 4),
                "ops_per_s": round(self.ops_per_s, 1),
                "first_finding_s": None if self.first_finding_s is None
                else round(self.first_finding_s, 4),
                "first_finding_ops": self.first_finding_ops,
                "findings": [f.as_json() for f in self.findings],
                "interrupted": self.interrupted,
                "walker": self.walker, "driver": self.driver or "write-notify"}


def thread_plan(scenario: Scenario, walkers: int | None, faulters: int | None) -> dict:
    """thread group -> (count, walker kind, pause_us) with --walkers/--faulters applied.

    A group is a role, optionally with a label after a slash ("walker/dirty");
    --walkers and --faulters set the count of every group of their role.
    """
    plan = dict(scenario.roles)
    for role, count in ((scenario.walkers_role, walkers), (scenario.faulters_role, faulters)):
        if count is None:
            continue
        for group, (_, kind, pause) in plan.items():
            if group.split("/")[0] == role:
                plan[group] = (count, kind, pause)
    return {g: v for g, v in plan.items() if v[0] > 0}


def _set_delays(variant: Variant, profile: DelayProfile | None) -> None:
    ffi, lib = variant.ffi, variant.lib
    p = profile or DelayProfile()
    lib.pw_set_delays(1 if profile else 0, ffi.new("unsigned int[]", list(p.prob)),
                      ffi.new("unsigned int[]", list(p.max_spins)), p.yield_permille)


def run(variant: Variant, scenario: str, *, walkers: int | None = None,
        faulters: int | None = None, seconds: float | None = None, ops: int | None = None,
        seed: int = 1, delays: DelayProfile | None = DelayProfile(), keep_going: bool = False,
        batch: int = 16, progress=None, stop_when=None, walker: str | None = None,
        driver: str | None = None) -> StressResult:
    """Run one race hunt.  Stops at the first finding unless keep_going
    (then at the first finding for which stop_when(finding) is true, if
    given), when the op budget is spent, or after `seconds`; Ctrl-C keeps
    what was measured (result.interrupted)."""
    sc = SCENARIOS[scenario]
    if seconds is None and ops is None:
        seconds = 10.0
    plan = thread_plan(sc, walkers, faulters)
    if walker is not None:    # --walker: every walker thread runs that client
        plan = {g: (n, walker if g.split("/")[0] == "walker" else kind, pause)
                for g, (n, kind, pause) in plan.items()}
    result = StressResult(variant.id, variant.kernel, variant.patches, scenario, seed,
                          {r: n for r, (n, _, _) in plan.items()},
                          delays.as_json() if delays else None, walker=walker, driver=driver)
    result.label, result.kernel_git = variant.name, variant.kernel_git
    result.patch_sha256 = list(variant.patch_sha256)
    _set_delays(variant, delays)
    ffi, lib = variant.ffi, variant.lib
    stop = ffi.new("int *")
    lock = threading.Lock()
    counters = {"ops": 0, "py": 0.0}
    t0 = time.perf_counter()
    state = {"mm": None, "start": 0}

    def new_mm():
        mm = MM(variant)
        start = mm.map(sc.size, huge=sc.huge, write_notify=sc.write_notify, driver=driver)
        state["mm"], state["start"] = mm, start
        return mm

    new_mm()
    generation = [0]
    recorded = [-1]
    warns_seen = [0]
    roles_flat = [(group.split("/")[0], kind, pause)
                  for group, (n, kind, pause) in plan.items() for _ in range(n)]
    role_names = {v: k for k, v in ROLE.items()}

    def body(tid: int, role: str, kind: str | None, pause: int) -> None:
        cfg = ffi.new("struct pw_stress_cfg *")
        done = ffi.new("long *")
        lib.pw_stress_reseed(seed, tid)
        my_gen = -1
        my_batch = batch
        py_s = 0.0
        while not stop[0]:
            tp = time.perf_counter()
            with lock:
                if my_gen != generation[0]:
                    my_gen = generation[0]
                    mm = state["mm"]
                    cfg.role, cfg.tid, cfg.seed = ROLE[role], tid, seed
                    cfg.walker = WALKERS.get(kind or "count", 0)
                    cfg.start, cfg.size, cfg.pause_us = state["start"], sc.size, pause
                if ops is not None and counters["ops"] >= ops:
                    stop[0] = 1
                    break
                if seconds is not None and time.perf_counter() - t0 >= seconds:
                    stop[0] = 1
                    break
                n = my_batch
                if ops is not None:
                    n = max(1, min(n, (ops - counters["ops"]) // len(roles_flat)))
            py_s += time.perf_counter() - tp
            r = lib.pw_stress_run(mm.handle, cfg, n, stop, done)
            tp2 = time.perf_counter()
            # keep each call into C between 1 and 4 ms: Python stays off the hot loop
            if tp2 - tp < 0.001 and my_batch < (1 << 20):
                my_batch *= 2
            elif tp2 - tp > 0.004 and my_batch > 1:
                my_batch //= 2
            tp = tp2
            with lock:
                counters["ops"] += done[0]
                if my_gen == generation[0] and lib.pw_mm_nwarns(mm.handle) > warns_seen[0]:
                    for rep in mm.warnings()[warns_seen[0]:]:
                        _record(rep, role_names)
                    warns_seen[0] = lib.pw_mm_nwarns(mm.handle)
                    if not keep_going:
                        stop[0] = 1
                if r in (ERR_OOPS, ERR_PANIC) and my_gen == generation[0] != recorded[0]:
                    recorded[0] = my_gen
                    _record(mm.oops_report(), role_names)
                    if keep_going and not stop[0]:
                        generation[0] += 1
                        warns_seen[0] = 0
                        new_mm()
                    else:
                        stop[0] = 1
            py_s += time.perf_counter() - tp
        with lock:
            counters["py"] += py_s

    def _record(rep: Report, names) -> None:
        elapsed = time.perf_counter() - t0
        f = Finding(rep.kind, rep.address, rep.backtrace, rep.message, rep.where, rep.thread,
                    names.get(rep.role, str(rep.role)), elapsed, counters["ops"], scenario,
                    variant.name, seed)
        result.findings.append(f)
        if result.first_finding_s is None:
            result.first_finding_s = elapsed
            result.first_finding_ops = counters["ops"]
        if stop_when is not None and stop_when(f):
            stop[0] = 1

    threads = [threading.Thread(target=body, args=(i, role, kind, pause), daemon=True,
                                name=f"pywalk-{role}-{i}")
               for i, (role, kind, pause) in enumerate(roles_flat)]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.1)
            if progress:
                progress(counters["ops"], time.perf_counter() - t0, len(result.findings))
    except KeyboardInterrupt:
        result.interrupted = True
        stop[0] = 1
        for t in threads:
            t.join()
    result.ops = counters["ops"]
    result.elapsed_s = time.perf_counter() - t0
    result.python_s = counters["py"]
    _set_delays(variant, None)
    return result
