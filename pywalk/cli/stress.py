# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk stress`: one race hunt, exit codes as `git bisect run` expects."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from pywalk.variant import runtime
from pywalk.hunt import clients, compare, reach, roles, stress
from pywalk.hunt.races import identify
from pywalk.report.jsonio import write_report
from pywalk.variant.explain import decode
from pywalk.report.progress import Progress
from pywalk.cli.source import add_instrument_arg, add_model_arg, add_variant_args, print_notes
from pywalk.cli.scheduled import cmd_stress_scheduled, sched_args
from pywalk.cli.campaign import campaign_args, check_args, cmd_campaign
from pywalk.errors import EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, UsageError
from pywalk.cli import argtypes


def register(sub) -> None:
    p = sub.add_parser("stress", help="hunt a race: run a scenario from many threads")
    add_variant_args(p, allow_unused=True)
    add_instrument_arg(p, default=None)     # on; off for a controlled --schedule
    add_model_arg(p)
    p.add_argument("--scenario", required=True, choices=sorted(stress.SCENARIOS))
    for role in roles.ROLES:
        p.add_argument(roles.flag(role), type=argtypes.COUNT, metavar="N", dest=f"role_{role}",
                       help=f"{role} threads, if the scenario has them (default: the "
                            f"scenario's; 0..{roles.MAX_THREADS})")
    p.add_argument("--faulters", type=argtypes.COUNT, metavar="N",
                   help="alias: --readers in walk-vs-refault*, --writers in fault-vs-fault")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=argtypes.seconds(), help="time budget (default 10)")
    budget.add_argument("--ops", type=argtypes.POSITIVE, help="kernel-operation budget (faults + walks)")
    campaign_args(p)        # --seed, or --seeds A-B -j N: a campaign (pywalk/cli/campaign.py)
    delays = p.add_mutually_exclusive_group()
    delays.add_argument("--no-delays", action="store_true", help="no window widening at shim hooks")
    delays.add_argument("--delays", metavar="SPEC",
                        help="delay profile, e.g. unlock=2048:1000,fault_return=4096:1000,yield=100 "
                             "(sites: " + ", ".join(stress.SITES) + "; chance per 65536, "
                             "max cpu_relax() spins)")
    clients.add_args(p)
    p.add_argument("--keep-going", action="store_true", help="go on after a finding (new mm)")
    p.add_argument("--lockup-s", type=argtypes.seconds(), default=stress.LOCKUP_S, metavar="S",
                   help="a thread that completes no kernel operation for S seconds is a "
                        f"LOCKUP finding (soft-lockup watchdog; default {stress.LOCKUP_S:g})")
    sched_args(p)
    p.add_argument("--json", metavar="FILE", help="write the report here (atomically)")
    p.add_argument("--fail-on-finding", action="store_true", help="exit 1 when a race shows")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--fail-on", action="append", default=[], choices=["data-race"],
                   help="data-race: with --fail-on-finding or alone, exit 1 on data races too "
                        "(listed, not failing, by default)")
    p.add_argument("--compare-unpatched", action="store_true",
                   help="also run the same hunt without the --patch patches (both keep going), "
                        "print each race's count before -> after and list the findings that "
                        "show only with them; --fail-on-finding then fails on any finding "
                        "the patches did not remove and on any they add")
    p.set_defaults(func=cmd_stress)


def cmd_stress(args) -> int:
    if args.ops is not None and args.ops < 1:
        raise UsageError("pywalk: --ops must be positive")
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("pywalk: --seconds must be positive")
    counts = {r: getattr(args, f"role_{r}") for r in roles.ROLES}
    # checked before the build: a bad thread count is one line, at once
    sc = stress.SCENARIOS[args.scenario]
    threads = roles.counts_from(sc, counts, args.faulters)
    roles.plan(sc, threads)
    args.threads = threads
    if args.compare_unpatched:
        if not args.patch:
            raise UsageError("pywalk: --compare-unpatched needs at least one --patch")
        args.keep_going = True
    check_args(args)
    variant = runtime.build(args.kernel, args.patch, fuzz=args.fuzz,
                            allow_unused=args.allow_unused_patch,
                            instrumented=_instrumented(args), model=args.model)
    clients.check(variant, args.walker, args.driver)
    print_notes(variant.result.notes)
    if args.seeds is not None:      # built once here; each seed's hunt finds it cached
        return cmd_campaign(args)
    if args.schedule:
        return cmd_stress_scheduled(args, variant)
    progress = Progress(f"{variant.name} {args.scenario}", ops=args.ops,
                        seconds=None if args.ops else (args.seconds or 10.0), quiet=args.quiet)
    result = stress.run(variant, args.scenario, threads=threads,
                        seconds=args.seconds, ops=args.ops, seed=args.seed,
                        delays=None if args.no_delays else stress.DelayProfile.parse(args.delays or ""),
                        keep_going=args.keep_going, progress=progress,
                        walker=args.walker, driver=args.driver, lockup_s=args.lockup_s)
    progress.done()
    report = result.as_json()
    failing = result.findings + (result.data_races if "data-race" in args.fail_on else [])
    if args.compare_unpatched and not result.interrupted:
        base, only, moved = compare_unpatched(args, result)
        report["unpatched"] = base.as_json()
        report["only_with_patches"] = [f.as_json() for f in only]
        report["before_after"] = [c.as_json() for c in moved]
        # a non-fix fails too: every finding the patches did not remove, and
        # what they add (data races among those with --fail-on data-race)
        failing = result.findings + [f for f in only if f not in result.findings]
        result.interrupted = base.interrupted
    if args.json:
        write_report(args.json, report)
    if not args.compare_unpatched:
        print(summary(result))
    if result.interrupted:
        return EXIT_INTERRUPTED
    if failing and (args.fail_on_finding or args.fail_on):
        return EXIT_FINDING
    return EXIT_OK


def _instrumented(args) -> bool:
    """--instrument, by default on, except for a controlled schedule (whose
    steps and traces are the shim's hook sites, not every access)."""
    if args.instrument:
        return args.instrument == "on"
    return not getattr(args, "schedule", None)


def compare_unpatched(args, result):
    """The same hunt without the patches; print both and what only the patches show."""
    variant = runtime.build(args.kernel, [], instrumented=_instrumented(args), model=args.model)
    progress = Progress(f"{variant.name} {args.scenario}", ops=args.ops,
                        seconds=None if args.ops else (args.seconds or 10.0), quiet=args.quiet)
    base = stress.run(variant, args.scenario, threads=args.threads,
                      seconds=args.seconds, ops=args.ops, seed=args.seed,
                      delays=None if args.no_delays else stress.DelayProfile.parse(args.delays or ""),
                      keep_going=True, progress=progress, walker=args.walker, driver=args.driver)
    progress.done()
    only = compare.only_in(result, base)
    races = compare.only_in(SimpleNamespace(findings=result.data_races),
                            SimpleNamespace(findings=base.data_races))
    only += races if "data-race" in args.fail_on else []
    print(summary(result))
    print(summary(base))
    moved = compare.changes(result, base)
    print("before -> after (each known race, and every other finding by its frames):")
    print("".join(f"  {c.line()}\n" for c in moved) or "  nothing in either hunt\n", end="")
    listed = only + [r for r in races if r not in only]
    print(f"{len(listed)} finding(s) only with the patches" + (":" if listed else ""))
    for f in listed:
        print(f"  {f.kind}: {f.message} ({f.role})")
        print("".join(f"    {b}\n" for b in f.backtrace[:6]), end="")
    return base, only, moved


def summary(result: stress.StressResult) -> str:
    head = (f"{result.label or result.kernel + ''.join('+' + p for p in result.patches)} "
            f"{result.scenario} "
            f"seed {result.seed}: {result.ops:,} ops in {result.elapsed_s:.2f} s "
            f"({result.ops_per_s:,.0f} ops/s, model {result.model})")
    if result.madvise_einval:
        head += f"; madvise EINVAL x {result.madvise_einval:,}"
    if not result.findings:
        return head + ": no finding" + data_race_lines(result)
    f = result.findings[0]
    lines = [head + f": {len(result.findings)} finding(s), first after {f.elapsed_s:.3f} s "
             f"/ {f.ops:,} ops", f"  {f.kind}: {f.message} ("
             + (f"address {f.address:#x}, " if f.address else "")
             + f"thread {f.thread}, {f.role})"]
    lines += [f"    {b}" for b in f.backtrace[:12]]
    if f.reachable:
        lines.append(f"  {reach.text(f.reachable)}")
    lines += explain_lines(f)
    if len(result.findings) > 1:
        counts = Counter(x.signature for x in result.findings)
        names = {x.signature: identify(x) for x in result.findings}
        where = {x.signature: x.reachable for x in result.findings}
        lines.append(f"  {len(counts)} distinct finding(s):")
        lines += [f"    {n:>5} x {sig}" + (f"  ({names[sig].name})" if names[sig] else "")
                  + ("" if not where[sig] else "  [in-tree]" if where[sig]["in_tree"]
                     else "  [through pywalk's harness]")
                  for sig, n in counts.most_common()]
    return "\n".join(lines) + data_race_lines(result)


def explain_lines(f) -> list[str]:
    """The finding down to the loads (pywalk/variant/explain.py), or its racing
    side: the stores to the entry it read, values decoded."""
    if f.explain:
        return [f"  {x}" for x in f.explain["lines"]]
    out = []
    for r in f.racing:
        out.append(f"  racing: thread {r['thread']} ({r['role']}) {r['op']} "
                   f"{r['old']:#x} ({decode(r['old'])}) -> {r['new']:#x} ({decode(r['new'])})")
        out += [f"    {b}" for b in r["backtrace"][:4]]
    return out


def data_race_lines(result) -> str:
    if not result.data_races:
        return ""
    lines = [f"\n  {len(result.data_races)} data race(s), one per pair of code locations "
             "(listed; --fail-on data-race fails on them):"]
    lines += [f"    {f.message}" for f in result.data_races]
    return "".join(line if line.startswith("\n") else "\n" + line for line in lines)
