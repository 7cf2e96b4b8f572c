# SPDX-License-Identifier: GPL-2.0-only
"""Custom hunts: your own scenario, written in Python, on Python threads.

A Hunt runs functions of yours on threads against one mm of a variant
(window widening on by default), counts their calls against a budget and
collects the kernel oopses they meet::

    hunt = pywalk.Hunt(variant, seed=1)

    @hunt.setup
    def mapping(mm):                    # for each new mm; its result is ctx
        return mm.map(4 << 30, huge="pud")

    @hunt.thread(role="walker", name="walker")
    def walk(mm, ctx, rng):             # one call is one operation
        mm.walk(ctx, ctx + (4 << 30), walker="count-numa")

    result = hunt.run(ops=100_000)      # result.findings: KernelOops

Each thread calls its function again and again until the budget (ops:
calls in all threads; seconds) is spent or a finding stops the hunt;
with keep_going the hunt goes on with a new mm after each finding.  Every
call into C releases the GIL, so the threads run kernel code at the same
time.  A finding is the KernelOops the threads saw (once per mm), with
thread_name (the thread that oopsed, named as you named it), role, race,
ops and elapsed_s.  Any other exception in a thread ends the hunt and is
raised again by run().
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from pywalk.errors import UsageError
from pywalk.hunt import races as _races  # noqa: F401  (installs KernelOops.race)
from pywalk.hunt.ending import GRACE_S, LOCKUP_S, unwind
from pywalk.hunt.roles import MAX_THREADS
from pywalk.variant.oops import KernelOops, MMTainted
from pywalk.variant.runtime import MM, Variant, set_role


@dataclass
class _Spec:
    fn: Callable
    role: str | None
    name: str
    count: int


@dataclass
class HuntResult:
    variant: str
    seed: int
    threads: dict                       # thread name -> role
    delays: dict | None
    ops: int = 0
    elapsed_s: float = 0.0
    findings: list = field(default_factory=list)    # KernelOops, in order found
    interrupted: bool = False

    @property
    def ops_per_s(self) -> float:
        return self.ops / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def first_finding_ops(self) -> int | None:
        return self.findings[0].ops if self.findings else None

    @property
    def first_finding_s(self) -> float | None:
        return self.findings[0].elapsed_s if self.findings else None

    def races(self) -> list[str]:
        """The known races found, each once, in order."""
        return list(dict.fromkeys(f.race for f in self.findings if f.race))

    def as_json(self) -> dict:
        return {"variant": self.variant, "seed": self.seed, "threads": self.threads,
                "delays": self.delays, "ops": self.ops, "elapsed_s": round(self.elapsed_s, 4),
                "ops_per_s": round(self.ops_per_s, 1), "findings": [f.as_json() for f in
                                                                  self.findings],
                "interrupted": self.interrupted}


class Hunt:
    """A custom race hunt on Python threads (see the module's docstring)."""

    def __init__(self, variant: Variant, *, delays=True, seed: int = 1,
                 keep_going: bool = False, lockup_s: float = LOCKUP_S):
        self.variant = variant
        self.delays = delays
        self.seed = seed
        self.keep_going = keep_going
        self.lockup_s = lockup_s    # no kernel call ends for this long: LOCKUP (hunt/ending.py)
        self._setup: Callable[[MM], object] = lambda mm: None
        self._specs: list[_Spec] = []

    # -- declaring ------------------------------------------------------------
    def setup(self, fn: Callable[[MM], object]) -> Callable:
        """fn(mm) -> ctx, run for each new mm (map here); a decorator."""
        self._setup = fn
        return fn

    def add(self, fn: Callable, *, role: str | None = None, name: str | None = None,
            count: int = 1) -> None:
        """Run fn(mm, ctx, rng) on `count` threads, named `name` (with "-i"
        appended when count > 1; default: the function's name)."""
        if not callable(fn):
            raise UsageError(f"pywalk: Hunt.add() takes a function, not {fn!r}")
        if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_THREADS:
            raise UsageError(f"pywalk: Hunt.add(count={count!r}): 1..{MAX_THREADS} threads")
        self._specs.append(_Spec(fn, role, name or fn.__name__, count))
        if sum(s.count for s in self._specs) > MAX_THREADS:
            raise UsageError(f"pywalk: a Hunt runs at most {MAX_THREADS} threads")

    def thread(self, fn: Callable | None = None, **kw):
        """Decorator form of add(): @hunt.thread or @hunt.thread(role=..., count=...)."""
        if fn is not None:
            self.add(fn, **kw)
            return fn

        def deco(f):
            self.add(f, **kw)
            return f
        return deco

    # -- running --------------------------------------------------------------
    def run(self, *, ops: int | None = None, seconds: float | None = None,
            progress: Callable[[int, float, int], None] | None = None,
            stop_when: Callable[[KernelOops], bool] | None = None) -> HuntResult:
        """Run until `ops` calls (all threads together) or `seconds` (default
        10 s when neither is given), or the first finding (without keep_going;
        with it, the first finding for which stop_when is true, if given)."""
        if not self._specs:
            raise UsageError("pywalk: a Hunt needs at least one thread (Hunt.add())")
        if ops is not None and (not isinstance(ops, int) or ops < 1):
            raise UsageError(f"pywalk: ops={ops!r}: a positive number of calls")
        if seconds is not None and not seconds > 0:
            raise UsageError(f"pywalk: seconds={seconds!r}: must be positive")
        if ops is None and seconds is None:
            seconds = 10.0
        names = [(s, s.name if s.count == 1 else f"{s.name}-{i}", i)
                 for s in self._specs for i in range(s.count)]
        first_mm = self.variant.new_mm(delays=self.delays)
        result = HuntResult(self.variant.name, self.seed, {n: s.role for s, n, _ in names},
                            first_mm.delays.as_json() if first_mm.delays else None)
        counter = itertools.count(1)
        done = [0]
        stop = threading.Event()
        lock = threading.Lock()
        state = {"gen": 0, "mm": first_mm, "ctx": self._setup(first_mm), "recorded": -1}
        errors: list[BaseException] = []
        t0 = time.perf_counter()

        def record(e: KernelOops, gen: int) -> None:
            with lock:
                if gen != state["gen"] or state["recorded"] == gen:
                    return      # this mm's finding is already in
                state["recorded"] = gen
                e.ops, e.elapsed_s = done[0], time.perf_counter() - t0
                result.findings.append(e)
                if not self.keep_going or (stop_when is not None and stop_when(e)):
                    stop.set()
                    return
                try:
                    mm = self.variant.new_mm(delays=self.delays)
                    state["ctx"] = self._setup(mm)
                except BaseException as err:    # noqa: BLE001 (raised again by run())
                    errors.append(err)
                    stop.set()
                    return
                state["mm"], state["gen"] = mm, gen + 1

        def body(spec: _Spec, index: int) -> None:
            set_role(spec.role)
            self.variant.lib.pw_watchdog_set_lockup(int(self.lockup_s * 1000))
            rng = random.Random(self.seed * 1_000_003 + index)
            gen = -1
            mm = ctx = None
            while not stop.is_set():
                if gen != state["gen"]:
                    with lock:
                        gen, mm, ctx = state["gen"], state["mm"], state["ctx"]
                try:
                    spec.fn(mm, ctx, rng)
                except KernelOops as e:
                    record(e, gen)
                    time.sleep(0)
                    continue
                except MMTainted:
                    time.sleep(0.001)       # the finding is being recorded: next mm
                    continue
                except BaseException as err:    # noqa: BLE001 (raised again by run())
                    errors.append(err)
                    stop.set()
                    return
                n = next(counter)
                done[0] = max(done[0], n)
                if ops is not None and n >= ops:
                    stop.set()
                elif seconds is not None and (n & 63) == 0 and \
                        time.perf_counter() - t0 >= seconds:
                    stop.set()

        threads = [threading.Thread(target=body, args=(s, i), name=n, daemon=True)
                   for i, (s, n, _) in enumerate(names)]
        for t in threads:
            t.start()
        stopped_at = None       # when the hunt was told to stop (budget, finding)
        try:
            while any(t.is_alive() for t in threads):
                for t in threads:
                    t.join(timeout=0.05)
                elapsed = time.perf_counter() - t0
                if seconds is not None and elapsed >= seconds:
                    stop.set()
                if progress:
                    progress(done[0], elapsed, len(result.findings))
                if stop.is_set() and stopped_at is None:
                    stopped_at = elapsed
                # as stress.run(): the time bound, or (any budget) a thread still
                # in kernel code past its lockup time after the stop
                if (seconds is not None and elapsed >= seconds + GRACE_S) or (
                        stopped_at is not None
                        and elapsed - stopped_at > self.lockup_s + GRACE_S):
                    unwind(self.variant.lib, stop.set, threads)
                    break
        except KeyboardInterrupt:
            result.interrupted = True
            unwind(self.variant.lib, stop.set, threads)
        result.ops = done[0]
        result.elapsed_s = time.perf_counter() - t0
        if errors:
            raise errors[0]
        return result
