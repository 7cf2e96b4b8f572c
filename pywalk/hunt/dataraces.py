# SPDX-License-Identifier: GPL-2.0-only
"""KCSAN-style data races of a hunt (shim/checkers/kcsan.c does the watching).

On an instrumented variant every hunt arms sampled watchpoints; the races
seen are kept once per pair of code locations and come back as findings of
kind ``DATA-RACE``, listed in ``StressResult.data_races``: they neither stop
a hunt nor count as its findings (shipped trees have many benign ones);
``pywalk stress --fail-on data-race`` fails on them.
"""

from __future__ import annotations

import re

from pywalk.variant.oops import read_report

_OTHER = re.compile(r"/ (read|write) by another thread \((\w+), (\d+) bytes\)")

INTERVAL = 16000    # about one plain access in this many arms a watchpoint (KCSAN: 4000)
SPINS = 1000        # cpu_relax() a watchpoint stays armed (cost: see README)


def start(variant) -> None:
    """Arm watchpoints for this hunt (instrumented variants only); forget old reports."""
    variant.lib.pw_kcsan_setup(1 if getattr(variant, "instrumented", False) else 0,
                               INTERVAL, SPINS)


def _function(backtrace: list[str]) -> str:
    return next((b.split(" ", 1)[0] for b in backtrace
                 if " " in b and not b.split(" ", 1)[1].startswith(("shim/", "csrc/", "??"))),
                backtrace[0].split(" ", 1)[0] if backtrace else "?")


def collect(variant, make_finding, role_names) -> list:
    """The data races seen since start(), as findings (make_finding(report) builds one)."""
    lib, ffi = variant.lib, variant.ffi
    out = []
    for i in range(lib.pw_kcsan_nreports()):
        rep = read_report(lib.pw_kcsan_report(i), str(variant.module_path), ffi)
        rep.kind = "DATA-RACE"
        m = _OTHER.search(rep.message)
        op = f"{m.group(1)} ({m.group(2)}, {m.group(3)} bytes)" if m else "?"
        other = rep.racing[0]["backtrace"] if rep.racing else []
        rep.message = (f"data-race in {_function(rep.backtrace)} / "
                       f"{_function(other) if rep.racing else '(unseen)'}: {rep.message}")
        f = make_finding(rep)
        f.racing = [dict(r, role=role_names.get(r["role"], str(r["role"])), op=op)
                    for r in rep.racing]
        out.append(f)
    lib.pw_kcsan_setup(0, INTERVAL, SPINS)
    return out

