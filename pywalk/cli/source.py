# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk kernels`, `pywalk fetch`, `pywalk build`."""

from __future__ import annotations

import argparse
import json
import sys

from pywalk.variant import builder as _build
from pywalk.tree import sources


def register(sub) -> None:
    p = sub.add_parser("kernels", help="list the kernel series Debian offers and what is cached")
    p.add_argument("--refresh", action="store_true",
                   help="update the package lists now (else when a day old)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_kernels)
    p = sub.add_parser("fetch", help="download and unpack a Debian linux-source package")
    p.add_argument("series", nargs="?", default=sources.DEFAULT_KERNEL, metavar="SERIES[=VERSION]",
                   help="a series (6.1, 7.3, ...: its newest version) or an exact package "
                   "version (6.1=6.1.192-3); default %(default)s")
    p.set_defaults(func=cmd_fetch)
    p = sub.add_parser("build", help="build a variant (kernel + patches) and show what it took")
    add_variant_args(p)
    add_instrument_arg(p, default="off")     # as pywalk.build(); stress & co default on
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_build)


def add_variant_args(p, *, allow_unused: bool = False) -> None:
    p.add_argument("--kernel", default=sources.DEFAULT_KERNEL,
                   help="a Debian series (6.1, 7.3, ...: see pywalk kernels), an exact package "
                   "version (6.1=6.1.192-3), a kernel tree or a linux-*.tar.{xz,gz} (default 6.1)")
    p.add_argument("--patch", action="append", default=[],
                   help="a patch file, quilt directory or directory of *.patch (repeatable)")
    add_patch_rules(p, allow_unused=allow_unused)


def _fuzz(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"--fuzz takes a number of lines (0 or more), not {text!r}")
    return n


def add_patch_rules(p, *, allow_unused: bool = False) -> None:
    """--fuzz (every verb that applies patches) and --allow-unused-patch (the
    verbs that run a variant: a patch without effect would go unnoticed)."""
    p.add_argument("--fuzz", type=_fuzz, metavar="N",
                   help="let hunks apply at an offset and ignore up to N lines of leading/"
                        "trailing context, as patch -F N does; a note per such hunk "
                        "(default: stricter than git apply: no offset, no fuzz)")
    if allow_unused:
        p.add_argument("--allow-unused-patch", action="store_true",
                       help="run even if a patch changes nothing the build uses "
                            "(default: exit 125)")


def print_notes(notes, stream=None) -> None:
    """Patch notes and warnings of a build, one line each (stderr by default)."""
    for note in notes:
        print(f"pywalk: {note}", file=stream or sys.stderr, flush=True)


def add_instrument_arg(p, default: str | None = "on") -> None:
    p.add_argument("--instrument", choices=("on", "off"), default=default,
                   help="compile the tree's code with an access hook before every load and "
                        "store (KCSAN's way; sites read, write, marked_read, marked_write, "
                        f"atomic); default {default or 'on (off for --schedule)'}")


def add_model_arg(p, both: bool = False) -> None:
    """--model: how the variant compiles pud_val() & co (pywalk/variant/model.py)."""
    from pywalk.variant.model import MODELS
    choices = (*MODELS, "both", "auto") if both else tuple(MODELS)
    p.add_argument("--model", choices=choices, default="auto" if both else "native",
                   help="the build model: native (pud_val() a field read: x86 with "
                        "PARAVIRT_XXL=n, where gcc may merge plain loads of an entry) or xxl "
                        "(a pv call with a \"memory\" clobber, as Debian's x86 build)"
                        + ("; both: every cell in each; auto (default): native, then the "
                           "cells that fail again in xxl" if both else "; default native"))


def cmd_kernels(args) -> int:
    rows, warning = sources.list_kernels(refresh=args.refresh)
    if args.json:
        print(json.dumps({"kernels": rows, "warning": warning}, indent=2))
    else:
        print(f"{'SERIES':<8} {'PACKAGE':<18} {'NEWEST IN ARCHIVE':<40} CACHED")
        for k in rows:
            newest = f"{k['newest']} ({k['suite']})" if k["newest"] else "-"
            held = ", ".join(k["cached_versions"]) or (k["version"] if k["cached"] else "-")
            where = f" at {k['path']}" if k["cached"] else ""
            print(f"{k['name']:<8} {k['package'] or '(tarball)':<18} {newest:<40} {held}{where}")
    if warning:
        print(f"{warning} (showing the cache only)", file=sys.stderr)
    return 0


def cmd_fetch(args) -> int:
    src = sources.fetch(args.series)
    print(f"{args.series}: {src.version} ({src.origin}) at {src.root}")
    return 0


def cmd_build(args) -> int:
    r = _build.build(args.kernel, args.patch, fuzz=args.fuzz,
                     instrumented=args.instrument == "on")
    if args.json:
        print(json.dumps(r.as_json(), indent=2))
        return 0
    print(f"variant {r.variant_id}: kernel {r.kernel.version} ({r.kernel.origin})"
          + (f" at {r.kernel_git}" if r.kernel_git else "")
          + (", instrumented" if r.instrumented else ""))
    for p in r.patches:
        print(f"  patch {p.name}" + (f": {p.subject}" if p.subject else ""))
    for note in r.notes:
        print(f"  {note}")
    print(f"  module {r.module_path} ({'built' if r.compiled else 'cache hit'}, {r.seconds:.2f} s)")
    for s in r.sources:
        what = "whole" if s.whole else ", ".join(s.functions)
        print(f"  {s.path} {s.sha256[:12]}: {what}")
    return 0
