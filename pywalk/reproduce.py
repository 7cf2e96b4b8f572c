# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk reproduce`: the two races of the 2019 linux-mm thread, on 6.1.

Rows (variant, scenario, expectation):
  6.1 as shipped         walk-vs-refault  race   (CVE-2026-31456)
  6.1 + 2019 walker fix  walk-vs-refault  clean  for the op budget
  6.1 as shipped         fault-vs-fault   clean  (upstream pud_trans_unstable() retry)
  6.1 - that retry       fault-vs-fault   race   (the 2019 pmd_alloc() race)
Exit 0 only when every row is as expected.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from . import api, stress
from .assets import patch_path
from .cli import write_json_atomic
from .cmd_stress import Progress
from .errors import EXIT_FINDING, EXIT_OK
from .report_table import HEADERS, finding_details, format_table, stress_row

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"


@dataclass(frozen=True)
class Row:
    label: str
    patches: tuple[str, ...]
    scenario: str
    expect_race: bool


ROWS = (
    Row("6.1 as shipped", (), "walk-vs-refault", True),
    Row("6.1 + walker fix", (FIX,), "walk-vs-refault", False),
    Row("6.1 as shipped", (), "fault-vs-fault", False),
    Row("6.1 - pmd_alloc recheck", (REVERT,), "fault-vs-fault", True),
)


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="show both races of the 2019 thread and their fixes")
    p.add_argument("--kernel", default="6.1", help="a 6.1 source: 6.1, a tree or a tarball")
    p.add_argument("--clean-ops", type=int, default=1_000_000,
                   help="op budget for rows expected clean (default 1000000)")
    p.add_argument("--race-seconds", type=float, default=60.0,
                   help="time allowed to find an expected race (default 60)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-delays", action="store_true")
    p.add_argument("--json", metavar="FILE")
    p.set_defaults(func=cmd_reproduce)


def run_rows(kernel: str, *, clean_ops: int, race_seconds: float, seed: int, delays: bool):
    results = []
    for row in ROWS:
        variant = api.build(kernel, [patch_path(p) for p in row.patches])
        progress = Progress(f"{row.label} {row.scenario}")
        kw = {"seconds": race_seconds} if row.expect_race else {"ops": clean_ops}
        r = stress.run(variant, row.scenario, seed=seed,
                       delays=stress.DelayProfile() if delays else None,
                       progress=progress, **kw)
        progress.done()
        results.append((row, r))
        if r.interrupted:
            break
    return results


def table(results) -> str:
    return format_table(HEADERS, [stress_row(row.label, row.scenario, row.expect_race, r)
                                  for row, r in results])


def cmd_reproduce(args) -> int:
    results = run_rows(args.kernel, clean_ops=args.clean_ops, race_seconds=args.race_seconds,
                       seed=args.seed, delays=not args.no_delays)
    print(table(results))
    ok = len(results) == len(ROWS) and all(
        bool(r.findings) == row.expect_race for row, r in results)
    for row, r in results:
        if r.findings:
            print("\n" + finding_details(row.label, row.scenario, r))
    if args.json:
        write_json_atomic(args.json, {"ok": ok, "rows": [
            {"label": row.label, "expect_race": row.expect_race, **r.as_json()}
            for row, r in results]})
    print("\nall rows as expected" if ok else "\nSOME ROWS NOT AS EXPECTED", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FINDING
