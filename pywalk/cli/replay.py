# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk replay REPORT.json [--patch FIX] [--replace-patches] [--trace]`: rerun a scheduled
finding (on the report's patches plus --patch's, or on --patch's alone)."""

from __future__ import annotations

import json

from pywalk.errors import EXIT_FINDING, EXIT_OK, UsageError
from pywalk.hunt import replay
from pywalk.cli.source import add_patch_rules, print_notes
from pywalk.report.trace import render_trace
from pywalk.cli import argtypes


def register(sub) -> None:
    p = sub.add_parser("replay", help="rerun a finding's schedule (from a --schedule report)")
    p.add_argument("report", help="a report of `pywalk stress --schedule`, `shrink` or `explore`")
    p.add_argument("--patch", action="append", default=[],
                   help="apply this patch too and replay the same schedule (repeatable)")
    p.add_argument("--replace-patches", action="store_true",
                   help="replay against --patch's patches instead of the report's (a schedule "
                        "found with patch X, run against patch Y); no --patch: the tree as shipped")
    add_patch_rules(p)
    p.add_argument("--trace", action="store_true",
                   help="print the interleaving before the finding, a column per thread")
    p.add_argument("--trace-steps", type=argtypes.COUNT, default=40, metavar="N",
                   help="how many steps --trace shows (default 40)")
    p.set_defaults(func=cmd_replay)


def load_report(path: str) -> dict:
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"pywalk: cannot read report {path}: {e}") from None
    replay.check_report(report)
    return report


def cmd_replay(args) -> int:
    report = load_report(args.report)
    if args.trace_steps < 1:
        raise UsageError("pywalk: --trace-steps must be positive")
    variant, notes = replay.build_for(report, args.patch, args.fuzz,
                                      replace=args.replace_patches)
    print_notes(notes)
    r = replay.replay(variant, report, trace_cap=65536 if args.trace else 0)
    o = r.outcome
    if args.trace:
        print(render_trace(variant, o, args.trace_steps))
    s = report["schedule"]
    head = (f"{variant.name} {report['scenario']}: replayed schedule ({s.get('kind')} seed "
            f"{s.get('seed')}, schedule {s.get('index', 0)}, {len(s['switches'])} switch(es))")
    if o.finding is None:
        what = "the same schedule no longer fails" if r.expected_signature else "no finding"
        print(f"{head}: {what} ({o.steps} steps, {o.ops} ops)")
        return EXIT_OK
    f = o.finding
    if r.same:
        verdict = f"reproduced: {f.signature} at step {o.finding_step}"
    elif f.signature == r.expected_signature:
        verdict = (f"same finding {f.signature} at step {o.finding_step} "
                   f"(the report says {r.expected_step})")
    else:
        verdict = f"a different finding: {f.signature} at step {o.finding_step}"
    print(f"{head}: {verdict}")
    print(f"  {f.kind}: {f.message} (address {f.address:#x}, thread {f.thread}, {f.role})")
    print("\n".join(f"    {b}" for b in f.backtrace[:12]))
    return EXIT_FINDING
