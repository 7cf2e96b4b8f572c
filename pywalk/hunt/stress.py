# SPDX-License-Identifier: GPL-2.0-only
"""Race hunting: scenarios run by Python threads over a variant's real code.

Each thread loops in C (csrc/scenarios.c) for a batch of kernel operations
with the GIL released; Python only starts the threads, checks the budget
and collects findings.

Window widening (on by default, ``delays=None`` turns it off; per mm, see
pywalk/variant/delays.py): seeded
random short waits at the shim's shared-state hook (lock release, entry
stores, the driver's fault return), as KCSAN does.  A delay only waits; the
race always comes from real threads running the real code concurrently.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from pywalk.hunt.ending import GRACE_S, LOCKUP_S, unwind
from pywalk.hunt import roles
from pywalk.variant.delays import SITES, DelayProfile  # noqa: F401 (pywalk.hunt.stress.DelayProfile)
from pywalk.variant.runtime import ERR_OOPS, ERR_PANIC, MM, ROLES, WALKERS, Variant  # WALKERS: ours and the tree's
from pywalk.variant.oops import Report, address_class, signature
from pywalk.hunt import dataraces, reach, teardown
from pywalk.hunt.races import race_name

ROLE = ROLES        # PW_ROLE_* by name (pywalk.variant.consts), as the README uses it
GiB = 1 << 30


OFF = None


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    size: int
    huge: str
    write_notify: bool | str       # True, False (writable) or "half" (MM.map)
    # role -> (default thread count, walker kind or None, pause in us)
    roles: dict
    faulters_role: str | None = "reader"    # what --faulters stands for (pywalk/hunt/roles.py)


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
        faulters_role="writer"),
    "mixed": Scenario(
        "mixed",
        "reads, writes, three walker kinds, zaps and page-table teardown together "
        "(the first half write-notify, the second a writable mapping)",
        4 * GiB, "pud", "half",
        {"walker/count-numa": (1, "count-numa", 0), "walker/count-dirty": (1, "count-dirty", 0),
         "walker/pmd_pte": (1, "pmd_pte", 0), "reader": (1, None, 0), "writer": (1, None, 0),
         "zapper": (1, None, 20), "reaper": (1, None, 200)}, faulters_role=None),
    "zap-vs-refault": Scenario(
        "zap-vs-refault",
        "madvise(MADV_DONTNEED) of a 1 GiB range or 2 MiB inside one (a split) while "
        "readers refault 1 GiB PUD leaves",
        2 * GiB, "pud", False,
        {"zapper": (2, None, 0), "reader": (2, None, 0)}),
    "policy-flip": Scenario(
        "policy-flip",
        "read and write faults (under per-VMA locks where the tree has them) while a "
        "flipper turns THP off and on (prctl(PR_SET_THP_DISABLE)) and a zapper "
        "clears leaves: a fault that skipped the huge PUD meets one another installed",
        4 * GiB, "pud", False,
        {"reader": (2, None, 0), "writer": (1, None, 0), "flipper": (1, None, 0),
         "zapper": (1, None, 0)}, faulters_role=None),
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
    thread_name: str | None = None      # the Python thread ("pywalk-walker-0")
    racing: list[dict] = field(default_factory=list)   # oops.Report.racing, role names
    pmd_alloc_recheck: bool | None = None               # oops.Report's (races.py)
    reachable: dict | None = None       # how a process reaches it (pywalk/hunt/reach.py)
    model: str = "native"                               # the build model (variant/model.py)
    explain: dict | None = None                         # down to the loads (variant/explain.py)

    @property
    def signature(self) -> str:
        """Kind and the innermost kernel frames: findings with one cause share it."""
        return signature(self.kind, self.backtrace)

    def as_json(self) -> dict:
        return {"kind": self.kind, "signature": self.signature, "address": self.address,
                "backtrace": self.backtrace,
                "message": self.message, "where": self.where, "thread": self.thread,
                "role": self.role, "elapsed_s": round(self.elapsed_s, 4), "ops": self.ops,
                "scenario": self.scenario, "variant": self.variant, "seed": self.seed,
                "thread_name": self.thread_name, "address_class": address_class(self.message),
                "racing": self.racing, "reachable": self.reachable,
                "pmd_alloc_recheck": self.pmd_alloc_recheck, "model": self.model,
                "explain": self.explain}


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
    cut_short: int = 0      # threads unwound in kernel code at the time bound (GRACE_S)
    python_s: float = 0.0
    source: dict | None = None  # Variant.provenance: package version, file sha256s
    label: str = ""                     # the variant's label (pywalk/variant/labels.py)
    kernel_git: str | None = None       # git describe of a --kernel worktree
    patch_sha256: list[str] = field(default_factory=list)
    walker: str | None = None     # --walker: the walk client every walker thread runs
    driver: str | None = None     # --driver: whose huge_fault the mapping has
    instrumented: bool = False   # the tree's code calls a hook before every access
    data_races: list[Finding] = field(default_factory=list)   # hunt/dataraces.py
    schedule: dict | None = None    # a controlled schedule's record (pywalk/hunt/schedule.py)
    madvise_einval: int = 0     # zapper madvise() calls the tree refused with -EINVAL
    ops_by_role: dict = field(default_factory=dict)  # role -> its threads' operations
    cpu_s_by_role: dict = field(default_factory=dict)  # role -> its threads' CPU seconds
    model: str = "native"           # how pud_val() & co compile (pywalk/variant/model.py)

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.elapsed_s if self.elapsed_s else 0.0

    def as_json(self) -> dict:
        return {"variant": self.variant, "kernel": self.kernel, "patches": self.patches,
                "label": self.label, "kernel_git": self.kernel_git,
                "patch_sha256": self.patch_sha256,
                "scenario": self.scenario, "seed": self.seed, "threads": self.threads,
                "delays": self.delays, "ops": self.ops, "elapsed_s": round(self.elapsed_s, 4),
                "ops_per_s": round(self.ops_per_s, 1), "ops_by_role": self.ops_by_role,
                "cpu_s_by_role": {k: round(v, 4) for k, v in self.cpu_s_by_role.items()},
                "first_finding_s": None if self.first_finding_s is None
                else round(self.first_finding_s, 4),
                "first_finding_ops": self.first_finding_ops,
                "findings": [f.as_json() for f in self.findings],
                "interrupted": self.interrupted, "threads_unwound_at_time_bound": self.cut_short,
                "instrumented": self.instrumented, "model": self.model,
                "walker": self.walker, "driver": self.driver or "write-notify",
                "data_races": [f.as_json() for f in self.data_races], "source": self.source,
                "madvise_einval": self.madvise_einval,
                **({"schedule": self.schedule} if self.schedule is not None else {})}


def thread_plan(scenario: Scenario, walkers: int | None = None, faulters: int | None = None,
                threads: dict | None = None) -> dict:
    """thread group -> (count, walker kind, pause_us): threads gives a count per
    role ("walker", "reader", ...; pywalk/hunt/roles.py checks them), walkers
    is threads["walker"], faulters the scenario's faulting role.  A group is
    a role, optionally with a label after a slash ("walker/dirty"); a role's
    count applies to each of its groups."""
    counts = dict(threads or {})
    if walkers is not None:
        counts["walker"] = walkers
    return roles.plan(scenario, roles.counts_from(scenario, counts, faulters))


def run(variant: Variant, scenario: str | Scenario, *, walkers: int | None = None,
        faulters: int | None = None, threads: dict | None = None, seconds: float | None = None, ops: int | None = None,
        seed: int = 1, delays: DelayProfile | None = DelayProfile(), keep_going: bool = False,
        batch: int = 16, progress=None, stop_when=None, walker: str | None = None,
        driver: str | None = None, lockup_s: float = LOCKUP_S) -> StressResult:
    """Run one race hunt.  Stops at the first finding unless keep_going
    (then at the first finding for which stop_when(finding) is true, if
    given), when the op budget is spent, or after `seconds`; Ctrl-C keeps
    what was measured (result.interrupted).  A thread that completes no
    kernel operation for lockup_s seconds is a LOCKUP finding (the
    soft-lockup watchdog, shim/checkers/watchdog.c); `seconds` is a hard bound:
    threads still in kernel code GRACE_S after it are unwound."""
    sc = scenario if isinstance(scenario, Scenario) else SCENARIOS[scenario]
    scenario = sc.name      # a Scenario of the caller's own (hunt/regress.py) runs too
    if seconds is None and ops is None:
        seconds = 10.0
    plan = thread_plan(sc, walkers, faulters, threads)
    if walker is not None:    # --walker: every walker thread runs that client
        plan = {g: (n, walker if g.split("/")[0] == "walker" else kind, pause)
                for g, (n, kind, pause) in plan.items()}
    result = StressResult(variant.id, variant.kernel, variant.patches, scenario, seed,
                          {r: n for r, (n, _, _) in plan.items()},
                          delays.resolved(getattr(variant, "instrumented", False)).as_json()
                          if delays else None, walker=walker, driver=driver)
    result.source = getattr(variant, "provenance", None)
    result.label, result.kernel_git = variant.name, variant.kernel_git
    result.patch_sha256 = list(variant.patch_sha256)
    result.instrumented = getattr(variant, "instrumented", False)
    result.model = getattr(variant, "model", "native")
    ffi, lib = variant.ffi, variant.lib
    stop = ffi.new("int *")
    lock = threading.Lock()
    counters = {"ops": 0, "py": 0.0, "einval": 0}
    by_role = dict.fromkeys((g.split("/")[0] for g in plan), 0)
    cpu_by_role = dict.fromkeys(by_role, 0.0)
    t0 = time.perf_counter()
    state = {"mm": None, "start": 0}

    def new_mm():
        mm = MM(variant, delays=delays)
        start = mm.map(sc.size, huge=sc.huge, write_notify=sc.write_notify, driver=driver)
        state["mm"], state["start"] = mm, start
        return mm

    new_mm()
    dataraces.start(variant)
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
        cpu0 = time.thread_time()
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
                    cfg.lockup_ms = int(lockup_s * 1000)
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
                by_role[role] += done[0]
                if my_gen == generation[0] and lib.pw_mm_nwarns(mm.handle) > warns_seen[0]:
                    for rep in mm.warnings()[warns_seen[0]:]:
                        _record(rep, role_names)
                    warns_seen[0] = lib.pw_mm_nwarns(mm.handle)
                    if not keep_going:
                        stop[0] = 1
                # (a thread unwound by _unwind() returns ERR_PANIC with no oops)
                if (r in (ERR_OOPS, ERR_PANIC) and my_gen == generation[0] != recorded[0]
                        and mm.oops_report() is not None):
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
            counters["einval"] += cfg.madvise_einval
            cpu_by_role[role] += time.thread_time() - cpu0

    def _record(rep: Report, names) -> None:
        elapsed = time.perf_counter() - t0
        f = Finding(rep.kind, rep.address, rep.backtrace, rep.message, rep.where, rep.thread,
                    names.get(rep.role, str(rep.role)), elapsed, counters["ops"], scenario,
                    variant.name, seed,
                    f"pywalk-{roles_flat[rep.thread][0]}-{rep.thread}"
                    if 0 <= rep.thread < len(roles_flat) else None)
        f.racing = [dict(r, role=names.get(r["role"], str(r["role"]))) for r in rep.racing]
        f.pmd_alloc_recheck = rep.pmd_alloc_recheck
        _reachable(f)
        f.model, f.explain = rep.model, rep.explain(names)
        result.findings.append(f)
        if result.first_finding_s is None:
            result.first_finding_s = elapsed
            result.first_finding_ops = counters["ops"]
        if stop_when is not None and stop_when(f):
            stop[0] = 1

    thread_kinds = {i: kind for i, (role, kind, _) in enumerate(roles_flat) if role == "walker"}

    def _reachable(f: Finding) -> Finding:
        f.reachable = reach.label(f, race=race_name(f), driver=driver,
                                  walker_kinds={"walker": list(dict.fromkeys(thread_kinds.values()))},
                                  thread_kinds=thread_kinds)
        return f

    threads = [threading.Thread(target=body, args=(i, role, kind, pause), daemon=True,
                                name=f"pywalk-{role}-{i}")
               for i, (role, kind, pause) in enumerate(roles_flat)]
    for t in threads:
        t.start()
    stopped_at = None       # when the hunt was told to stop (budget, finding)
    try:
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(timeout=0.1)
            now = time.perf_counter() - t0
            if progress:
                progress(counters["ops"], now, len(result.findings))
            if stop[0] and stopped_at is None:
                stopped_at = now
            # a thread still in kernel code past the time bound, or (any budget)
            # past its lockup time after the stop: the watchdog had its say
            if (seconds is not None and now > seconds + GRACE_S) or (
                    stopped_at is not None and now - stopped_at > lockup_s + GRACE_S):
                result.cut_short = unwind(lib, lambda: stop.__setitem__(0, 1), threads)
                break
    except KeyboardInterrupt:
        result.interrupted = True
        unwind(lib, lambda: stop.__setitem__(0, 1), threads)
    if not result.interrupted and not result.cut_short:     # the mm's end, by the tree's teardown + check_mm()
        teardown.final_teardown(state["mm"], lambda rep: _record(rep, role_names))
    result.ops = counters["ops"]
    result.ops_by_role = dict(sorted(by_role.items()))
    result.cpu_s_by_role = dict(sorted(cpu_by_role.items()))
    result.elapsed_s = time.perf_counter() - t0
    result.python_s = counters["py"]
    result.madvise_einval = counters["einval"]
    result.data_races = dataraces.collect(variant, lambda rep: _reachable(Finding(
        rep.kind, rep.address, rep.backtrace, rep.message, rep.where, rep.thread,
        role_names.get(rep.role, str(rep.role)), result.elapsed_s, result.ops, scenario,
        variant.name, seed)), role_names)
    return result
