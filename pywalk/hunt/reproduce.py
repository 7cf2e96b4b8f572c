# SPDX-License-Identifier: GPL-2.0-only
"""The rows of `pywalk reproduce`: the two races of the 2019 linux-mm thread, on 6.1.

Rows (variant, scenario, the race looked for, expectation):
  6.1 as shipped         walk-vs-refault  walker race  shows  (CVE-2026-31456)
  6.1 + 2019 walker fix  walk-vs-refault  walker race  absent for the op budget
  6.1 as shipped         fault-vs-fault   2019 fault   absent (upstream pud_trans_unstable() retry)
  6.1 - that retry       fault-vs-fault   2019 fault   shows
and the CVE's real trigger, the tree's own numa_maps walk against the tree's
own VFIO huge_fault (a second kernel: VFIO maps BARs with PUD leaves since 6.12):
  6.12 - CVE fix         walk-vs-refault  walker race  shows  (numa_maps x VFIO)
  6.12 as shipped        walk-vs-refault  walker race  absent for the op budget
  6.1                    numa_maps x VFIO: not applicable, 6.1's VFIO has no huge_fault
and on 6.1 the same trigger with device-dax (dev_dax_huge_fault(), 1 GiB):
  6.1 as shipped         walk-vs-refault  walker race  shows  (numa_maps x dax)
  6.1 as shipped         walk-vs-refault  walker race  shows  (pagemap x dax)
  6.1 + upstream fix     walk-vs-refault  walker race  absent for the op budget (0002)
and MADV_DONTNEED against device-dax faults (docs/findings/zap-bad-pud.md), on
6.1, 6.12 and 7.3 (the tree's device-dax runs on each):
  X as shipped           zap-vs-refault   zap bad pud  shows
  X + zap_pud_range fix  zap-vs-refault   zap bad pud  absent for the op budget
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
from pywalk.hunt import clients, stress
from pywalk.assets import patch_path
from pywalk.hunt.races import FAULT_RACE, PMD_ALLOC_TOCTOU, WALKER_RACE, ZAP_BAD_PUD, Race

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"
CVE_REVERT = "6.12/revert-cve-2026-31456-fix.patch"
UPSTREAM_FIX = "6.1/0002-backport-upstream-pudp_get-fix-with-READ_ONCE.patch"
VFIO_KERNEL = "6.12"   # the newest supported series whose VFIO has huge_fault
ZAP_FIX = {"6.1": "6.1/0003-mm-memory-zap_pud_range-read-the-pud-once.patch",
           "6.12": "6.12/0001-mm-memory-zap_pud_range-read-the-pud-once.patch",
           "7.3": "7.3/0001-mm-memory-zap_pud_range-read-the-pud-once.patch"}


@dataclass(frozen=True)
class Row:
    label: str
    patches: tuple[str, ...]
    scenario: str
    race: Race
    expect_race: bool | None        # None: not applicable to this tree (the row says why)
    second_kernel: bool = False     # runs on the VFIO kernel, not on --kernel
    walker: str | None = None       # --walker (None: the scenario's)
    driver: str | None = None       # --driver (None: ours)
    kernel: str | None = None       # a series of its own (None: --kernel, or the VFIO kernel)
    na_ok: bool = False             # n/a (the tree's driver does not build) is as expected


ROWS = (
    Row("6.1 as shipped", (), "walk-vs-refault", WALKER_RACE, True),
    Row("6.1 + walker fix", (FIX,), "walk-vs-refault", WALKER_RACE, False),
    Row("6.1 as shipped", (), "fault-vs-fault", FAULT_RACE, False),
    Row("6.1 - pmd_alloc recheck", (REVERT,), "fault-vs-fault", FAULT_RACE, True),
    Row("6.12 - CVE fix, numa_maps x VFIO", (CVE_REVERT,), "walk-vs-refault", WALKER_RACE, True,
        True, "numa_maps", "vfio"),
    Row("6.12 as shipped, numa_maps x VFIO", (), "walk-vs-refault", WALKER_RACE, False,
        True, "numa_maps", "vfio"),
    Row("6.1, numa_maps x VFIO", (), "walk-vs-refault", WALKER_RACE, None,
        False, "numa_maps", "vfio"),
    # the CVE's real trigger on 6.1: /proc/PID/numa_maps or pagemap read while
    # another thread refaults a 1 GiB device-dax mapping (both sides the tree's)
    Row("6.1 as shipped, numa_maps x dax", (), "walk-vs-refault", WALKER_RACE, True,
        False, "numa_maps", "dax"),
    Row("6.1 as shipped, pagemap x dax", (), "walk-vs-refault", WALKER_RACE, True,
        False, "pagemap", "dax"),
    Row("6.1 + upstream fix, numa_maps x dax", (UPSTREAM_FIX,), "walk-vs-refault", WALKER_RACE,
        False, False, "numa_maps", "dax"),
)
# MADV_DONTNEED x device-dax: the tree's madvise path against the tree's dax faults
ZAP_ROWS = tuple(
    row for series in ZAP_FIX for row in (
        Row(f"{series} as shipped, madvise x dax", (), "zap-vs-refault", ZAP_BAD_PUD, True,
            driver="dax", kernel=None if series == "6.1" else series, na_ok=series == "7.3"),
        Row(f"{series} + zap_pud_range fix, madvise x dax", (ZAP_FIX[series],), "zap-vs-refault",
            ZAP_BAD_PUD, False, driver="dax", kernel=None if series == "6.1" else series,
            na_ok=series == "7.3")))
ROWS = ROWS + ZAP_ROWS
INSTRUMENTED_ROWS = (ROWS[0], ROWS[1],
                     Row("6.1 as shipped", (), "fault-vs-fault", PMD_ALLOC_TOCTOU, True),
                     ROWS[3]) + ROWS[4:]


def run_rows(kernel: str, *, clean_ops: int, race_seconds: float, seed: int, delays: bool,
             progress=None, fuzz: int | None = None, on_notes=None,
             vfio_kernel: str = VFIO_KERNEL, instrumented: bool = True, rows=None):
    """(row, StressResult or None, why not run) per row (rows: all of them, or
    those given); a row whose tree lacks its client or driver is not run, and
    says why."""
    results = []
    for row in rows or (INSTRUMENTED_ROWS if instrumented else ROWS):
        variant = runtime.build(row.kernel or (vfio_kernel if row.second_kernel else kernel),
                                [patch_path(p) for p in row.patches], fuzz=fuzz,
                                instrumented=instrumented)
        if on_notes is not None:
            on_notes(variant.result.notes)
        why = clients.unavailable(variant, row.walker, row.driver)
        if why is not None:
            results.append((row, None, why))
            continue
        prog = progress(f"{row.label} {row.scenario}") if progress else None
        kw = {"seconds": race_seconds} if row.expect_race else {"ops": clean_ops}
        r = stress.run(variant, row.scenario, seed=seed,
                       delays=stress.DelayProfile() if delays else None,
                       progress=prog, keep_going=True, stop_when=row.race.matches,
                       walker=row.walker, driver=row.driver, **kw)
        if prog is not None:
            prog.done()
        results.append((row, r, None))
        if r.interrupted:
            break
    return results
