# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk confirm`: run a finding's reproducer on the real Debian kernel under qemu.

Exit 1 "confirmed on the real kernel", 0 "not seen", 2 bad input (or a role
with no process-level counterpart), 3 qemu or a package that cannot be had.
"""

from __future__ import annotations

import shutil
import sys
import time

from pywalk.confirm import finding as findings
from pywalk.confirm import reproducer, run
from pywalk.errors import EXIT_FINDING, EXIT_OK, UsageError
from pywalk.hunt import clients, stress
from pywalk.report.jsonio import write_report
from pywalk.cli import argtypes

TCG_NOTE = ("note: the guest runs under qemu's TCG, whose timing is not hardware timing: "
            "\"not seen\" is weaker evidence than \"confirmed\"")


def register(sub) -> None:
    p = sub.add_parser("confirm", help="boot the finding's real Debian kernel under qemu and "
                       "run a reproducer generated from the finding")
    p.add_argument("report", nargs="?", help="a report of `pywalk stress --json` (or replay, "
                   "shrink, explore); or give --scenario and the hunt's arguments")
    p.add_argument("--kernel", help="with --scenario: the kernel series (default 6.1) or "
                   "SERIES=VERSION; a tree of your own needs --image")
    p.add_argument("--scenario", choices=sorted(stress.SCENARIOS))
    p.add_argument("--walker", choices=clients.WALKER_CHOICES,
                   help="the walk client the finding used (numa_maps, smaps, pagemap, mincore "
                        "have a process-level counterpart)")
    p.add_argument("--driver", choices=clients.DRIVER_CHOICES, help="dax (the guest's device)")
    p.add_argument("--seconds", type=argtypes.seconds(hi=3600.0), default=120.0,
                   help="how long the reproducer runs in the guest (default 120)")
    p.add_argument("--seed", type=argtypes.SEED, help="the reproducer's random seed "
                   "(default: the report's, else 1)")
    p.add_argument("--zap", choices=reproducer.ZAP_MODES, default="mixed",
                   help="zapper ranges: whole leaves, parts of leaves, or both (default)")
    p.add_argument("--image", metavar="PATH", help="boot your own kernel: a directory with a "
                   "bzImage (or vmlinuz*) and the nvdimm/dax modules, or the bzImage itself")
    p.add_argument("--keep", metavar="DIR", help="write the reproducer (repro.c) and its run "
                   "script (run.sh) here")
    p.add_argument("--json", metavar="FILE", help="write the whole result here")
    p.add_argument("--quiet", action="store_true", help="no progress line")
    p.set_defaults(func=cmd_confirm)


class _Phases:
    """Phases on one live stderr line, on a terminal only."""

    def __init__(self, quiet: bool):
        self.shown = not quiet and sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.name = ""

    def __call__(self, name: str, detail: str = "") -> None:
        self.name = name
        if self.shown:
            width = max(20, shutil.get_terminal_size((100, 20)).columns - 1)
            line = f"pywalk confirm: {name}{': ' + detail if detail else ''} " \
                   f"({time.monotonic() - self.t0:.0f} s)"
            sys.stderr.write("\r\033[K" + line[:width])
            sys.stderr.flush()

    def note(self, text: str) -> None:
        self.clear()
        print(text, file=sys.stderr, flush=True)

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _finding(args) -> findings.Finding:
    if args.report and (args.scenario or args.kernel or args.walker or args.driver):
        raise UsageError("pywalk: confirm takes a REPORT or --scenario with the hunt's "
                         "arguments, not both")
    if args.report:
        f = findings.from_report(args.report)
    elif args.scenario:
        from pywalk.tree.sources import DEFAULT_KERNEL
        f = findings.from_args(args.kernel or DEFAULT_KERNEL, args.scenario, args.walker,
                               args.driver)
    else:
        raise UsageError("pywalk: confirm needs a REPORT, or --scenario (with --kernel, "
                         "--walker, --driver)")
    if args.seed is not None:
        f.seed = args.seed
    return f


def cmd_confirm(args) -> int:
    f = _finding(args)
    phases = _Phases(args.quiet)
    try:
        c = run.confirm(f, seconds=args.seconds, image_path=args.image, keep=args.keep,
                        zap_mode=args.zap, progress=phases.note, phase=phases)
    finally:
        phases.clear()
    print(render(c))
    if args.keep:
        print(f"reproducer: {args.keep}/repro.c and {args.keep}/run.sh "
              "(gcc -O2 -static -pthread; no pywalk needed)")
    if args.json:
        write_report(args.json, c.as_json())
    return EXIT_FINDING if c.verdict.confirmed else EXIT_OK


def _what(c: run.Confirmation) -> str:
    image = c.image
    name = f"{image.package} {image.version}" if image.package else image.origin
    return f"{name}, {c.finding.scenario}" + (f", {c.finding.walker}" if c.finding.walker else "")


def render(c: run.Confirmation) -> str:
    v = c.verdict
    lines = []
    if f_patches := c.finding.patches:
        lines.append(f"note: the report's patches ({', '.join(map(str, f_patches))}) are not in "
                     "the booted kernel: it is the unpatched Debian build")
    if v.confirmed:
        kinds = ", ".join(f"{k}: {n}" for k, n in v.counts.most_common())
        first = (f"first after {v.first_s:.1f} s" if v.first_s is not None
                 else f"first after {v.first_wall_s:.1f} s" if v.first_wall_s is not None else "")
        lines.append(f"confirmed on the real kernel ({_what(c)}): "
                     + (f"{v.lines} kernel message line(s) in {v.bursts} burst(s) ({kinds}), "
                        f"{first} of {c.seconds:g} s" if v.lines else "no kernel message"))
        lines += [f"  {x}" for x in v.first_lines]
        if v.lines > len(v.first_lines):
            lines.append(f"  ... {v.lines - len(v.first_lines)} more")
    else:
        lines.append(f"not seen in {c.seconds:g} s on the real kernel ({_what(c)}): no bad "
                     "pte/pmd/pud, BUG, Oops, WARNING, soft lockup or \"Bad rss-counter state\" "
                     "line")
    roles = ", ".join(f"{r.role} x{r.threads} ({r.kind}: {v.ops.get(r.role, '?'):,} ops)"
                      if isinstance(v.ops.get(r.role), int) else f"{r.role} x{r.threads} ({r.kind})"
                      for r in findings.process_roles(c.finding))
    lines.append(f"  ran: {roles}; device-dax aligned {c.finding.align}")
    if v.corrupt_pages is None:
        lines.append("  device data: not checked (the reproducer did not finish"
                     + (f"; qemu killed after {c.console.wall_s:.0f} s)" if c.console.killed
                        else ")"))
    elif v.corrupt_pages:
        lines.append(f"  device data: {v.corrupt_pages} corrupt page(s) (pattern 0x41 gone)")
        lines += [f"    {x}" for x in v.corrupt_lines[:8]]
    else:
        lines.append("  device data: intact")
    if c.finding.message:
        lines.append(f"  pywalk's finding: {c.finding.message}")
    if v.before_start:
        lines.append(f"  {len(v.before_start)} such line(s) during boot, before the reproducer "
                     f"(not counted): {v.before_start[0]}")
    lines.append(f"  kernel command line: {c.cmdline}; boot {v.boot_s:.0f} s, "
                 f"wall {c.console.wall_s:.0f} s")
    if not v.confirmed:
        lines.append(TCG_NOTE)
    return "\n".join(lines)
