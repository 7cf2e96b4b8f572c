# SPDX-License-Identifier: GPL-2.0-only
"""The rows of `pywalk reproduce`: the two races of the 2019 linux-mm thread, on 6.1.

Rows (variant, scenario, the race looked for, expectation):
  6.1 as shipped         walk-vs-refault  walker race  shows  (CVE-2026-31456)
  6.1 + 2019 walker fix  walk-vs-refault  walker race  absent for the op budget
  6.1 as shipped         fault-vs-fault   2019 fault   absent (upstream pud_trans_unstable() retry)
  6.1 - that retry       fault-vs-fault   2019 fault   shows
Instrumented (the default), row 3 looks for the pmd_alloc TOCTOU instead and
expects it: delays at the tree's own READ_ONCE()s widen the recheck's
window enough that it shows within a second or so (without, 1 in ~10^7 ops).
Each race is recognised by where it faults and on what: the walker race
faults in walk_pmd_range() on the device frame behind a PUD leaf; the 2019
fault-path race faults in __handle_mm_fault() on such a frame (pmd_alloc()
handed back a pointer into the huge page).  Hunts go on past other
findings, which are listed under the table and do not change a row's
verdict: they are not the race the row is about.
"""

from __future__ import annotations

from dataclasses import dataclass

from pywalk.variant import runtime
from pywalk.hunt import stress
from pywalk.assets import patch_path
from pywalk.hunt.races import FAULT_RACE, PMD_ALLOC_TOCTOU, WALKER_RACE, Race

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"


@dataclass(frozen=True)
class Row:
    label: str
    patches: tuple[str, ...]
    scenario: str
    race: Race
    expect_race: bool


ROWS = (
    Row("6.1 as shipped", (), "walk-vs-refault", WALKER_RACE, True),
    Row("6.1 + walker fix", (FIX,), "walk-vs-refault", WALKER_RACE, False),
    Row("6.1 as shipped", (), "fault-vs-fault", FAULT_RACE, False),
    Row("6.1 - pmd_alloc recheck", (REVERT,), "fault-vs-fault", FAULT_RACE, True),
)
INSTRUMENTED_ROWS = (ROWS[0], ROWS[1],
                     Row("6.1 as shipped", (), "fault-vs-fault", PMD_ALLOC_TOCTOU, True),
                     ROWS[3])


def run_rows(kernel: str, *, clean_ops: int, race_seconds: float, seed: int, delays: bool,
             progress=None, fuzz: int | None = None, on_notes=None,
             instrumented: bool = True):
    results = []
    for row in INSTRUMENTED_ROWS if instrumented else ROWS:
        variant = runtime.build(kernel, [patch_path(p) for p in row.patches], fuzz=fuzz,
                                instrumented=instrumented)
        if on_notes is not None:
            on_notes(variant.result.notes)
        prog = progress(f"{row.label} {row.scenario}") if progress else None
        kw = {"seconds": race_seconds} if row.expect_race else {"ops": clean_ops}
        r = stress.run(variant, row.scenario, seed=seed,
                       delays=stress.DelayProfile() if delays else None,
                       progress=prog, keep_going=True, stop_when=row.race.matches, **kw)
        if prog is not None:
            prog.done()
        results.append((row, r))
        if r.interrupted:
            break
    return results
