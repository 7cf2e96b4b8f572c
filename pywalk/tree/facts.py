# SPDX-License-Identifier: GPL-2.0-only
"""Facts about a kernel tree's API that the shim adapts to.

Each fact is read from the tree's own headers and sources (never from the
version number) and becomes a ``PW_TREE_*`` macro at the top of the
generated translation unit, before the shim: shim/include/pywalk/*.h and
csrc/*.c test them with ``#if``.  pywalk/variant/manifest.py's ``REQUIRED_IF`` uses
them too, to decide which symbols the tree must supply.
"""

from __future__ import annotations

import re
from typing import Callable

# files the facts are read from (builder reads them too)
READS = ("include/linux/mm.h", "include/linux/pagewalk.h", "include/linux/pgtable.h",
         "include/linux/huge_mm.h", "include/linux/mmu_notifier.h", "mm/pgtable-generic.c")


def _has(pattern: str, text: str) -> int:
    return 1 if re.search(pattern, text, re.S) else 0


def detect(read: Callable[[str], str | None]) -> dict[str, int]:
    """PW_TREE_* macro values for the (patched) tree behind read()."""
    mm_h = read("include/linux/mm.h") or ""
    pagewalk_h = read("include/linux/pagewalk.h") or ""
    pgtable_h = read("include/linux/pgtable.h") or ""
    huge_mm_h = read("include/linux/huge_mm.h") or ""
    mmu_notifier_h = read("include/linux/mmu_notifier.h") or ""
    pgtable_generic = read("mm/pgtable-generic.c") or ""
    return {
        # vm_operations_struct.huge_fault(vmf, unsigned int order) since 6.6,
        # (vmf, enum page_entry_size) before.
        "PW_TREE_HUGE_FAULT_ORDER": _has(r"\(\*huge_fault\)\s*\([^)]*unsigned int order", mm_h),
        # struct mm_walk_ops.walk_lock (6.6+): walkers must say how they lock.
        "PW_TREE_WALK_LOCK": _has(r"enum page_walk_lock\s+walk_lock", pagewalk_h),
        # __pte_offset_map_lock() in mm/pgtable-generic.c (6.5+): may return NULL.
        "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": _has(r"__pte_offset_map_lock\s*\(", pgtable_generic),
        # thp_vma_allowable_order(s)() / __thp_vma_allowable_orders() (6.8+)
        # instead of hugepage_vma_check().
        "PW_TREE_THP_ALLOWABLE_ORDERS": _has(r"\b__thp_vma_allowable_orders\s*\(", huge_mm_h),
        # pte_mkwrite(pte, vma) / pmd_mkwrite(pmd, vma) (6.6+), the old
        # one-argument form renamed pte_mkwrite_novma().
        "PW_TREE_MKWRITE_VMA": _has(
            r"\bpte_mkwrite\s*\(\s*pte_t\s+\w+\s*,\s*struct\s+vm_area_struct", pgtable_h),
        # mmu_notifier_range_init(range, event, flags, vma, mm, start, end)
        # before 6.3; (range, event, flags, mm, start, end) since.
        "PW_TREE_MMU_RANGE_INIT_VMA": _has(
            r"\bmmu_notifier_range_init\s*\([^)]*struct\s+vm_area_struct\s*\*", mmu_notifier_h),
        # __pte_offset_map() in mm/pgtable-generic.c (6.5+): pte_offset_map() wraps it.
        "PW_TREE_PTE_OFFSET_MAP_FN": _has(r"(?m)^pte_t\s*\*\s*__pte_offset_map\s*\(",
                                          pgtable_generic),
        # MADV_DONTNEED's zap is zap_vma_range(vma, addr, size) (7.x), not
        # zap_page_range_single(vma, addr, size, details).
        "PW_TREE_ZAP_VMA_RANGE": _has(r"\bvoid\s+zap_vma_range\s*\(", mm_h),
        # vmf_insert_pfn_pud/pmd() take a pfn_t (before 7.x) or an unsigned long pfn.
        "PW_TREE_INSERT_PFN_T": _has(r"\bvmf_insert_pfn_pud\s*\([^)]*\bpfn_t\b", huge_mm_h),
        # the THP policy's caller is an enum tva_type (7.x), not TVA_* flag bits.
        "PW_TREE_TVA_TYPE": _has(r"\benum\s+tva_type\s*\{", huge_mm_h),
    }


def render(facts: dict[str, int]) -> str:
    return "".join(f"#define {k} {v}\n" for k, v in sorted(facts.items()))


_KEYWORDS = {"return", "if", "while", "for", "switch", "sizeof", "else", "case", "do",
             "typeof", "__typeof__", "defined"}


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


_STRIPPED: dict[int, tuple[str, str]] = {}


def _clean(text: str) -> str:
    """text without comments (memoised by identity: trees are read once)."""
    hit = _STRIPPED.get(id(text))
    if hit is None or hit[0] is not text:
        hit = (text, _strip_comments(text))
        _STRIPPED[id(text)] = hit
    return hit[1]


def _defines_in(text: str, name: str, member: str | None) -> bool:
    n = re.escape(name)
    if member is not None:
        # struct/union NAME { ... member ... }
        for m in re.finditer(rf"\b(?:struct|union)\s+{n}\s*\{{", text):
            depth, i = 0, m.end() - 1
            for i in range(m.end() - 1, len(text)):
                depth += {"{": 1, "}": -1}.get(text[i], 0)
                if depth == 0:
                    break
            if re.search(rf"\b{re.escape(member)}\b", text[m.end():i]):
                return True
        return False
    if re.search(rf"(?m)^\s*#\s*define\s+{n}\b", text):
        return True
    if re.search(rf"\b(?:struct|union|enum)\s+{n}\s*\{{", text):
        return True
    if re.search(rf"\btypedef\b[^;]*\b{n}\s*(?:\[[^\]]*\])?;", text):
        return True
    # an enumerator: NAME followed by '=' or ',' or '}' at the start of a line
    if re.search(rf"(?m)^\s*{n}\s*(?:=[^,}}\n]*)?[,}}\n]", text):
        return True
    # a function declared or defined: a type word (or '*') right before NAME(
    for m in re.finditer(rf"(\w+|\*)\s*\b{n}\s*\(", text):
        if m.group(1) not in _KEYWORDS:
            return True
    return False


def tree_defines(files: dict[str, str], name: str, member: str | None = None) -> bool:
    """Does any of the tree's files define (or declare) name -- a function,
    macro, type, enumerator -- or, with member, a struct/union name with
    that member?  Read from the (patched) text, comments ignored."""
    return any(_defines_in(_clean(t), name, member) for t in files.values())
