# SPDX-License-Identifier: GPL-2.0-only
"""The result tables of `pywalk reproduce` and `pywalk matrix`.

One plain-text style for both: columns separated by " | ", a "-+-" rule
under the header, every column as wide as its widest cell.
"""

from __future__ import annotations

from typing import Iterable, Sequence

HEADERS = ("variant", "scenario", "result", "expected", "time to first finding", "ops", "ops/s")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """headers and rows as aligned text (no trailing newline)."""
    rows = [tuple(str(c) for c in r) for r in rows]
    widths = [max(len(str(x[i])) for x in rows + [tuple(headers)]) for i in range(len(headers))]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*headers).rstrip(), "-+-".join("-" * w for w in widths)]
    out += [fmt.format(*r).rstrip() for r in rows]
    return "\n".join(out)


def expected_cell(expect_race: bool | None) -> str:
    return "-" if expect_race is None else ("race" if expect_race else "clean")


def result_cells(r) -> tuple[str, str, str, str]:
    """(result, time to first finding, ops, ops/s) of a pywalk.stress.StressResult."""
    found = bool(r.findings)
    result = f"RACE ({r.findings[0].kind})" if found else "clean"
    if r.interrupted and not found:
        result = "interrupted"
    return (result, f"{r.first_finding_s:.3f} s" if found else "-",
            f"{r.ops:,}", f"{r.ops_per_s:,.0f}")


def stress_row(label: str, scenario: str, expect_race: bool | None, r) -> tuple[str, ...]:
    """One row in HEADERS order for a stress result."""
    result, first, ops, rate = result_cells(r)
    return (label, scenario, result, expected_cell(expect_race), first, ops, rate)


def finding_details(label: str, scenario: str, r, frames: int = 8) -> str:
    """The first finding of a result, as reproduce prints it."""
    f = r.findings[0]
    lines = [f"{label}, {scenario}: {f.kind} {f.message} at {f.address:#x}"]
    lines += [f"    {b}" for b in f.backtrace[:frames]]
    return "\n".join(lines)
