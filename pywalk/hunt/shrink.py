# SPDX-License-Identifier: GPL-2.0-only
"""Shrinking a scheduled finding: fewer threads, operations and switches.

Delta debugging over the three things a schedule is made of.  A candidate
is kept when its replay fails the same way (the same Finding.signature) in
no more steps than the best so far and is smaller in threads, operations
or switches.  The switches kept are those the candidate's run actually
made (a requested switch to a thread that cannot run is dropped), so the
result replays exactly.  Every candidate is one deterministic run, so
shrinking gives the same result every time.
"""

from __future__ import annotations

from dataclasses import replace

from pywalk.hunt import schedule


def live_ops(spec: schedule.Spec) -> int:
    skip = list(spec.skip) + [0] * len(spec.ops)
    return sum(o - bin(skip[i] & ((1 << min(o, 64)) - 1)).count("1") for i, o in enumerate(spec.ops))


def _size(spec: schedule.Spec, steps: int) -> tuple:
    return (steps, len(spec.threads), live_ops(spec), len(spec.switches))


def shrink(variant, spec: schedule.Spec, signature: str, *, max_runs: int = 5000,
           hunt_seed: int | None = None) -> tuple[schedule.Outcome, int]:
    """The smallest failing schedule found, and how many runs it took."""
    runs = 0
    best = schedule.run_once(variant, replace(spec, local=False), hunt_seed=hunt_seed)
    if best.finding is None or best.finding.signature != signature:
        raise ValueError("the schedule does not fail the same way")
    # candidates replay switches by (deciding thread, its own count): taking
    # operations from one thread does not move the others' switches
    best_spec = replace(spec, switches=list(best.switches), local=True)

    def attempt(cand: schedule.Spec) -> bool:
        nonlocal best, best_spec, runs
        if runs >= max_runs or not cand.threads or any(o < 0 for o in cand.ops):
            return False
        runs += 1
        out = schedule.run_once(variant, cand, hunt_seed=hunt_seed)
        if out.finding is None or out.finding.signature != signature:
            return False
        kept = replace(cand, switches=list(out.switches))
        if _size(kept, out.finding_step) < _size(best_spec, best.finding_step):
            best, best_spec = out, kept
            best.spec = kept
            return True
        return False

    changed = True
    while changed and runs < max_runs:
        changed = False
        # threads: drop one (its switches go; later threads' indices shift)
        for i in reversed(range(len(best_spec.threads))):
            s = best_spec
            if i >= len(s.threads):
                continue
            sw = [(st, t - (t > i), by - (by > i), loc) for st, t, by, loc in s.switches
                  if t != i and by != i]
            threads = [t if len(t) > 2 else (*t, k) for k, t in enumerate(s.threads)]
            skip = (list(s.skip) + [0] * len(s.ops))[:len(s.ops)]
            cand = replace(s, threads=threads[:i] + threads[i + 1:],
                           ops=s.ops[:i] + s.ops[i + 1:], switches=sw,
                           skip=skip[:i] + skip[i + 1:])
            changed |= attempt(cand)
        # operations: one fewer for a thread, as long as it still fails
        for i in range(len(best_spec.ops)):
            while i < len(best_spec.ops) and best_spec.ops[i] > 1:
                s = best_spec
                ops = list(s.ops)
                ops[i] -= 1
                if not attempt(replace(s, ops=ops)):
                    break
                changed = True
        # operations anywhere in a thread: skip one (its random draw stays,
        # so the thread's other operations keep their addresses)
        for i in range(len(best_spec.ops)):
            for j in range(min(best_spec.ops[i], 64)):
                s = best_spec
                skip = (list(s.skip) + [0] * len(s.ops))[:len(s.ops)]
                if skip[i] >> j & 1:
                    continue
                skip[i] |= 1 << j
                changed |= attempt(replace(s, skip=skip))
        # switches: drop one; or move one a step earlier
        k = 0
        while k < len(best_spec.switches):
            s = best_spec
            if attempt(replace(s, switches=s.switches[:k] + s.switches[k + 1:])):
                changed = True
                continue
            st, t, by, loc = s.switches[k]
            if loc > 1 and attempt(replace(s, switches=s.switches[:k] + [(st, t, by, loc - 1)]
                                           + s.switches[k + 1:])):
                changed = True
                continue
            k += 1
    best.spec = replace(best_spec, local=False)   # its switches' steps are this run's
    return best, runs
