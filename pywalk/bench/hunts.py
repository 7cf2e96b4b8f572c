# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk bench --hunts`: time and operations to the first finding of every
known race.

The races are the rows of `pywalk reproduce` that expect their race to show
(pywalk/hunt/reproduce.py, INSTRUMENTED_ROWS for instrumented variants,
ROWS for plain ones): whatever rows are there, none named here.  Each row
is hunted as `reproduce` hunts it (its variant, scenario, walker, driver,
delays; stop at the first finding that is the row's race) once per seed,
and each hunt's first finding of that race gives the time (seconds from
the hunt's start) and the operations (all threads') spent to reach it.
Other findings on the way are counted, not timed.
"""

from __future__ import annotations

import statistics
import time

from pywalk.assets import patch_path
from pywalk.hunt import clients, reproduce, stress

TARGET_S = 1.0          # per race: the median time to the first finding (issue 22)


def race_rows(instrumented: bool = True) -> list:
    """Every reproduce row that expects its race to show."""
    rows = reproduce.INSTRUMENTED_ROWS if instrumented else reproduce.ROWS
    return [row for row in rows if row.expect_race]


def _first(row, r) -> dict:
    """The seed's hunt: the first finding of the row's race, or none."""
    hit = next((f for f in r.findings if row.race.matches(f)), None)
    return {"seed": r.seed, "found": hit is not None,
            "s": None if hit is None else round(hit.elapsed_s, 4),
            "ops": None if hit is None else hit.ops,
            "hunt_s": round(r.elapsed_s, 4), "hunt_ops": r.ops,
            "ops_per_s": round(r.ops_per_s, 1),
            "other_findings": sum(1 for f in r.findings if not row.race.matches(f)),
            "interrupted": r.interrupted}


def _summary(runs: list[dict]) -> dict:
    found = [x for x in runs if x["found"]]
    out = {"seeds": len(runs), "found": len(found)}
    for k in ("s", "ops"):
        xs = [x[k] for x in found]
        # a seed that did not find the race within its budget counts as the
        # budget: the median is then a lower bound, and says so (found < seeds)
        xs += [x["hunt_" + k] for x in runs if not x["found"]]
        out[f"median_{k}"] = round(statistics.median(xs), 4) if xs else None
        out[f"max_{k}"] = max(xs) if xs else None
    out["median_ops"] = None if out["median_ops"] is None else int(out["median_ops"])
    out["within_target"] = (out["found"] == out["seeds"] and out["median_s"] is not None
                            and out["median_s"] <= TARGET_S)
    return out


def run(*, kernel: str = "6.1", vfio_kernel: str = reproduce.VFIO_KERNEL, seeds: int = 5,
        first_seed: int = 1, seconds: float | None = 30.0, ops: int | None = None,
        instrumented: bool = True, delays: bool = True, fuzz: int | None = None,
        progress=None, on_notes=None) -> dict:
    """Every race row, `seeds` hunts each (seeds first_seed, first_seed + 1,
    ...), each bounded by `seconds` and/or `ops`; the JSON-able result."""
    t0 = time.perf_counter()
    out: dict = {"kernel": kernel, "vfio_kernel": vfio_kernel, "seeds": seeds,
                 "first_seed": first_seed, "budget": {"seconds": seconds, "ops": ops},
                 "instrumented": instrumented, "delays": delays, "target_s": TARGET_S,
                 "races": [], "interrupted": False}
    for row in race_rows(instrumented):
        variant = reproduce.runtime.build(vfio_kernel if row.second_kernel else kernel,
                                          [patch_path(p) for p in row.patches], fuzz=fuzz,
                                          instrumented=instrumented)
        if on_notes is not None:
            on_notes(variant.result.notes)
        item = {"label": row.label, "scenario": row.scenario, "race": row.race.name,
                "variant": variant.name, "walker": row.walker,
                "driver": row.driver or "write-notify"}
        why = clients.unavailable(variant, row.walker, row.driver)
        if why is not None:
            out["races"].append(dict(item, not_applicable=why, runs=[]))
            continue
        runs = []
        for seed in range(first_seed, first_seed + seeds):
            prog = progress(f"{row.label} {row.scenario} seed {seed}") if progress else None
            r = stress.run(variant, row.scenario, seed=seed,
                           delays=stress.DelayProfile() if delays else None, progress=prog,
                           keep_going=True, stop_when=row.race.matches, walker=row.walker,
                           driver=row.driver, seconds=seconds, ops=ops)
            if prog is not None:
                prog.done()
            runs.append(_first(row, r))
            if r.interrupted:
                out["interrupted"] = True
                break
        out["races"].append(dict(item, **_summary(runs), runs=runs))
        if out["interrupted"]:
            break
    out["elapsed_s"] = round(time.perf_counter() - t0, 2)
    return out
