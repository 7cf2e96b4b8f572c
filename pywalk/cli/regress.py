# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk regress`: real upstream bugs, each found again with its fix reverted.

One row per bug of pywalk/hunt/regress.py's table: the reverted tree must
show the expected finding within the bug's op budget, and the tree as
shipped (the control) nothing for the same budget.  Exit 0 only when every
row is so, 1 otherwise."""

from __future__ import annotations

import sys

from pywalk.cli import argtypes
from pywalk.cli.source import print_notes
from pywalk.errors import EXIT_FINDING, EXIT_OK, UsageError
from pywalk.hunt import regress
from pywalk.report.jsonio import write_report
from pywalk.report.progress import Progress
from pywalk.report.table import format_table

HEADERS = ("bug (fix reverted)", "tree", "looked for", "found?", "first finding",
           "control clean?", "budget")


def register(sub) -> None:
    p = sub.add_parser("regress", help="find real upstream bugs again with their fixes reverted")
    series = sorted({b.kernel for b in regress.BUGS})
    p.add_argument("--kernel", metavar="K", help=f"only the bugs on this series ({', '.join(series)})")
    p.add_argument("--seed", type=argtypes.SEED, default=1)
    p.add_argument("--ops", type=argtypes.POSITIVE, default=None,
                   help="op budget of each hunt (default: each bug's own, far above its median)")
    p.add_argument("--json", metavar="FILE")
    p.set_defaults(func=cmd_regress)


def _found(o: regress.Outcome) -> str:
    if o.why_not:
        return "n/a: " + o.why_not
    if o.found:
        return "yes"
    others = len(o.reverted.findings) if o.reverted else 0
    return f"NO ({others} other finding(s))" if others else "NO"


def _first(o: regress.Outcome) -> str:
    h = o.hit
    return f"{h.elapsed_s:.2f} s / {h.ops:,} ops" if h else "-"


def _control(o: regress.Outcome) -> str:
    if o.control is None:
        return "-"
    if o.control_clean:
        return f"yes ({o.control.ops:,} ops)"
    f = o.control.findings[0] if o.control.findings else None
    return f"NO: {f.signature} after {f.ops:,} ops" if f else "NO (interrupted)"


def row(o: regress.Outcome) -> tuple:
    b = o.bug
    tree = o.reverted.kernel if o.reverted is not None else b.kernel
    return (b.subject, tree, b.expect.name, _found(o), _first(o), _control(o),
            f"{o.budget or b.ops:,} ops")


def cmd_regress(args) -> int:
    chosen = regress.bugs(args.kernel)
    if not chosen:
        raise UsageError(f"pywalk regress: no bug on series {args.kernel!r} (have: "
                         f"{', '.join(sorted({b.kernel for b in regress.BUGS}))})")
    outcomes = []
    for bug in chosen:
        outcomes.append(regress.run_bug(bug, seed=args.seed, ops=args.ops, progress=Progress,
                                        on_notes=print_notes))
    print(format_table(HEADERS, [row(o) for o in outcomes]))
    ok = all(o.ok for o in outcomes)
    for o in outcomes:
        if o.reverted is not None and not o.found:
            sigs = sorted({f.signature for f in o.reverted.findings})
            print(f"\n{o.bug.label}: not found in {o.reverted.ops:,} ops"
                  + (f"; other findings: {'; '.join(sigs)}" if sigs else ""))
        if o.control is not None and not o.control_clean and o.control.findings:
            print(f"\n{o.bug.label}: control not clean:\n{o.control.findings[0].message}")
    if args.json:
        write_report(args.json, {"ok": ok, "seed": args.seed,
                                 "bugs": [o.as_json() for o in outcomes]})
    print("\nevery bug found, every control clean" if ok else "\nSOME BUGS NOT AS EXPECTED",
          file=sys.stderr)
    return EXIT_OK if ok else EXIT_FINDING
