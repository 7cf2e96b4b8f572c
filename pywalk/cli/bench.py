# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk bench`: the real walker of variant B against variant A (pywalk/bench/runner.py),
a table for people, `--json`, `--plot`, and `--callgrind` instruction counts."""

from __future__ import annotations

import shutil

from pywalk.variant import runtime
from pywalk.bench import runner
from pywalk.bench import layouts as bench_layouts
from pywalk.bench import hunts as bench_hunts
from pywalk.hunt.reproduce import VFIO_KERNEL
from pywalk.report.bench import _need_matplotlib, plot, render, render_hunts
from pywalk.report.jsonio import write_report
from pywalk.bench.callgrind import callgrind_counts
from pywalk.bench.measure import BENCH_WALKERS, SPLITTING, TREE_WALKERS
from pywalk.report.progress import Progress
from pywalk.cli.source import add_variant_args, print_notes
from pywalk.errors import EXIT_INTERRUPTED, EXIT_OK, UsageError
from pywalk.cli import argtypes


MAX_FAULTERS = 64


def register(sub) -> None:
    p = sub.add_parser("bench", help="time the real walker of two variants on identical tables")
    add_variant_args(p, allow_unused=True)
    p.add_argument("--vs-kernel", help="variant B's kernel (default: --kernel)")
    p.add_argument("--vs-patch", action="append", default=[],
                   help="a patch for variant B (repeatable)")
    p.add_argument("--layout", action="append", choices=sorted(bench_layouts.LAYOUTS),
                   help="page-table layout (repeatable; default: all)")
    p.add_argument("--size", action="append", metavar="S",
                   help="mapped size, e.g. 64G, 1T (repeatable: all are scaling points, the "
                        "A/B comparison walks the largest; default per layout)")
    p.add_argument("--seconds", type=argtypes.seconds(), default=6.0,
                   help="measuring time per layout for the A/B comparison (default 6); "
                        "contention and scaling get a third of it each")
    p.add_argument("--walker", choices=BENCH_WALKERS, default=BENCH_WALKERS[0],
                   help="count-dirty (ours, default): stops at huge leaves, tables stay as "
                        "populated; numa_maps (the tree's fs/proc/task_mmu.c walk), count-numa "
                        "(ours, numa_maps-like) or pmd_pte split huge leaves: timed while "
                        "--faulters threads refault them (the path a walker fix changes)")
    p.add_argument("--faulters", type=argtypes.COUNT, default=None,
                   help="refaulting threads: in the contention phase (count-dirty; default 1, 0: "
                        "none) or for the timed walks (splitting walkers; default 1)")
    p.add_argument("--refault", choices=("between", "during"), default="between",
                   help="splitting walkers: refault every huge leaf before each timed walk "
                        "(between, default: every walk does the same work, tight B/A) or at "
                        "random while the walker walks (during: races as in the kernel, "
                        "wide B/A)")
    p.add_argument("--seed", type=argtypes.SEED, default=1)
    p.add_argument("--json", metavar="FILE", help="write the result here (atomically)")
    p.add_argument("--plot", metavar="FILE.png", help="plot scaling and ratios (matplotlib)")
    p.add_argument("--callgrind", action="store_true",
                   help="also count instructions per walk under valgrind (slow: ~1 min)")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.add_argument("--hunts", action="store_true",
                   help="instead of A/B: time and operations to the first finding of every "
                        "known race (the reproduce rows that expect one), --seeds hunts each")
    p.add_argument("--seeds", type=argtypes.POSITIVE, default=5,
                   help="--hunts: seeds per race, from --seed (default 5)")
    p.add_argument("--hunt-seconds", type=argtypes.seconds(), default=30.0,
                   help="--hunts: time budget per hunt (default 30)")
    p.add_argument("--hunt-ops", type=argtypes.POSITIVE, default=None,
                   help="--hunts: operation budget per hunt (default: none)")
    p.add_argument("--vfio-kernel", default=VFIO_KERNEL,
                   help="--hunts: the kernel of the numa_maps x VFIO rows")
    p.add_argument("--no-delays", action="store_true", help="--hunts: delay injection off")
    p.add_argument("--instrument", choices=("on", "off"), default="on",
                   help="--hunts: instrumented variants (default on, as hunts run)")
    p.set_defaults(func=cmd_bench)


def _settings(args) -> runner.Settings:
    if args.seconds <= 0:
        raise UsageError("pywalk: --seconds must be positive")
    if args.faulters is None:
        args.faulters = 1
    if not 0 <= args.faulters <= MAX_FAULTERS:
        raise UsageError(f"pywalk: --faulters {args.faulters}: 0..{MAX_FAULTERS} threads")
    if args.walker in SPLITTING and args.faulters < 1:
        raise UsageError(f"pywalk: --walker {args.walker} splits every huge leaf on its first "
                         "walk; without refaults (--faulters >= 1) the rest walk holes")
    if args.walker in SPLITTING and args.callgrind:
        raise UsageError("pywalk: --callgrind counts the static walk; it does not take "
                         f"--walker {args.walker}")
    layouts = args.layout or list(bench_layouts.LAYOUTS)
    layouts = list(dict.fromkeys(layouts))
    given = sorted({bench_layouts.parse_size(s) for s in args.size or []})
    sizes, compare = {}, {}
    for name in layouts:
        lay = bench_layouts.LAYOUTS[name]
        sizes[name] = given or bench_layouts.default_sizes(lay)
        compare[name] = max(given) if given else lay.compare
        for s in sizes[name]:
            bench_layouts.check_size(lay, s)
    if args.walker in TREE_WALKERS and args.refault != "between":
        raise UsageError(f"pywalk: --walker {args.walker} (the tree's) is counted by census "
                         "walks, which need --refault between")
    return runner.Settings(layouts, sizes, compare, seconds=args.seconds,
                          faulters=args.faulters, seed=args.seed, walker=args.walker,
                          refault=args.refault)


def cmd_hunts(args) -> int:
    if args.vs_patch or args.vs_kernel or args.patch:
        raise UsageError("pywalk: --hunts runs the reproduce rows' own variants; it takes no "
                         "--patch, --vs-patch or --vs-kernel")
    progress = Progress(quiet=args.quiet)
    result = bench_hunts.run(kernel=args.kernel, vfio_kernel=args.vfio_kernel,
                             seeds=args.seeds, first_seed=args.seed,
                             seconds=args.hunt_seconds, ops=args.hunt_ops,
                             instrumented=args.instrument == "on", delays=not args.no_delays,
                             fuzz=args.fuzz, progress=None if args.quiet else Progress,
                             on_notes=print_notes)
    progress.done()
    if args.json:
        write_report(args.json, result)
    print(render_hunts(result))
    return EXIT_INTERRUPTED if result["interrupted"] else EXIT_OK


def cmd_bench(args) -> int:
    if args.hunts:
        return cmd_hunts(args)
    st = _settings(args)
    if args.plot:
        _need_matplotlib()
    if args.callgrind and not shutil.which("valgrind"):
        raise UsageError("pywalk: --callgrind needs valgrind on PATH")
    rules = {"fuzz": args.fuzz, "allow_unused": args.allow_unused_patch}
    a = runtime.build(args.kernel, args.patch, **rules)
    print_notes(a.result.notes)
    b = runtime.build(args.vs_kernel or args.kernel, args.vs_patch, **rules)
    print_notes(b.result.notes)
    for v in (a, b):
        if args.walker in TREE_WALKERS and not v.has_client(args.walker):
            raise UsageError(f"pywalk: {v.name} has no {args.walker} walk to time (see the "
                             "notes above)")
    if a.name == b.name and a.patch_sha256 != b.patch_sha256:
        a.show_hash = b.show_hash = True     # same names, other contents
    progress = Progress(quiet=args.quiet)
    result = runner.run(a, b, st, progress.phase)
    if args.callgrind and not result["interrupted"]:
        try:
            counts = callgrind_counts(a, b, [x["layout"] for x in result["layouts"]],
                                      progress.phase)
        except KeyboardInterrupt:
            counts, result["interrupted"] = {}, True
        for item in result["layouts"]:
            item["callgrind"] = counts.get(item["layout"])
    progress.done()
    if args.json:
        write_report(args.json, result)
    print(render(result))
    if args.plot and result["layouts"]:
        plot(result, args.plot)
    return EXIT_INTERRUPTED if result["interrupted"] else EXIT_OK
