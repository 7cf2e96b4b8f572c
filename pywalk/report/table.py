# SPDX-License-Identifier: GPL-2.0-only
"""The result tables of `pywalk reproduce` and `pywalk matrix`.

A row looks for one race (pywalk/hunt/races.py), or for any finding when it has
none: the result says whether that race showed, and other findings are
counted beside it and listed under the table.  Plain text: columns
separated by " | ", a "-+-" rule under the header.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from pywalk.hunt.races import identify
from pywalk.hunt.verdict import hits

HEADERS = ("variant", "scenario", "race looked for", "result", "expected",
           "time to first finding", "other findings", "ops", "ops/s")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """headers and rows as aligned text (no trailing newline)."""
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(str(x[i])) for x in rows + [tuple(headers)]) for i in range(len(headers))]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers).rstrip(), "-+-".join("-" * w for w in widths)]
    out += [fmt.format(*r).rstrip() for r in rows]
    return "\n".join(out)


def expected_cell(expect_race: bool | None) -> str:
    return "-" if expect_race is None else ("race" if expect_race else "no race")


def race_cell(race) -> str:
    return race.name if race is not None else "any finding"


def stress_row(label: str, scenario: str, race, expect_race: bool | None, r) -> tuple:
    """One row in HEADERS order for a stress result."""
    h = hits(race, r)
    result = f"RACE ({h[0].kind})" if h else ("interrupted" if r.interrupted else "no race")
    if h and race is None and identify(h[0]) is not None:   # any finding: name a known one
        result = f"RACE ({h[0].kind}): {identify(h[0]).name}"
    return (label, scenario, race_cell(race), result, expected_cell(expect_race),
            f"{h[0].elapsed_s:.3f} s" if h else "-", str(len(r.findings) - len(h)),
            f"{r.ops:,}", f"{r.ops_per_s:,.0f}")


def no_build_row(label: str, scenario: str, race, expect_race: bool | None, what: str) -> tuple:
    return (label, scenario, race_cell(race), what, expected_cell(expect_race),
            "-", "-", "-", "-")


def finding_details(label: str, scenario: str, race, r, frames: int = 8) -> str:
    """The first finding of the race, then the first of each other kind."""
    h = hits(race, r)
    shown, out = set(), []
    for f in h[:1] + [f for f in r.findings if f not in h]:
        key = f.signature + f.message
        if key in shown:
            continue
        shown.add(key)
        known = identify(f)
        tag = "" if f in h else f" [other finding{': ' + known.name if known else ''}]"
        out.append(f"{label}, {scenario}{tag}: {f.kind} {f.message} at {f.address:#x} "
                   f"after {f.ops:,} ops")
        out += [f"    {b}" for b in f.backtrace[:frames]]
    return "\n".join(out)


def matrix_table(cells) -> str:
    rows = []
    for c in cells:
        if getattr(c, "na", None) is not None:
            why = "no VFIO huge_fault" if "vfio_pci_mmap_huge_fault" in c.na else "cannot run"
            rows.append(no_build_row(c.label, c.scenario, c.race, c.expect_race, f"n/a: {why}"))
        elif c.result is not None:
            rows.append(stress_row(c.label, c.scenario, c.race, c.expect_race, c.result))
        elif c.error is not None:
            first = c.error.splitlines()[0]
            what = "NO BUILD (patch does not apply)" if "does not apply" in first else "NO BUILD"
            rows.append(no_build_row(c.label, c.scenario, c.race, c.expect_race, what))
    return format_table(HEADERS, rows)
