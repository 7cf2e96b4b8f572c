# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk explore`: every schedule of a scenario's small form within a switch bound."""

from __future__ import annotations

from pywalk.cli.source import add_variant_args, print_notes
from pywalk.errors import EXIT_FINDING, EXIT_OK, UsageError
from pywalk.hunt import explore, replay, schedule, stress
from pywalk.report.jsonio import write_report
from pywalk.report.progress import Progress
from pywalk.variant import runtime
from pywalk.cli import argtypes


# what "exhausted" covers, said with every clean result
CAVEAT = ("  (covers every schedule of at most {bound} switch(es) at the shim's hook sites, in "
          "this small form; code between hook sites runs without a switch, so a race there is "
          "not explored: a free-running hunt (pywalk stress, e.g. --scenario mixed) covers it)")


def register(sub) -> None:
    p = sub.add_parser("explore", help="run every interleaving with at most N switches "
                       "of a small form of a scenario (a bounded proof)")
    add_variant_args(p)
    p.add_argument("--scenario", required=True, choices=sorted(stress.SCENARIOS))
    p.add_argument("--bound", type=argtypes.COUNT, default=2, help="switches at most (default 2)")
    p.add_argument("--ops", type=argtypes.POSITIVE, default=1, help="operations per thread (default 1)")
    p.add_argument("--threads", metavar="ROLES",
                   help="the threads' roles, e.g. walker,reader,reader (default: one per role "
                        "of the scenario)")
    p.add_argument("--seed", type=argtypes.SEED, default=1, help="the threads' address seed (default 1)")
    p.add_argument("--sched-sites", metavar="SITES", help="hook sites that are scheduling points "
                   "(default all: " + ",".join(schedule.DEFAULT_SITES) + ")")
    p.add_argument("--max-schedules", type=argtypes.POSITIVE, help="stop (not exhausted) after this many")
    p.add_argument("--json", metavar="OUT", help="write the report here (atomically)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_explore)


def cmd_explore(args) -> int:
    if args.bound < 0 or args.ops < 1 or (args.max_schedules is not None and args.max_schedules < 1):
        raise UsageError("pywalk: --bound must be >= 0, --ops and --max-schedules positive")
    variant = runtime.build(args.kernel, args.patch, fuzz=args.fuzz)
    print_notes(variant.result.notes)
    roles = [r.strip() for r in args.threads.split(",") if r.strip()] if args.threads else None
    spec = explore.small_form(args.scenario, ops=args.ops, seed=args.seed,
                              sites=schedule.parse_sites(args.sched_sites), roles=roles)
    progress = Progress(f"{variant.name} explore {args.scenario}", quiet=args.quiet)
    out, count, exhausted, secs = explore.explore(variant, spec, args.bound,
                                                  max_schedules=args.max_schedules,
                                                  progress=progress)
    progress.done()
    threads: dict = {}
    for t in spec.threads:
        threads[t[0]] = threads.get(t[0], 0) + 1
    result = stress.StressResult(variant.id, variant.kernel, variant.patches, args.scenario,
                                 args.seed, threads, None)
    result.elapsed_s = secs
    result.label, result.kernel_git = variant.name, variant.kernel_git
    result.source = variant.provenance
    result.patch_sha256 = list(variant.patch_sha256)
    if out is not None:
        result.findings.append(out.finding)
        result.schedule = schedule.schedule_json(out.spec, out, hunt_seed=args.seed,
                                                 index=count - 1, schedules=count)
        if getattr(out.finding, "stacks", None):
            result.schedule["deadlock_stacks"] = {str(t): bt for t, bt in out.finding.stacks.items()}
    else:
        result.schedule = {**spec.as_json(), "seed": args.seed, "index": None, "steps": None}
    report = result.as_json()
    report["explore"] = {"bound": args.bound, "schedules": count, "exhausted": exhausted,
                         "ops_per_thread": args.ops, "size": spec.size, "prefault": spec.prefault,
                         "seconds": round(secs, 3)}
    report["schedules"], report["exhausted"] = count, exhausted
    report["covers"] = CAVEAT.format(bound=args.bound).strip(" ()")
    report["replay"] = replay.provenance(variant, args.kernel, args.patch, args.fuzz)
    if args.json:
        write_report(args.json, report)
    head = (f"{variant.name} {args.scenario} (small form: {','.join(t[0] for t in spec.threads)} x "
            f"{args.ops} op, {spec.size >> 20} MiB): bound {args.bound}: {count:,} schedule(s) "
            f"in {secs:.2f} s")
    if out is not None:
        f = out.finding
        print(f"{head}: {f.kind} at step {out.finding_step} with {len(out.switches)} switch(es): "
              f"{f.signature}")
        print(f"  {f.message} (thread {f.thread}, {f.role})")
        print("\n".join(f"    {b}" for b in f.backtrace[:8]))
        return EXIT_FINDING
    print(f"{head}: " + ("exhausted, no finding" if exhausted else "stopped, not exhausted"))
    print(CAVEAT.format(bound=args.bound))
    return EXIT_OK
