# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk stress --schedule pct|random`: a hunt under the controlled scheduler."""

from __future__ import annotations

from pywalk.errors import EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, UsageError
from pywalk.hunt import schedule
from pywalk.hunt.replay import provenance
from pywalk.report.jsonio import write_report
from pywalk.cli import argtypes


def sched_args(p) -> None:
    g = p.add_argument_group("controlled schedules (deterministic: same inputs, same run)")
    g.add_argument("--schedule", choices=("pct", "random"),
                   help="one thread at a time, decisions from the seed (default: free running)")
    g.add_argument("--schedules", type=argtypes.POSITIVE, default=1000,
                   help="scheduled runs before giving up (default 1000)")
    g.add_argument("--depth", type=argtypes.POSITIVE, default=3, help="PCT depth d: d-1 change points (default 3)")
    g.add_argument("--sched-ops", type=argtypes.POSITIVE, metavar="N",
                   help="operations per thread in each scheduled run (default 2, reaper 1)")
    g.add_argument("--sched-sites", metavar="SITES",
                   help="hook sites that are scheduling points (default all: "
                        + ",".join(schedule.DEFAULT_SITES) + ")")


def cmd_stress_scheduled(args, variant) -> int:
    if args.seconds is not None:
        raise UsageError("pywalk: --seconds is time, a schedule is not: use --schedules or --ops")
    if args.keep_going:
        raise UsageError("pywalk: --keep-going does not apply to --schedule (it stops at a finding)")
    if args.schedules < 1 or (args.sched_ops is not None and args.sched_ops < 1):
        raise UsageError("pywalk: --schedules and --sched-ops must be positive")
    result = schedule.hunt(variant, args.scenario, kind=args.schedule, seed=args.seed,
                           depth=args.depth, schedules=args.schedules,
                           ops_per_thread=args.sched_ops,
                           sites=schedule.parse_sites(args.sched_sites),
                           counts=args.threads, ops_budget=args.ops,
                           walker=args.walker, driver=args.driver)
    result.label, result.kernel_git = variant.name, variant.kernel_git
    result.patch_sha256 = list(variant.patch_sha256)
    report = result.as_json()
    report["replay"] = provenance(variant, args.kernel, args.patch, args.fuzz)
    if args.json:
        write_report(args.json, report)
    print(summary(result))
    if result.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_FINDING if result.findings and args.fail_on_finding else EXIT_OK


def summary(result) -> str:
    s = result.schedule or {}
    head = (f"{result.label or result.kernel} {result.scenario} "
            f"--schedule {s.get('kind')} seed {result.seed}"
            + (f" depth {s.get('depth')}" if s.get("kind") == "pct" else "") + ": "
            f"{s.get('schedules', 0):,} schedule(s), {result.ops:,} ops in {result.elapsed_s:.2f} s "
            f"({result.ops_per_s:,.0f} ops/s), expected schedule length {s.get('expected_length')} steps")
    if s.get("pct_bound"):
        head += f" (PCT: a depth-{s['depth']} bug shows with p >= {s['pct_bound']:.2g} per schedule)"
    if not result.findings:
        return head + ": no finding"
    f = result.findings[0]
    lines = [head, f"  finding in schedule {s['index']} at step {s['steps']} "
             f"({s['preemptions']} switch(es)): {f.kind}: {f.message} "
             f"(address {f.address:#x}, thread {f.thread}, {f.role})"]
    lines += [f"    {b}" for b in f.backtrace[:12]]
    return "\n".join(lines)
