# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk stress --seeds A-B -j N`: a campaign (pywalk/hunt/campaign.py),
one deduplicated table and one report per distinct finding."""

from __future__ import annotations

import argparse
import os
import re
import sys

from pywalk.errors import EXIT_FINDING, EXIT_INTERRUPTED, EXIT_OK, UsageError
from pywalk.hunt import campaign
from pywalk.report.jsonio import check_writable, write_report
from pywalk.report.table import format_table
from pywalk.cli import argtypes

# flags the campaign sets per seed or keeps for itself; every other stress
# flag the user gave goes to each seed's hunt unchanged
_OWN = {"seed", "seeds", "jobs", "campaign_dir", "json", "quiet", "fail_on_finding", "help"}


def _seed_range(text: str) -> range:
    try:
        return campaign.parse_seeds(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def campaign_args(p) -> None:
    """--seed or --seeds, -j, --campaign-dir."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--seed", type=argtypes.SEED, default=1)
    g.add_argument("--seeds", type=_seed_range, metavar="A-B",
                   help="a campaign: one hunt per seed (each with the same budget), "
                        "findings deduplicated by signature, one table")
    p.add_argument("-j", "--jobs", type=argtypes.POSITIVE, default=1, metavar="N",
                   help="with --seeds: N hunts at a time, each its own process (default 1)")
    p.add_argument("--campaign-dir", metavar="DIR",
                   help="with --seeds: write the first report of each distinct finding here "
                        "(default: FILE.reports/ beside --json FILE)")


def check_args(args) -> None:
    """Before anything runs: what a campaign cannot do, one line, exit 2."""
    if args.seeds is None:
        if args.jobs != 1 or args.campaign_dir:
            raise UsageError("pywalk: -j and --campaign-dir go with --seeds")
        return
    if args.compare_unpatched:
        raise UsageError("pywalk: --compare-unpatched runs one seed; not with --seeds")
    d = report_dir(args)
    if d is not None:
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            raise UsageError(f"pywalk: cannot create --campaign-dir {d}: {e.strerror}") from None
        check_writable(os.path.join(d, "x.json"))


def report_dir(args) -> str | None:
    if args.campaign_dir:
        return args.campaign_dir
    if args.json:
        return os.path.splitext(args.json)[0] + ".reports"
    return None


def hunt_args(args) -> list[str]:
    """The stress flags the user gave, as each seed's hunt takes them."""
    from pywalk.cli import parser      # the stress parser's own actions, not a copy
    out = []
    for a in parser().commands["stress"]._actions:
        if not a.option_strings or a.dest in _OWN:
            continue
        v = getattr(args, a.dest, a.default)
        if v is None or (v == a.default and a.dest != "kernel") or v is False:
            continue
        opt = max(a.option_strings, key=len)
        if isinstance(a, argparse._StoreTrueAction):
            out.append(opt)
        elif isinstance(a, argparse._AppendAction):
            for x in v[len(a.default or []):]:
                out += [opt, str(x)]
        else:
            out += [opt, str(v)]
    return out


def _progress(total: int, quiet: bool):
    done = [0]

    def on_done(run: campaign.SeedRun) -> None:
        done[0] += 1
        if quiet:
            return
        fs = run.findings()
        what = ("interrupted" if run.interrupted else
                f"{len(fs)} finding(s): " + ", ".join(sorted({campaign.identity(f)[1] for f in fs}))
                if fs else "no finding")
        ops = (run.report or {}).get("ops")
        print(f"pywalk: [{done[0]}/{total}] seed {run.seed}"
              + (f": {ops:,} ops" if ops is not None else "") + f", {what}",
              file=sys.stderr, flush=True)
    return on_done


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]+", "-", text).strip("-")[:60] or "finding"


def table(sigs: list[campaign.Signature], shown: int = 5) -> str:
    rows = []
    for s in sigs:
        seeds = ", ".join(str(x) for x in s.seeds[:shown]) + (", ..." if len(s.seeds) > shown else "")
        ops, secs = s.first.get("ops"), s.first.get("elapsed_s")
        at = (f"{ops:,} ops / {secs:.3f} s" if ops is not None and secs is not None else "-")
        rows.append((s.name, f"{len(s.seeds)}: {seeds}", s.first_seed, at, s.report or "-"))
    return format_table(("finding (known race or signature)", "seeds", "first seed",
                         "first finding at", "report"), rows)


def cmd_campaign(args) -> int:
    seeds, data_races = args.seeds, "data-race" in args.fail_on
    hunt = hunt_args(args)
    result = campaign.run(hunt, seeds, args.jobs, on_done=_progress(len(seeds), args.quiet))
    if result.stopped is not None:
        r = result.stopped
        sys.stderr.write(r.stderr if r.stderr.endswith("\n") or not r.stderr else r.stderr + "\n")
        return r.rc
    sigs = result.signatures(data_races)
    d = report_dir(args)
    for i, s in enumerate(sigs, 1):
        run = next(r for r in result.runs if r.seed == s.first_seed)
        if d is None or run.report is None:
            continue
        path = os.path.join(d, f"{i:02d}-{_slug(s.name)}.json")
        if write_report(path, {**run.report, "campaign": {
                "signature": s.key[0], "name": s.name, "seeds": s.seeds,
                "rerun": run.command}}):
            s.report = path
    if args.json:
        write_report(args.json, result.as_json(sigs, data_races))
    runs = result.runs
    hits = sum(bool(r.findings(data_races)) for r in runs)
    cut = sum(r.interrupted for r in runs)
    head = (f"campaign {' '.join(hunt)} --seeds {seeds.start}-{seeds.stop - 1} -j {args.jobs}: "
            f"{len(runs) - cut} of {len(seeds)} seed(s) run" + (f" ({cut} more cut short)"
                                                                 if cut else "")
            + f", {hits} with a finding, {len(sigs)} distinct finding(s)")
    interrupted = result.interrupted or cut
    print(head + (" (interrupted: the table holds what the seeds found)" if interrupted else ""))
    if sigs:
        print(table(sigs))
        if d is None:
            print("(--campaign-dir DIR or --json FILE keeps each finding's first report)")
    if interrupted:
        return EXIT_INTERRUPTED
    if sigs and (args.fail_on_finding or args.fail_on):
        return EXIT_FINDING
    return EXIT_OK
