# SPDX-License-Identifier: GPL-2.0-only
"""The reviewer's gate (``pywalk check``): a fix against every way in.

One hunt per cell, with the patches and without them (same seed and
budget, both keep going): every scenario, every driver the tree can run,
for scenarios with walkers every walker that matters (the scenario's own,
and each of the tree's /proc and syscall walks this tree has), each
instrumented and not.  A default gate that runs one scenario with one
driver passes fixes that fail elsewhere (a recheck that holds with one
driver and not another; a stale plain load that only `mixed` shows).

A finding with the patches fails the check when its code is code the
patches touch (its innermost tree frame is in a file they change) or when the hunt without
them did not show it (a new finding).  A finding that shows with and
without the patches in code they do not touch is listed, not failed: it is
the tree's, not the fix's (6.1's pmd_alloc TOCTOU under a walker fix).
What was not covered is listed with the verdict.

Every cell says its build model (pywalk/variant/model.py): ``native``
(pud_val() a field read, PARAVIRT_XXL=n) or ``xxl`` (a pv call, as Debian's
x86 build); with both models run, a failure that shows in one only is
reported as such (model_lines()).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from pywalk.hunt import clients, compare, stress
from pywalk.hunt.races import race_name
from pywalk.variant import runtime
from pywalk.variant import model as build_model

# the tree's own walks that a process reaches (read /proc/PID/..., mincore()),
# tried in every scenario with walker threads, where the tree has them
TREE_WALKS = tuple(w for w in runtime.TREE_CLIENTS if not w.startswith("dirty"))
DRIVER_ORDER = ("write-notify", "dax", "vfio")
MODEL_NOTES = {
    "native": "model native: x86-64 with native pud_val() (PARAVIRT_XXL=n): gcc may reuse a "
              "plain page-table load across a marked re-check",
    "xxl": "model xxl: pud_val() & co a pv call with a \"memory\" clobber, as Debian's x86 "
           "build (PARAVIRT_XXL=y): a use after a re-check reloads the entry"}
MODEL = MODEL_NOTES["native"]


def model_notes(models) -> list[str]:
    """What the models run say, and what the models not run leave open."""
    out = [f"{MODEL_NOTES[m]} (run)" for m in models]
    out += [f"{build_model.describe(m)}: not run (--model {m} or both)"
            for m in build_model.MODELS if m not in models]
    return out


@dataclass
class Cell:
    scenario: str
    walker: str | None
    driver: str | None
    instrumented: bool
    model: str = "native"                           # the build model (variant/model.py)
    with_: list = field(default_factory=list)       # findings with the patches
    without: list = field(default_factory=list)     # and without
    ops: tuple[int, int] = (0, 0)
    # what the hunts without the patches showed in any cell (share_baseline()):
    # a cell's time-bounded hunt may miss what the tree shows elsewhere
    seen_without: frozenset = frozenset()

    @property
    def label(self) -> str:
        return (f"{self.scenario} [{self.walker or 'default'} x {self.driver or 'write-notify'}"
                f"{', instrumented' if self.instrumented else ''}"
                f"{', model ' + self.model if self.model != 'native' else ''}]")


def touched(patches) -> set[str]:
    """The tree files the patches change (both strip levels' names)."""
    out: set[str] = set()
    for p in patches:
        for fp in p.files:
            out.update(fp.names(1) + fp.names(0))
    return out


def innermost_tree_file(finding) -> str | None:
    """The tree file of the innermost frame that is the tree's (not shim/ or csrc/)."""
    for frame in finding.backtrace:
        parts = frame.split(" ")
        if len(parts) < 2 or parts[0] == "??":
            continue
        path = parts[1].rsplit(":", 1)[0]
        if not path.startswith(("shim/", "csrc/", "<")) and "/shim/" not in path:
            return path
    return None


def in_touched_code(finding, files: set[str]) -> bool:
    """Did the finding happen in a file the patches change (its innermost tree frame)?"""
    path = innermost_tree_file(finding)
    return path is not None and any(
        path == f or path.endswith("/" + f) or f.endswith("/" + path) for f in files)


UNMODELLED = "which the shim does not model"     # shim/include/pywalk/mm_late.h


def unmodelled(finding) -> bool:
    """A BUG where the harness drove the tree into code the shim does not
    model: a gap in coverage, not the kernel's doing."""
    return UNMODELLED in finding.message


def share_baseline(cells: list[Cell]) -> None:
    """Let every cell know what the tree without the patches showed anywhere."""
    seen = frozenset(compare.name(f) for c in cells for f in c.without)
    for c in cells:
        c.seen_without = seen


def failing(cell: Cell, files: set[str]) -> list:
    """The cell's findings with the patches that fail the check: in code the
    patches change, or new (never seen without them in any cell, and no
    known race); never a harness gap (unmodelled())."""
    before = cell.seen_without | {compare.name(f) for f in cell.without}
    return [f for f in cell.with_ if not unmodelled(f) and (
        in_touched_code(f, files)
        # new: unseen without the patches, and no known race of the tree
        # (a rare one, such as the pmd_alloc TOCTOU, may miss a short hunt)
        or (compare.name(f) not in before and race_name(f) is None))]


def gaps(cells: list[Cell]) -> list[str]:
    """The unmodelled code the hunts reached, for "not covered"."""
    names = sorted({f.message.split("reached ", 1)[-1].split("(", 1)[0]
                    for c in cells for f in c.with_ + c.without if unmodelled(f)})
    return [f"{n}(): reached, but the shim does not model it (the hunts there stopped)"
            for n in names]


def plan(patched: dict, base: dict, scenarios=None) -> tuple[list[Cell], list[str]]:
    """Cells for the variants (keyed by instrumented, or by (instrumented,
    model)), and what is not covered (scenarios: only these, and the rest
    listed as not covered)."""
    cells, skipped = [], []
    for name in stress.SCENARIOS:
        if scenarios and name not in scenarios:
            skipped.append(f"scenario {name}: left out (--scenario)")
    v = patched[min(patched)]
    drivers = []
    for d in DRIVER_ORDER:
        why = clients.unavailable(v, None, None if d == "write-notify" else d)
        if why:
            skipped.append(f"driver {d}: {why}")
        else:
            drivers.append(None if d == "write-notify" else d)
    walks = []
    for w in TREE_WALKS:
        why = clients.unavailable(v, w, None)
        if why:
            skipped.append(f"walker {w}: {why}")
        else:
            walks.append(w)
    for name, sc in stress.SCENARIOS.items():
        if scenarios and name not in scenarios:
            continue
        has_walkers = any(g.split("/")[0] == "walker" for g in sc.roles)
        for driver in drivers:
            for walker in [None] + (walks if has_walkers else []):
                for k in sorted(patched):
                    inst, model = k if isinstance(k, tuple) else (k, "native")
                    cells.append(Cell(name, walker, driver, inst, model))
    return cells, skipped


def run_cell(cell: Cell, patched: dict, base: dict, *, seconds: float, ops: int,
             seed: int) -> Cell:
    k = (cell.instrumented, cell.model) if (cell.instrumented, cell.model) in patched \
        else cell.instrumented
    sides = [(patched[k], "with_")]
    if base[k] is not patched[k]:       # no patches: the tree as shipped, once
        sides.append((base[k], "without"))
    for variant, side in sides:
        r = stress.run(variant, cell.scenario, seconds=seconds, ops=ops, seed=seed,
                       keep_going=True, walker=cell.walker, driver=cell.driver)
        setattr(cell, side, r.findings)
        if r.interrupted:
            raise KeyboardInterrupt
        cell.ops = (r.ops, cell.ops[1]) if side == "with_" else (cell.ops[0], r.ops)
    if len(sides) == 1:         # the tree as shipped: its findings are its own
        cell.without, cell.ops = cell.with_, (cell.ops[0], cell.ops[0])
    return cell


def race_lines(cells: list[Cell], files: set[str]) -> list[tuple[str, int, int, bool]]:
    """Per known race (or finding by frames): without, with, and whether it fails."""
    before = Counter(compare.name(f) for c in cells for f in c.without)
    after = Counter(compare.name(f) for c in cells for f in c.with_)
    bad = {compare.name(f) for c in cells for f in failing(c, files)}
    return [(n, before[n], after[n], n in bad) for n in sorted(before.keys() | after.keys())]


def line(name: str, without: int, with_: int, bad: bool) -> str:
    if with_ == 0:
        tail = "" if without else " (not seen)"
    elif bad:
        tail = ": NOT FIXED" if without else ": NEW with the patches"
    else:
        tail = ": in code the patches do not touch (the tree's, not the fix's)"
    return f"{name}: {without} finding(s) without the patches -> {with_} with{tail}"


def model_lines(cells: list[Cell], files: set[str]) -> list[str]:
    """With both models run: each failing finding, and whether the hunts with the
    patches showed it in one model only (not merely failed in one: a finding
    that fails in one cell of a model and shows in the other is in both)."""
    models = sorted({c.model for c in cells})
    if len(models) < 2:
        return []
    bad = {compare.name(f) for c in cells for f in failing(c, files)}
    seen = {m: {compare.name(f) for c in cells if c.model == m for f in c.with_} for m in models}
    out = []
    for n in sorted(bad):
        where = [m for m in models if n in seen[m]]
        if len(where) == 1:
            other = [m for m in models if m != where[0]]
            out.append(f"{n}: only in model {where[0]}: real on kernels built with "
                       f"{build_model.MODELS[where[0]]}; not seen with "
                       f"{', '.join(build_model.MODELS[m] for m in other)}")
        else:
            out.append(f"{n}: in every model ({', '.join(where)})")
    return out
