# SPDX-License-Identifier: GPL-2.0-only
"""The harness's constants, read from C: one definition, in csrc/pywalk_api.h.

Python needs several tables at import time, before any variant is built
(command-line choices, delay sites), so instead of a loaded variant's
``lib.PW_*`` this module reads the shipped headers once, with tree-sitter-c:
every ``#define PW_X <integer>`` and every enumerator named ``PW_*`` of
csrc/pywalk_api.h and of shim/include/pywalk/report.h (enum pw_oops_kind).
cffi compiles the same headers into each variant, so ``lib.PW_X`` is the
same value (tests/test_consts.py checks it, and that no other C file defines
these names again).

Names: a table is the constants of one prefix (``group("PW_SITE_")``),
ordered by value; the Python name of a constant is its C name without that
prefix, lower-cased (``PW_SITE_FAULT_RETURN`` is "fault_return",
``PW_LEVEL_PUD`` "pud", ``PW_CB_PTE_HOLE`` "pte_hole"), with "_" turned into
"-" where the table is user-facing with dashes (``dash=True``:
``PW_DRIVER_WRITE_NOTIFY`` is "write-notify"); report kinds keep upper case
(``PW_OOPS_DATA_RACE`` is "DATA-RACE").  Limits and counts such as
``PW_NR_SITES`` or ``PW_MAX_WARNS`` carry another prefix and so belong to no
table.  A table whose user-facing names follow no such rule (walkers:
"count-numa" is ``PW_WALK_NUMA_MAPS``) maps its names to C names
(``named()``), and a test checks that it names every C value of its prefix
once.
"""

from __future__ import annotations

import re
from pathlib import Path

from pywalk.assets import asset_dir
from pywalk.errors import BuildError

HEADERS = (asset_dir("csrc") / "pywalk_api.h",
           asset_dir("shim") / "include/pywalk/report.h")   # enum pw_oops_kind
_INT = re.compile(r"\s*(-?(?:0[xX][0-9a-fA-F]+|\d+))[uUlL]*\s*(?:/[/*].*)?$", re.S)


def _int(text: str, where: str) -> int:
    m = _INT.match(text)
    if not m:
        raise BuildError(f"pywalk: {where}: a shared constant must be an integer literal, "
                         f"not {text.strip()!r}")
    return int(m.group(1), 0)


def _definitions(text: str, prefix: str):
    """(name, value text or None, enumerator?) of every #define and
    enumerator of C text, in order, by tree-sitter-c."""
    import tree_sitter
    import tree_sitter_c

    parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    stack = [parser.parse(text.encode()).root_node]
    while stack:
        node = stack.pop()
        if node.type == "preproc_def":
            value = node.child_by_field_name("value")
            yield (node.child_by_field_name("name").text.decode(),
                   None if value is None else value.text.decode(), False)
        elif node.type == "enumerator":
            value = node.child_by_field_name("value")
            yield (node.child_by_field_name("name").text.decode(),
                   None if value is None else value.text.decode(), True)
        elif node.type == "enumerator_list":
            yield None, None, True          # an enum begins: counting from 0
        stack.extend(reversed(node.children))


def defined_names(text: str, prefix: str = "PW_") -> set[str]:
    """The names prefix* that C text defines (#define or enumerator), whatever their value."""
    return {n for n, _, _ in _definitions(text, prefix) if n and n.startswith(prefix)}


def read(text: str, where: str = "header", prefix: str = "PW_") -> dict[str, int]:
    """The prefix* integer #defines and enumerators of C text, in their order."""
    out: dict[str, int] = {}
    nxt: int | None = 0                     # an enumerator's implicit value; None: unknown
    for n, v, enumerator in _definitions(text, prefix):
        mine = n is not None and n.startswith(prefix)
        if n is None:
            nxt = 0
        elif not enumerator:
            if mine and v is not None:
                out[n] = _int(v, f"{where}: {n}")
        else:
            if v is not None:
                m = _INT.match(v)
                nxt = _int(v, f"{where}: {n}") if mine else int(m.group(1), 0) if m else None
            if mine:
                if nxt is None:
                    raise BuildError(f"pywalk: {where}: {n} follows a value that is no literal")
                out[n] = nxt
            nxt = None if nxt is None else nxt + 1
    return out


def _read_all(paths) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in paths:
        for n, v in read(Path(p).read_text(), str(p)).items():
            if n in out:
                raise BuildError(f"pywalk: {p}: {n} is defined twice")
            out[n] = v
    return out


C: dict[str, int] = _read_all(HEADERS)


def group(prefix: str, *, dash: bool = False, upper: bool = False) -> dict[str, int]:
    """{python name: value} of the constants named prefix*, ordered by value."""
    items = sorted(((n, v) for n, v in C.items() if n.startswith(prefix)), key=lambda nv: nv[1])
    if not items:
        raise BuildError(f"pywalk: no {prefix}* constant in {', '.join(map(str, HEADERS))}")
    out = {}
    for n, v in items:
        name = n[len(prefix):]
        name = name if upper else name.lower()
        out[name.replace("_", "-") if dash else name] = v
    return out


def named(prefix: str, names: dict[str, str]) -> dict[str, int]:
    """{python name: value} for a table whose names follow no rule:
    names maps each Python name to its C name without prefix."""
    try:
        return {k: C[prefix + c] for k, c in names.items()}
    except KeyError as e:
        raise BuildError(f"pywalk: {e.args[0]} is not in {HEADERS[0]}") from None


def sequence(prefix: str) -> tuple[str, ...]:
    """The names of group(prefix), which must number 0, 1, 2, ... (index = value)."""
    g = group(prefix)
    if list(g.values()) != list(range(len(g))):
        raise BuildError(f"pywalk: {prefix}* must number 0, 1, 2, ... : {g}")
    return tuple(g)


# ---- the tables (pywalk.variant.runtime re-exports them) ----
# a bit per struct mm_walk_ops member: PW_CB_PGD_ENTRY .. PW_CB_PTE_HOLE
CALLBACKS = group("PW_CB_")
# ours (csrc/walkers.c: count-*, pmd_pte) and the tree's own clients (csrc/clients.c):
# user-facing names that follow no rule (tests/test_consts.py: every PW_WALK_* once)
WALKERS = named("PW_WALK_", {
    "count": "COUNT", "count-numa": "NUMA_MAPS", "count-dirty": "DIRTY", "python": "PYTHON",
    "pmd_pte": "PMD_PTE", "numa_maps": "TREE_NUMA_MAPS", "dirty": "TREE_DIRTY",
    "dirty-clean": "TREE_CLEAN", "smaps": "TREE_SMAPS", "pagemap": "TREE_PAGEMAP",
    "mincore": "TREE_MINCORE"})
TREE_CLIENTS = ("numa_maps", "dirty", "dirty-clean", "smaps", "pagemap", "mincore")
# huge-fault drivers: ours (write faults on a write-notify mapping fall back)
# and the tree's (csrc/clients.c): PW_DRIVER_WRITE_NOTIFY is "write-notify"
DRIVERS = group("PW_DRIVER_", dash=True)
# page-table levels, enum pw_level (numbered as the kernel's enum pgtable_level)
_LEVEL = group("PW_LEVEL_")
LEVELS = {v: k for k, v in _LEVEL.items()}              # pw_lookup()'s level: its name
# MM.map(huge=...): the largest leaf a mapping allows (True: a PUD leaf)
HUGE_LEVELS = {True: _LEVEL["pud"], "pud": _LEVEL["pud"], "pmd": _LEVEL["pmd"],
               False: _LEVEL["pte"], None: _LEVEL["pte"], "pte": _LEVEL["pte"]}
STATES = {v: k for k, v in group("PW_STATE_").items()}  # pw_lookup()'s state: its name
ERR_OOPS, ERR_PANIC, ERR_TAINTED, ERR_NOVMA = (C[f"PW_ERR_{n}"]
                                               for n in ("OOPS", "PANIC", "TAINTED", "NOVMA"))
# the roles a user names; PW_ROLE_ABBA (a deadlock, tests only) is left out
TEST_ROLES = ("abba",)
ALL_ROLES = group("PW_ROLE_")
ROLES = {k: v for k, v in ALL_ROLES.items() if k not in TEST_ROLES}
ROLE_NAMES = {v: k for k, v in ALL_ROLES.items()}
SELFTESTS = group("PW_SELFTEST_", dash=True)   # "bug", "warn", "use-after-free"
# where a shim hook sits, enum pw_site: a site's index is its C value (the
# delay arrays and the scheduler's site mask, bit 1 << index)
SITES = sequence("PW_SITE_")
# a report's kind, enum pw_oops_kind (shim/include/pywalk/report.h): "DATA-RACE"
OOPS_KINDS = {v: k for k, v in group("PW_OOPS_", dash=True, upper=True).items() if v}
SCHED_KINDS = group("PW_SCHED_")                      # "pct", "random", "replay"
