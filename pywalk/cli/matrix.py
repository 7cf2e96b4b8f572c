# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk matrix`: scenarios over kernels x patch sets, one table.

Exit codes: 0 every cell built and every cell with a known expectation
came out as expected; 1 a cell not as expected (``--expect race|clean``
states it for the --patch sets, so that a CI can gate on them); 125 a cell could not be
built (a patch did not apply); 130 interrupted (the table shows what was
measured).
"""

from __future__ import annotations

import sys

from pywalk.hunt import clients, matrix
from pywalk.hunt import stress
from pywalk.report.jsonio import write_report
from pywalk.hunt.races import BAD_PMD, FAULT_RACE, WALKER_RACE, ZAP_BAD_PUD
from pywalk.report.progress import factory
from pywalk.errors import EXIT_BUILD, EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, UsageError
from pywalk.report.table import finding_details, matrix_table
from pywalk.cli.source import add_instrument_arg, add_model_arg, add_patch_rules, print_notes
from pywalk.variant.model import describe
from pywalk.cli import argtypes


def register(sub) -> None:
    p = sub.add_parser("matrix", help="run scenarios over kernels x patch sets, one table")
    p.add_argument("--kernel", action="append", default=[],
                   help="a series (6.1, 7.3, ...), SERIES=VERSION, a kernel tree or a tarball "
                   "(repeatable; default: 6.1 and 6.12)")
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
    p.add_argument("--ops", type=argtypes.POSITIVE, default=300_000,
                   help="op budget per cell; a cell stops at its first finding (default 300000)")
    p.add_argument("--seed", type=argtypes.SEED, default=1)
    p.add_argument("--no-delays", action="store_true", help="no window widening at shim hooks")
    p.add_argument("--expect", choices=("race", "clean"),
                   help="what every --patch set must show: the scenario's race (race) or not "
                        "(clean); a cell otherwise makes the exit code 1")
    add_instrument_arg(p)
    add_model_arg(p)
    p.add_argument("--json", metavar="FILE", help="write every cell's report here (atomically)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_matrix)


# the race each scenario is about: what --expect judges a cell by (other
# findings are listed, and do not count)
SCENARIO_RACE = {"walk-vs-refault": WALKER_RACE, "walk-vs-refault-pmd": BAD_PMD,
                 "fault-vs-fault": FAULT_RACE, "mixed": WALKER_RACE,
                 "zap-vs-refault": ZAP_BAD_PUD}


def expect_user_sets(cells: list, patch_specs: list[str], expect: str) -> None:
    """Give every cell of a --patch set the expectation `expect` for its scenario's race."""
    users = {matrix.user_set(p).patches for p in patch_specs}
    for c in cells:
        if c.patch_set.patches in users and not c.patch_set.shipped:
            c.race, c.expect_race = SCENARIO_RACE[c.scenario], expect == "race"


def cmd_matrix(args) -> int:
    if args.ops < 1:
        raise UsageError("pywalk: --ops must be positive")
    if args.expect and not args.patch:
        raise UsageError("pywalk: --expect states what --patch sets show: give --patch")
    kernels = args.kernel or ["6.1", "6.12"]
    scenarios = args.scenario or ["walk-vs-refault"]
    cells = matrix.plan(kernels, args.patch, scenarios, walkers=args.walker or [None],
                        drivers=args.driver or [None])
    if args.expect:
        expect_user_sets(cells, args.patch, args.expect)
    complete = matrix.run(cells, ops=args.ops, seed=args.seed, delays=not args.no_delays,
                          progress=factory(ops=args.ops, quiet=args.quiet, total=len(cells)),
                          fuzz=args.fuzz, allow_unused=args.allow_unused_patch,
                          on_notes=print_notes, instrumented=args.instrument == "on",
                          model=args.model)
    print(matrix_table(cells))
    print(f"build {describe(args.model)}")
    for c in cells:
        if c.result is not None and c.result.findings:
            print("\n" + finding_details(c.label, c.scenario, c.race, c.result))
    for c in cells:
        if c.error is not None:
            print(f"\n{c.label}: not built:\n{c.error}")
        elif c.na is not None:
            print(f"\n{c.label}: not run: {c.na}")
    if args.json:
        write_report(args.json, {
            "ok": complete and all(c.ok for c in cells), "ops": args.ops, "seed": args.seed,
            "model": args.model,
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
