# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk stress`: one race hunt, exit codes as `git bisect run` expects."""

from __future__ import annotations

from collections import Counter

from pywalk.variant import runtime
from pywalk.hunt import clients, stress
from pywalk.hunt.races import identify
from pywalk.report.jsonio import write_json_atomic
from pywalk.report.progress import Progress
from pywalk.cli.source import add_variant_args, print_notes
from pywalk.errors import EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, UsageError


def register(sub) -> None:
    p = sub.add_parser("stress", help="hunt a race: run a scenario from many threads")
    add_variant_args(p, allow_unused=True)
    p.add_argument("--scenario", required=True, choices=sorted(stress.SCENARIOS))
    p.add_argument("--walkers", type=int, help="walker threads (scenario default)")
    p.add_argument("--faulters", type=int, help="faulter threads (scenario default)")
    budget = p.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=float, help="time budget (default 10)")
    budget.add_argument("--ops", type=int, help="kernel-operation budget (faults + walks)")
    p.add_argument("--seed", type=int, default=1)
    delays = p.add_mutually_exclusive_group()
    delays.add_argument("--no-delays", action="store_true", help="no window widening at shim hooks")
    delays.add_argument("--delays", metavar="SPEC",
                        help="delay profile, e.g. unlock=2048:1000,fault_return=4096:1000,yield=100 "
                             "(sites: lock, unlock, load, store, fault_return; chance per 65536, "
                             "max cpu_relax() spins)")
    clients.add_args(p)
    p.add_argument("--keep-going", action="store_true", help="go on after a finding (new mm)")
    p.add_argument("--json", metavar="FILE", help="write the report here (atomically)")
    p.add_argument("--fail-on-finding", action="store_true", help="exit 1 when a race shows")
    p.set_defaults(func=cmd_stress)


def cmd_stress(args) -> int:
    for name in ("walkers", "faulters", "ops"):
        v = getattr(args, name)
        if v is not None and v < (0 if name != "ops" else 1):
            raise UsageError(f"pywalk: --{name} must be positive")
    if args.seconds is not None and args.seconds <= 0:
        raise UsageError("pywalk: --seconds must be positive")
    variant = runtime.build(args.kernel, args.patch, fuzz=args.fuzz,
                            allow_unused=args.allow_unused_patch)
    clients.check(variant, args.walker, args.driver)
    print_notes(variant.result.notes)
    progress = Progress(f"{variant.name} {args.scenario}")
    result = stress.run(variant, args.scenario, walkers=args.walkers, faulters=args.faulters,
                        seconds=args.seconds, ops=args.ops, seed=args.seed,
                        delays=None if args.no_delays else stress.DelayProfile.parse(args.delays or ""),
                        keep_going=args.keep_going, progress=progress,
                        walker=args.walker, driver=args.driver)
    progress.done()
    if args.json:
        write_json_atomic(args.json, result.as_json())
    print(summary(result))
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.findings and args.fail_on_finding:
        return EXIT_FINDING
    return EXIT_OK


def summary(result: stress.StressResult) -> str:
    head = (f"{result.label or result.kernel + ''.join('+' + p for p in result.patches)} "
            f"{result.scenario} "
            f"seed {result.seed}: {result.ops:,} ops in {result.elapsed_s:.2f} s "
            f"({result.ops_per_s:,.0f} ops/s)")
    if not result.findings:
        return head + ": no finding"
    f = result.findings[0]
    lines = [head + f": {len(result.findings)} finding(s), first after {f.elapsed_s:.3f} s "
             f"/ {f.ops:,} ops", f"  {f.kind}: {f.message} (address {f.address:#x}, "
             f"thread {f.thread}, {f.role})"]
    lines += [f"    {b}" for b in f.backtrace[:12]]
    if len(result.findings) > 1:
        counts = Counter(x.signature for x in result.findings)
        names = {x.signature: identify(x) for x in result.findings}
        lines.append(f"  {len(counts)} distinct finding(s):")
        lines += [f"    {n:>5} x {sig}" + (f"  ({names[sig].name})" if names[sig] else "")
                  for sig, n in counts.most_common()]
    return "\n".join(lines)
