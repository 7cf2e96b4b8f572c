# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk shrink REPORT.json [--json OUT]`: a smaller schedule that fails the same way."""

from __future__ import annotations

import copy

from pywalk.errors import EXIT_FINDING, UsageError
from pywalk.hunt import replay, schedule, shrink
from pywalk.cli.replay import load_report
from pywalk.cli.source import print_notes
from pywalk.report.jsonio import write_report
from pywalk.cli import argtypes


def register(sub) -> None:
    p = sub.add_parser("shrink", help="shrink a scheduled finding (threads, operations, switches)")
    p.add_argument("report", help="a report of `pywalk stress --schedule`, `shrink` or `explore`")
    p.add_argument("--json", metavar="OUT", help="write the shrunk report here (atomically)")
    p.add_argument("--max-runs", type=argtypes.POSITIVE, default=5000, help="replays to try at most (default 5000)")
    p.set_defaults(func=cmd_shrink)


def shrunk_report(report: dict, out: schedule.Outcome, runs: int) -> dict:
    new = copy.deepcopy(report)
    s = new["schedule"]
    old = {k: s.get(k) for k in ("steps", "threads", "ops", "switches", "skip")}
    s.update(out.spec.as_json())
    s.update({"kind": "replay", "steps": out.finding_step, "total_steps": out.steps,
              "preemptions": len(out.spec.switches), "shrunk_from": old, "shrink_runs": runs})
    new["findings"] = [out.finding.as_json()]
    new["threads"] = {}
    for t in out.spec.threads:
        new["threads"][t[0]] = new["threads"].get(t[0], 0) + 1
    new["ops"] = out.ops
    return new


def cmd_shrink(args) -> int:
    report = load_report(args.report)
    if not report.get("findings"):
        raise UsageError("pywalk: the report has no finding to shrink")
    if args.max_runs < 1:
        raise UsageError("pywalk: --max-runs must be positive")
    variant, notes = replay.build_for(report)
    print_notes(notes)
    spec = schedule.Spec.from_json(report["scenario"], report["schedule"])
    sig = report["findings"][0]["signature"]
    try:
        out, runs = shrink.shrink(variant, spec, sig, max_runs=args.max_runs,
                                  hunt_seed=report["schedule"].get("seed"))
    except ValueError:
        raise UsageError(f"pywalk: {args.report}: its schedule does not reproduce {sig} "
                         "on this variant (try pywalk replay)") from None
    new = shrunk_report(report, out, runs)
    if args.json:
        write_report(args.json, new)
    s, old = new["schedule"], new["schedule"]["shrunk_from"]
    print(f"{variant.name} {report['scenario']}: {sig}: {old['steps']} -> {s['steps']} steps, "
          f"threads {len(old['threads'])} -> {len(s['threads'])}, ops {sum(old['ops'])} -> "
          f"{shrink.live_ops(out.spec)}, switches {len(old['switches'])} -> {len(s['switches'])} "
          f"({runs} replays)")
    return EXIT_FINDING
