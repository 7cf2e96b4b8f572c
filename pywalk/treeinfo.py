# SPDX-License-Identifier: GPL-2.0-only
"""Facts about a kernel tree's API that the shim adapts to.

Each fact is read from the tree's own headers and sources (never from the
version number) and becomes a ``PW_TREE_*`` macro in the generated
translation unit.
"""

from __future__ import annotations

import re
from typing import Callable


def _has(pattern: str, text: str) -> int:
    return 1 if re.search(pattern, text, re.S) else 0


def detect(read: Callable[[str], str | None]) -> dict[str, int]:
    """PW_TREE_* macro values for the (patched) tree behind read()."""
    mm_h = read("include/linux/mm.h") or ""
    pagewalk_h = read("include/linux/pagewalk.h") or ""
    pgtable_generic = read("mm/pgtable-generic.c") or ""
    return {
        # vm_operations_struct.huge_fault(vmf, unsigned int order) since 6.6,
        # (vmf, enum page_entry_size) before.
        "PW_TREE_HUGE_FAULT_ORDER": _has(r"\(\*huge_fault\)\s*\([^)]*unsigned int order", mm_h),
        # struct mm_walk_ops.walk_lock (6.6+): walkers must say how they lock.
        "PW_TREE_WALK_LOCK": _has(r"enum page_walk_lock\s+walk_lock", pagewalk_h),
        # __pte_offset_map_lock() in mm/pgtable-generic.c (6.5+): may return NULL.
        "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": _has(r"__pte_offset_map_lock\s*\(", pgtable_generic),
    }


def render(facts: dict[str, int]) -> str:
    return "".join(f"#define {k} {v}\n" for k, v in sorted(facts.items()))
