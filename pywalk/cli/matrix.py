# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk matrix`: scenarios over kernels x patch sets, one table.

Exit codes: 0 every cell built and every cell with a known expectation
came out as expected; 1 a cell not as expected; 125 a cell could not be
built (a patch did not apply); 130 interrupted (the table shows what was
measured).
"""

from __future__ import annotations

import sys

from pywalk.hunt import clients, matrix
from pywalk.hunt import stress
from pywalk.report.jsonio import write_json_atomic
from pywalk.report.progress import Progress
from pywalk.errors import EXIT_BUILD, EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, UsageError
from pywalk.report.table import finding_details, matrix_table
from pywalk.cli.source import add_patch_rules, print_notes


def register(sub) -> None:
    p = sub.add_parser("matrix", help="run scenarios over kernels x patch sets, one table")
    p.add_argument("--kernel", action="append", default=[],
                   help="6.1, 6.12, a kernel tree or a tarball (repeatable; default: 6.1 and 6.12)")
    p.add_argument("--patch", action="append", default=[],
                   help="a patch set: a patch file, quilt directory or directory of *.patch "
                        "(repeatable, one set each; default: the shipped patches per kernel)")
    add_patch_rules(p, allow_unused=True)
    p.add_argument("--scenario", action="append", default=[], choices=sorted(stress.SCENARIOS),
                   help="repeatable (default: walk-vs-refault)")
    p.add_argument("--walker", action="append", default=[], choices=clients.WALKER_CHOICES,
                   help="walk client, repeatable: the tree's (numa_maps, dirty, dirty-clean) or "
                        "ours (count-numa, ...); default: the scenario's")
    p.add_argument("--driver", action="append", default=[], choices=clients.DRIVER_CHOICES,
                   help="huge-fault driver, repeatable: write-notify (ours, default), vfio, dax")
    p.add_argument("--ops", type=int, default=300_000,
                   help="op budget per cell; a cell stops at its first finding (default 300000)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--no-delays", action="store_true", help="no window widening at shim hooks")
    p.add_argument("--json", metavar="FILE", help="write every cell's report here (atomically)")
    p.set_defaults(func=cmd_matrix)


def cmd_matrix(args) -> int:
    if args.ops < 1:
        raise UsageError("pywalk: --ops must be positive")
    kernels = args.kernel or ["6.1", "6.12"]
    scenarios = args.scenario or ["walk-vs-refault"]
    cells = matrix.plan(kernels, args.patch, scenarios, walkers=args.walker or [None],
                        drivers=args.driver or [None])
    complete = matrix.run(cells, ops=args.ops, seed=args.seed, delays=not args.no_delays,
                          progress=Progress, fuzz=args.fuzz,
                          allow_unused=args.allow_unused_patch, on_notes=print_notes)
    print(matrix_table(cells))
    for c in cells:
        if c.result is not None and c.result.findings:
            print("\n" + finding_details(c.label, c.scenario, c.race, c.result))
    for c in cells:
        if c.error is not None:
            print(f"\n{c.label}: not built:\n{c.error}")
        elif c.na is not None:
            print(f"\n{c.label}: not run: {c.na}")
    if args.json:
        write_json_atomic(args.json, {
            "ok": complete and all(c.ok for c in cells), "ops": args.ops, "seed": args.seed,
            "cells": [c.as_json() for c in cells]})
    if not complete:
        return EXIT_INTERRUPTED
    if any(c.error is not None for c in cells):
        print("\nSOME CELLS COULD NOT BE BUILT", file=sys.stderr)
        return EXIT_BUILD
    if not all(c.ok for c in cells):
        print("\nSOME CELLS NOT AS EXPECTED", file=sys.stderr)
        return EXIT_FINDING
    print("\nall cells as expected" if any(c.expect_race is not None for c in cells)
          else "\ndone", file=sys.stderr)
    return EXIT_OK
