# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk check`: the reviewer's gate for a fix (pywalk/hunt/check.py)."""

from __future__ import annotations

from pywalk.cli import argtypes
from pywalk.cli.source import add_model_arg, add_variant_args, print_notes
from pywalk.errors import EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, PywalkError
from pywalk.hunt import check, stress
from pywalk.report.jsonio import write_report
from pywalk.report.progress import Progress
from pywalk.variant import runtime


def register(sub) -> None:
    p = sub.add_parser("check", help="gate a fix: every scenario, driver and walker, "
                       "with and without the patches, instrumented and not")
    add_variant_args(p, allow_unused=True)
    p.add_argument("--budget", type=argtypes.seconds(0, 100), default=1.0,
                   help="scale every cell's budget (default 1: 200,000 operations per hunt, "
                        "and at most 60 s: a few minutes on 2 cores)")
    p.add_argument("--scenario", action="append", choices=sorted(stress.SCENARIOS),
                   help="only this scenario (repeatable; the rest is listed as not covered)")
    p.add_argument("--seed", type=argtypes.SEED, default=1)
    add_model_arg(p, both=True)
    p.add_argument("--json", metavar="FILE", help="write every cell here (atomically)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_check)


def cmd_check(args) -> int:
    patched, base = {}, {}
    models = ["native", "xxl"] if args.model == "both" else \
        ["native"] if args.model == "auto" else [args.model]
    for model in models:
        for inst in (False, True):
            patched[inst, model] = runtime.build(args.kernel, args.patch, fuzz=args.fuzz,
                                                 allow_unused=args.allow_unused_patch,
                                                 instrumented=inst, model=model)
            # no --patch: the tree as shipped, hunted once per cell; nothing to gate
            base[inst, model] = (runtime.build(args.kernel, [], instrumented=inst, model=model)
                                 if args.patch else patched[inst, model])
    first = patched[False, models[0]]
    print_notes(first.result.notes)
    files = check.touched(first.result.patches)
    cells, skipped = check.plan(patched, base, args.scenario)
    progress = Progress(f"check {first.name}", ops=len(cells), seconds=None,
                        quiet=args.quiet)
    done, interrupted = [], False
    try:
        for i, cell in enumerate(cells):
            try:
                check.run_cell(cell, patched, base, seconds=60.0 * args.budget,
                               ops=int(200_000 * args.budget), seed=args.seed)
            except PywalkError as e:            # e.g. a driver a scenario cannot map
                skipped.append(f"{cell.label}: {e}")
                continue
            done.append(cell)
            progress(i + 1, 0.0, sum(len(check.failing(c, files)) for c in done))
    except KeyboardInterrupt:
        interrupted = True
    progress.done()
    check.share_baseline(done)
    if args.model == "auto" and not interrupted:
        # the failing cells again with pud_val() a pv call (Debian's x86 build):
        # does the failure hold there too?  (cheap: only the cells that failed)
        again = [c for c in done if check.failing(c, files)]
        if again:
            models.append("xxl")
            try:
                for inst in sorted({c.instrumented for c in again}):
                    patched[inst, "xxl"] = runtime.build(
                        args.kernel, args.patch, fuzz=args.fuzz,
                        allow_unused=args.allow_unused_patch, instrumented=inst, model="xxl")
                    base[inst, "xxl"] = (runtime.build(args.kernel, [], instrumented=inst,
                                                       model="xxl")
                                         if args.patch else patched[inst, "xxl"])
                for c in again:
                    done.append(check.run_cell(check.Cell(c.scenario, c.walker, c.driver,
                                                          c.instrumented, "xxl"),
                                               patched, base, seconds=60.0 * args.budget,
                                               ops=int(200_000 * args.budget), seed=args.seed))
            except KeyboardInterrupt:
                interrupted = True
    check.share_baseline(done)
    lines = check.race_lines(done, files)
    bad = [c for c in done if check.failing(c, files)]
    print(f"{first.name}: {len(done)} cell(s), each with and without the patches "
          f"(model {' and '.join(models)})")
    for c in bad:
        names = sorted({f"{f.kind} {f.signature.split(' ', 1)[-1]}" for f in check.failing(c, files)})
        print(f"  FAILS {c.label}: {', '.join(names)}")
        f = check.failing(c, files)[0]
        print(f"    {f.kind}: {f.message} ({f.role})")
        print("".join(f"      {b}\n" for b in f.backtrace[:6]), end="")
        if f.explain:       # down to the loads (pywalk/variant/explain.py), without the timeline
            lines_ = f.explain["lines"]
            cut = lines_.index("timeline (oldest first):") if "timeline (oldest first):" in lines_ else len(lines_)
            print("".join(f"    {x}\n" for x in lines_[:cut]), end="")
    if args.patch:
        print("before -> after, over every cell:")
        print("".join(f"  {check.line(*x)}\n" for x in lines) or "  no finding in either\n",
              end="")
    else:
        print("no --patch: the tree as shipped, nothing to gate; its own findings, over every cell:")
        print("".join(f"  {n}: {b} finding(s)\n" for n, _, b, _ in lines) or "  none\n", end="")
    by_model = check.model_lines(done, files)
    if by_model:
        print("by build model:")
        print("".join(f"  {x}\n" for x in by_model), end="")
    notes = check.model_notes(models)
    print("not covered:")
    for s in skipped + check.gaps(done) + notes + ["explore (bounded schedules): not run; "
                        "pywalk explore --bound N covers hook-site interleavings"]:
        print(f"  - {s}")
    if args.json:
        write_report(args.json, {
            "label": first.name, "ok": not bad and not interrupted, "models": models,
            "by_model": by_model,
            "interrupted": interrupted, "touched_files": sorted(files),
            "before_after": [{"name": n, "without": a, "with": b, "fails": f}
                             for n, a, b, f in lines],
            "cells": [{"scenario": c.scenario, "walker": c.walker,
                       "driver": c.driver or "write-notify", "instrumented": c.instrumented,
                       "model": c.model,
                       "ops_with": c.ops[0], "ops_without": c.ops[1],
                       "with": [f.as_json() for f in c.with_],
                       "without": [f.as_json() for f in c.without],
                       "fails": [f.as_json() for f in check.failing(c, files)]} for c in done],
            "not_covered": skipped + check.gaps(done) + notes})
    if interrupted:
        return EXIT_INTERRUPTED
    print("\nCHECK FAILS" if bad else "\ncheck passes: no finding the patches should remove, "
          "and nothing new")
    return EXIT_FINDING if bad else EXIT_OK
