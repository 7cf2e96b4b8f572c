# SPDX-License-Identifier: GPL-2.0-only
"""What each variant takes from the kernel tree.

One grep tells where a kernel symbol comes from: a name listed here is
sliced verbatim from the (patched) tree; anything else the compiled code
uses is defined in shim/ with a comment naming its kernel counterpart.

``WHOLE`` files are compiled unmodified and entire.  ``SLICES`` are taken
per symbol; a symbol absent from a file is skipped there, but every name in
``REQUIRED`` must be found in at least one file (else a SliceError names it
and the files searched).  Order matters only between groups: types first,
then header helpers, then .c functions (their prototypes come first, so
order within .c files does not).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Take:
    relpath: str
    names: tuple[str, ...]
    group: str  # "types", "helpers" or "functions"


WHOLE = ("mm/pagewalk.c",)

SLICES: tuple[Take, ...] = (
    # -- types the races' code is written against ---------------------------
    Take("include/linux/mm_types.h", ("vm_fault_t", "vm_fault_reason", "fault_flag"), "types"),
    Take("include/linux/mm.h", ("vm_fault", "page_entry_size"), "types"),
    Take("include/linux/pagewalk.h",
         ("page_walk_lock", "mm_walk_ops", "page_walk_action", "mm_walk"), "types"),
    # -- header helpers: the checks and lock/alloc wrappers the races are about
    Take("include/linux/pgtable.h", (
        "pgd_addr_end", "p4d_addr_end", "pud_addr_end", "pmd_addr_end",
        "pgd_none_or_clear_bad", "p4d_none_or_clear_bad", "pud_none_or_clear_bad",
        "pud_none_or_trans_huge_or_dev_or_clear_bad", "pud_trans_unstable",
        "pmd_read_atomic", "pmd_none_or_trans_huge_or_clear_bad", "pmd_trans_unstable",
        "pmd_devmap_trans_unstable", "arch_needs_pgtable_deposit",
    ), "helpers"),
    Take("include/linux/mm.h", (
        "p4d_alloc", "pud_alloc", "pmd_alloc", "pud_lock", "pmd_lock",
        "pte_offset_map_lock", "pte_unmap_unlock", "vma_is_special_huge",
    ), "helpers"),
    Take("include/linux/huge_mm.h", (
        "is_swap_pmd", "split_huge_pud", "split_huge_pmd", "pud_trans_huge_lock",
        "pmd_trans_huge_lock", "vmf_insert_pfn_pud", "vmf_insert_pfn_pmd",
    ), "helpers"),
    # -- the fault, alloc, split and zap paths --------------------------------
    Take("mm/memory.c", (
        "__handle_mm_fault", "create_huge_pud", "wp_huge_pud", "__pud_alloc",
        "__pmd_alloc", "create_huge_pmd", "wp_huge_pmd",
    ), "functions"),
    Take("mm/huge_memory.c", (
        "__pud_trans_huge_lock", "__pmd_trans_huge_lock",
        "__split_huge_pud", "__split_huge_pud_locked",
        "maybe_pud_mkwrite", "insert_pfn_pud", "vmf_insert_pfn_pud_prot", "vmf_insert_pfn_pud",
        "touch_pud", "huge_pud_set_accessed",
        "maybe_pmd_mkwrite", "insert_pfn_pmd", "vmf_insert_pfn_pmd_prot", "vmf_insert_pfn_pmd",
        "touch_pmd", "huge_pmd_set_accessed",
        "__split_huge_pmd", "__split_huge_pmd_locked", "zap_huge_pud",
    ), "functions"),
)

# Names that must come from the tree (in at least one of the files above).
REQUIRED = (
    "vm_fault_t", "vm_fault", "mm_walk_ops", "mm_walk", "page_walk_action",
    "pud_addr_end", "pmd_addr_end", "pud_alloc", "pmd_alloc", "pud_lock", "pmd_lock",
    "split_huge_pud", "split_huge_pmd", "pud_trans_huge_lock",
    "__handle_mm_fault", "create_huge_pud", "wp_huge_pud", "__pud_alloc", "__pmd_alloc",
    "create_huge_pmd", "wp_huge_pmd",
    "__pud_trans_huge_lock", "__split_huge_pud", "__split_huge_pud_locked", "insert_pfn_pud",
    "vmf_insert_pfn_pud", "huge_pud_set_accessed", "insert_pfn_pmd", "vmf_insert_pfn_pmd",
    "huge_pmd_set_accessed", "__split_huge_pmd", "__split_huge_pmd_locked",
)

GROUP_ORDER = ("types", "helpers", "functions")


def files_used() -> list[str]:
    """Every tree file a build reads, whole files first."""
    seen: list[str] = list(WHOLE)
    for take in SLICES:
        if take.relpath not in seen:
            seen.append(take.relpath)
    return seen
