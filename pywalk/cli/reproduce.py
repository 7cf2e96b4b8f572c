# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk reproduce`: the 2019 thread's races and their fixes, one table.
Exit 0 only when every row is as expected (the rows: pywalk/hunt/reproduce.py)."""

from __future__ import annotations

import sys

from pywalk.errors import EXIT_FINDING, EXIT_OK
from pywalk.hunt import reproduce
from pywalk.hunt.verdict import as_expected
from pywalk.cli.source import add_instrument_arg, add_patch_rules, print_notes
from pywalk.report.jsonio import write_report
from pywalk.report.progress import Progress
from pywalk.report.table import (HEADERS, finding_details, format_table, no_build_row,
                                 stress_row)
from pywalk.cli import argtypes


def register(sub) -> None:
    p = sub.add_parser("reproduce", help="show both races of the 2019 thread and their fixes")
    p.add_argument("--kernel", default="6.1", help="a 6.1 source: 6.1, a tree or a tarball")
    p.add_argument("--vfio-kernel", default=reproduce.VFIO_KERNEL,
                   help="the kernel of the numa_maps x VFIO rows: one whose VFIO has "
                        f"huge_fault (default {reproduce.VFIO_KERNEL}; fetched if needed)")
    p.add_argument("--clean-ops", type=argtypes.POSITIVE, default=1_000_000,
                   help="op budget for rows expected clean (default 1000000)")
    p.add_argument("--race-seconds", type=argtypes.seconds(), default=60.0,
                   help="time allowed to find an expected race (default 60)")
    p.add_argument("--seed", type=argtypes.SEED, default=1)
    add_patch_rules(p)
    p.add_argument("--no-delays", action="store_true")
    add_instrument_arg(p)
    p.add_argument("--json", metavar="FILE")
    p.set_defaults(func=cmd_reproduce)


def _row(row, r, why) -> tuple:
    if r is None:
        return no_build_row(row.label, row.scenario, row.race,
                            None if row.na_ok else row.expect_race, "n/a: " + _short(why))
    return stress_row(row.label, row.scenario, row.race, row.expect_race, r)


def _short(why: str) -> str:
    if "vfio_pci_mmap_huge_fault" in why:
        return "no VFIO huge_fault"
    if "drivers do not build" in why:
        return "the tree's drivers do not build here"
    return why.split(": ", 1)[-1]


def _ok(row, r, why) -> bool:
    if r is None:       # not applicable: as expected only where the row expects that
        return row.expect_race is None or row.na_ok
    return row.expect_race is not None and as_expected(row.race, row.expect_race, r)


def reproduce_table(results) -> str:
    return format_table(HEADERS, [_row(*x) for x in results])


def cmd_reproduce(args) -> int:
    results = reproduce.run_rows(args.kernel, clean_ops=args.clean_ops, race_seconds=args.race_seconds,
                       seed=args.seed, delays=not args.no_delays, progress=Progress,
                       fuzz=args.fuzz, on_notes=print_notes, vfio_kernel=args.vfio_kernel,
                       instrumented=args.instrument == "on")
    print(reproduce_table(results))
    ok = len(results) == len(reproduce.ROWS) and all(_ok(*x) for x in results)
    for row, r, why in results:
        if r is not None and r.findings:
            print("\n" + finding_details(row.label, row.scenario, row.race, r))
        elif r is None:
            print(f"\n{row.label}: not run: {why}")
    if args.json:
        write_report(args.json, {"ok": ok, "rows": [
            {"label": row.label, "race": row.race.name, "expect_race": row.expect_race,
             "walker": row.walker, "driver": row.driver or "write-notify",
             "as_expected": _ok(row, r, why),
             # how a process reaches the row's race, where it showed (pywalk/hunt/reach.py)
             "reachable": next((f.reachable for f in (r.findings if r else [])
                                if row.race.matches(f)), None),
             **(r.as_json() if r is not None else {"not_applicable": why})}
            for row, r, why in results]})
    print("\nall rows as expected" if ok else "\nSOME ROWS NOT AS EXPECTED", file=sys.stderr)
    return EXIT_OK if ok else EXIT_FINDING
