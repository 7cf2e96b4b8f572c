# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk patches check`: do pywalk's shipped patches apply to a kernel?

For each kernel, every patch in ``patches/<series>/`` (series = the
kernel's VERSION.PATCHLEVEL, e.g. 6.1 or 6.12) is applied on its own, by
GNU patch on a temporary copy of the files it touches; nothing is built and
the tree is not written.  Strict by default (no offset, no fuzz); with
``--fuzz N`` a patch that needs them is "ok" with a note per hunk.

Exit codes: 0 every patch applies; 125 a patch does not apply (its
message follows the table); 2 no patches for that series.
"""

from __future__ import annotations

import sys

from pywalk.variant import builder
from pywalk.tree import sources
from pywalk.hunt import matrix
from pywalk.assets import asset_dir
from pywalk.errors import EXIT_BUILD, EXIT_OK, PatchError, UsageError
from pywalk.variant.patches import load_patches
from pywalk.cli.source import add_patch_rules


def register(sub) -> None:
    p = sub.add_parser("patches", help="check pywalk's shipped patches against a kernel")
    psub = p.add_subparsers(dest="patches_command", metavar="COMMAND", required=True,
                            parser_class=type(p))
    c = psub.add_parser("check", help="check that every patch in patches/<series>/ applies")
    c.add_argument("--kernel", action="append", default=[],
                   help="a series (6.1, 7.3, ...), SERIES=VERSION, a kernel tree or a tarball "
                   "(repeatable; default: 6.1 and 6.12)")
    add_patch_rules(c)
    c.set_defaults(func=cmd_check)


def series_dir(version: str):
    """patches/<major.minor>/ for a kernel version; UsageError if pywalk ships none."""
    root = asset_dir("patches")
    series = matrix.series_of(version)
    d = root / series
    if not d.is_dir():
        have = sorted(x.name for x in root.iterdir() if x.is_dir())
        raise UsageError(f"pywalk: no shipped patches for kernel series {series} "
                         f"(patches/ has {', '.join(have)})")
    return d


def check(spec: str, fuzz: int | None = None
          ) -> tuple[sources.KernelSource, list[tuple[str, list[str], str | None]]]:
    """(source, [(patch name, notes, error or None)]) for the series' patches."""
    src = sources.resolve(spec)
    d = series_dir(src.version)
    results = []
    for patch in load_patches([str(d)]):
        try:
            notes = builder.check_patches(src, [patch], fuzz=fuzz)
            results.append((patch.name, notes, None))
        except PatchError as e:
            results.append((patch.name, [], str(e)))
    return src, results


def cmd_check(args) -> int:
    failed = []
    for spec in args.kernel or ["6.1", "6.12"]:
        src, results = check(spec, args.fuzz)
        print(f"{src.version} ({src.origin}): patches/{matrix.series_of(src.version)}/")
        for name, notes, error in results:
            if error is None:
                print(f"  ok      {name}")
                for n in notes:
                    print(f"            {n}")
            else:
                print(f"  FAILED  {name}: {error.splitlines()[0]}")
                failed.append(error)
    for error in failed:
        print(f"\n{error}")
    if failed:
        print(f"\n{len(failed)} patch(es) do not apply", file=sys.stderr)
        return EXIT_BUILD
    return EXIT_OK
