# SPDX-License-Identifier: GPL-2.0-only
"""Bounded exhaustive exploration of a scenario's small form.

The small form: one thread per role of the scenario, one operation each,
over one huge unit (one PUD, or one PMD for the -pmd scenario), with the
huge leaf faulted in first where the scenario splits leaves.  Every
schedule with at most ``bound`` switches (decisions that differ from
run-on: the running thread goes on while it can, else the lowest-numbered
runnable one) is run once, in order of increasing number of switches.  The
runs are deterministic, so "exhausted" means every such interleaving of
the scheduling points ran clean: a bounded proof for that small form, at
the granularity of the scheduling points.
"""

from __future__ import annotations

import time
from dataclasses import replace

from pywalk.errors import UsageError
from pywalk.hunt import schedule, stress

PREFAULT = {"walk-vs-refault": True, "walk-vs-refault-pmd": True}
CHOICES_CAP = 1 << 16


def small_form(scenario: str, *, ops: int = 1, seed: int = 1, sites=schedule.DEFAULT_SITES,
               roles: list[str] | None = None) -> schedule.Spec:
    """roles: the threads' roles (default one per role group of the scenario);
    a walker gets the scenario's walker kind."""
    sc = stress.SCENARIOS[scenario]
    threads = [(g.split("/")[0], kind) for g, (_, kind, _) in sc.roles.items()]
    if roles:
        kinds = {r: k for r, k in threads}
        bad = [r for r in roles if r not in stress.ROLE]
        if bad or len(roles) > schedule.MAX_THREADS:
            raise UsageError(f"pywalk: --threads: roles are {', '.join(stress.ROLE)} "
                             f"(at most {schedule.MAX_THREADS} threads)")
        threads = [(r, kinds.get(r, "count-numa" if r == "walker" else None)) for r in roles]
    unit = 1 << (30 if sc.huge == "pud" else 21)
    return schedule.Spec(scenario, threads, [ops] * len(threads), "replay", seed, 0, 0,
                         tuple(sites), [], unit, PREFAULT.get(scenario, False))


def explore(variant, spec: schedule.Spec, bound: int, *, max_schedules: int | None = None,
            progress=None) -> tuple[schedule.Outcome | None, int, bool, float]:
    """(first failing outcome or None, schedules run, exhausted, seconds)."""
    t0 = time.perf_counter()
    level = [[]]
    count = 0
    for depth in range(bound + 1):
        nxt = []
        for sw in level:
            if max_schedules is not None and count >= max_schedules:
                return None, count, False, time.perf_counter() - t0
            out = schedule.run_once(variant, replace(spec, switches=sw), choices_cap=CHOICES_CAP)
            count += 1
            if progress and count % 200 == 0:
                progress(count, time.perf_counter() - t0, 0)
            if out.finding is not None:
                out.spec = replace(spec, switches=out.switches)
                return out, count, False, time.perf_counter() - t0
            if out.truncated:
                continue
            if depth == bound:
                continue
            last = sw[-1][0] if sw else 0
            for s in range(last + 1, min(out.steps, CHOICES_CAP) + 1):
                mask, pick = out.choices[s - 1]
                for t in range(len(spec.threads)):
                    if mask >> t & 1 and t != pick:
                        nxt.append(sw + [(s, t)])
        level = nxt
    return None, count, True, time.perf_counter() - t0
