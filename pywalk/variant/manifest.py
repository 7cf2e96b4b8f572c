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

Trees differ in which symbols they have (6.1 has ``hugepage_vma_check()``,
6.12 ``__thp_vma_allowable_orders()``; 6.12 has ``__pte_offset_map_lock()``
in mm/pgtable-generic.c).  SLICES lists the names of every supported tree;
which set a tree must supply is decided by facts read from the tree itself
(``pywalk/tree/facts.py``), never by its version number: ``REQUIRED_IF`` maps
a fact and its value to the names that must then be found.
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
    Take("include/linux/mm_types.h", ("vm_fault_t", "vm_fault_reason", "fault_flag",
                                      "zap_flags_t",
                                      # the THP-disable mm flags (7.x)
                                      "MMF_DISABLE_THP_EXCEPT_ADVISED",
                                      "MMF_DISABLE_THP_COMPLETELY", "MMF_DISABLE_THP_MASK"),
         "types"),
    # which level a fault or an rmap call is about (7.x: fix_spurious_fault())
    Take("include/linux/pgtable.h", ("pgtable_level",), "types"),
    Take("include/linux/mm.h", ("vm_fault", "page_entry_size",
                                # MADV_DONTNEED's zap_page_range_single() and its callees
                                "zap_details", "ZAP_FLAG_DROP_MARKER", "ZAP_FLAG_UNMAP"), "types"),
    Take("include/linux/pagewalk.h",
         ("page_walk_lock", "mm_walk_ops", "page_walk_action", "mm_walk",
          # folio_walk_start() (6.12 mm/pagewalk.c; never called here)
          "folio_walk_flags_t", "FW_MIGRATION", "FW_ZEROPAGE", "folio_walk_level",
          "folio_walk", "folio_walk_end"), "types"),
    Take("include/linux/huge_mm.h", ("transparent_hugepage_flag",
                                     # the THP policy's caller kind (7.x: enum tva_type)
                                     "tva_type"), "types"),
    # insert_pud()/insert_pmd()'s argument (7.x; passed by value, so a type)
    Take("mm/huge_memory.c", ("folio_or_pfn",), "types"),
    # madvise()'s per-call state (7.x): what madvise_dontneed_free() is handed
    Take("mm/madvise.c", ("madvise_lock_mode", "madvise_behavior_range", "madvise_behavior"),
         "types"),
    # -- header helpers: the checks and lock/alloc wrappers the races are about
    Take("include/linux/pgtable.h", (
        "PMD_ORDER", "PUD_ORDER", "pmd_pgtable",
        "pte_offset_map", "__pte_map", "pte_unmap",
        "ptep_get_lockless", "pmdp_get_lockless",
        "pmdp_huge_get_and_clear_full", "pudp_huge_get_and_clear_full",
        "pgd_addr_end", "p4d_addr_end", "pud_addr_end", "pmd_addr_end",
        "pgd_none_or_clear_bad", "p4d_none_or_clear_bad", "pud_none_or_clear_bad",
        "pmd_none_or_clear_bad",    # free_pmd_range()
        "pud_none_or_trans_huge_or_dev_or_clear_bad", "pud_trans_unstable",
        "pmd_read_atomic", "pmd_none_or_trans_huge_or_clear_bad", "pmd_trans_unstable",
        "pmd_devmap_trans_unstable", "arch_needs_pgtable_deposit",
        # what the zap path (zap_pte_range() & co) clears entries with
        "ptep_get_and_clear_full", "pte_clear_not_present_full",
        "get_and_clear_full_ptes", "clear_full_ptes", "clear_not_present_full_ptes",
        "arch_enter_lazy_mmu_mode", "arch_leave_lazy_mmu_mode",
        # 7.x: the generic lazy-MMU section around zap_pte_range()'s loop
        "lazy_mmu_mode_enable", "lazy_mmu_mode_disable", "clear_nonpresent_ptes",
    ), "helpers"),
    Take("include/linux/mm.h", (
        "p4d_alloc", "pud_alloc", "pmd_alloc", "pud_lock", "pmd_lock",
        "pte_offset_map", "pte_offset_map_lock", "pte_unmap_unlock", "vma_is_special_huge",
        "vma_is_temporary_stack", "vma_can_grow", "vma_is_cow_mapping", "range_in_vma",
        "vma_start_pgoff", "range_is_subset", "vma_flags_can_grow", "vma_flags_is_cow_mapping",
        # folio <-> pfn and folio -> huge entry: what the 7.x folio-insert
        # path (insert_pud()/insert_pmd() with a folio) and device-dax use
        "folio_pfn", "pfn_folio", "folio_mk_pmd", "folio_mk_pud",
    ), "helpers"),
    # what *_clear_bad() reports a corrupt entry with (x86-64: pr_err())
    Take("arch/x86/include/asm/pgtable_64.h", ("pud_ERROR", "pmd_ERROR"), "helpers"),
    # zap_pmd_range() waits for a concurrent zap_huge_pmd() (7.x)
    Take("mm/internal.h", ("sync_with_folio_pmd_zap",), "helpers"),
    Take("include/linux/huge_mm.h", (
        "is_swap_pmd", "split_huge_pud", "split_huge_pmd", "pud_trans_huge_lock",
        "pmd_trans_huge_lock", "vmf_insert_pfn_pud", "vmf_insert_pfn_pmd",
        # the THP policy the fault path asks (hugepage_vma_check() in 6.1,
        # thp_vma_allowable_order() in 6.12), and what it calls
        "hugepage_flags_enabled", "hugepage_flags_always", "transhuge_vma_suitable",
        "TVA_SMAPS", "TVA_IN_PF", "TVA_ENFORCE_SYSFS",
        "THP_ORDERS_ALL_ANON", "THP_ORDERS_ALL_SPECIAL", "THP_ORDERS_ALL_FILE_DEFAULT",
        "THP_ORDERS_ALL", "thp_vma_allowable_order", "thp_vma_allowable_orders",
        "hugepage_global_enabled", "hugepage_global_always", "highest_order", "next_order",
        "thp_vma_suitable_order", "file_thp_enabled", "vma_thp_disabled", "thp_disabled_by_hw",
        "THP_ORDERS_ALL_SPECIAL_DAX", "pmd_is_huge",
    ), "helpers"),
    # -- the fault, alloc, split and zap paths --------------------------------
    Take("mm/memory.c", (
        "__handle_mm_fault", "create_huge_pud", "wp_huge_pud", "__pud_alloc",
        "__pmd_alloc", "create_huge_pmd", "wp_huge_pmd",
        # the zap path MADV_DONTNEED takes (zap_page_range_single()), whole
        # down to the ptes: 6.1 has should_zap_page(), 6.12 should_zap_folio()
        # and the batched zap_present_ptes()/zap_present_folio_ptes()
        "zap_page_range_single", "unmap_single_vma", "unmap_page_range",
        # ... which 7.x calls zap_vma_range() -> zap_vma_range_batched() -> __zap_vma_range()
        "zap_vma_range", "zap_vma_range_batched", "__zap_vma_range",
        "zap_p4d_range", "zap_pud_range", "zap_pmd_range", "zap_pte_range",
        "zap_present_ptes", "zap_present_folio_ptes",
        "should_zap_cows", "should_zap_page", "should_zap_folio",
        "zap_drop_file_uffd_wp", "zap_install_uffd_wp_if_needed",
        "init_rss_vec", "add_mm_rss_vec",
        # decides that our devmap/special ptes have no struct page
        "vm_normal_page", "__vm_normal_page",
        # ... and at the PMD/PUD level (zap_huge_pmd() asks it in 7.x)
        "vm_normal_page_pmd", "vm_normal_folio_pmd", "vm_normal_page_pud",
        # 7.x: the zap path's pte-table helpers and the fault path's spurious fix-up
        "pte_table_reclaim_possible", "do_zap_pte_range", "zap_empty_pte_table",
        "zap_pte_table_if_empty", "zap_drop_markers", "fix_spurious_fault",
        "zap_nonpresent_ptes", "pgtable_level_has_pxx_special", "cond_install_uffd_wp_ptes",
        # munmap()'s page-table teardown, which the reaper runs (free_pgtables()'s core)
        "free_pgd_range", "free_p4d_range", "free_pud_range", "free_pmd_range", "free_pte_range",
    ), "functions"),
    Take("mm/huge_memory.c", (
        "__pud_trans_huge_lock", "__pmd_trans_huge_lock",
        "__split_huge_pud", "__split_huge_pud_locked",
        "maybe_pud_mkwrite", "insert_pfn_pud", "insert_pud", "vmf_insert_pfn_pud_prot",
        "vmf_insert_pfn_pud",
        "touch_pud", "huge_pud_set_accessed",
        "maybe_pmd_mkwrite", "insert_pfn_pmd", "insert_pmd", "vmf_insert_pfn_pmd_prot",
        "vmf_insert_pfn_pmd",
        "touch_pmd", "huge_pmd_set_accessed",
        "__split_huge_pmd", "split_huge_pmd_locked", "__split_huge_pmd_locked", "zap_huge_pud",
        "zap_huge_pmd",
        "hugepage_vma_check",
        "vma_file_bypass_thp_tuneables", "vma_file_allow_thp_tuneables",
        "vma_file_check_thp_tuneables", "vma_can_map_huge_file", "__thp_vma_allowable_orders",
        # 7.x: static here rather than in a header
        "vma_is_special_huge", "file_thp_enabled",
        "normal_or_softleaf_folio_pmd", "has_deposited_pgtable", "zap_huge_pmd_folio",
        # 7.x: device-dax's folio inserts (into insert_pud()/insert_pmd())
        "vmf_insert_folio_pud", "vmf_insert_folio_pmd",
    ), "functions"),
    # pte_offset_map_lock() is a function here since 6.5, and may return NULL
    Take("mm/pgtable-generic.c", (
        "pmdp_get_lockless_start", "pmdp_get_lockless_end",
        "__pte_offset_map", "__pte_offset_map_lock", "pte_offset_map_rw_nolock",
        # a function of its own (no longer a wrapper in mm.h) in 7.x
        "pte_offset_map_lock",
        # what p?d_none_or_clear_bad() calls on an entry that is neither
        # none nor a table: report it (p?d_ERROR()) and clear it
        "pud_clear_bad", "pmd_clear_bad",
    ), "functions"),
    # MADV_DONTNEED, as madvise_vma_behavior() hands it on: the VMA check
    # (VM_PFNMAP, VM_LOCKED, hugetlb) and the zap (6.x: zap_page_range_single();
    # 7.x: zap_vma_range_batched() on madvise's mmu_gather)
    Take("mm/madvise.c", (
        "madvise_dontneed_single_vma", "madvise_dontneed_free_valid_vma",
        "madvise_dontneed_free", "mark_mmap_lock_dropped",
    ), "functions"),
)

# Names that must come from the tree (in at least one of the files above).
REQUIRED = (
    "vm_fault_t", "vm_fault", "mm_walk_ops", "mm_walk", "page_walk_action",
    "pud_addr_end", "pmd_addr_end", "pud_alloc", "pmd_alloc", "pud_lock", "pmd_lock",
    "pud_trans_unstable",
    "split_huge_pud", "split_huge_pmd", "pud_trans_huge_lock",
    "__handle_mm_fault", "create_huge_pud", "wp_huge_pud", "__pud_alloc", "__pmd_alloc",
    "create_huge_pmd", "wp_huge_pmd",
    "__pud_trans_huge_lock", "__split_huge_pud", "__split_huge_pud_locked",
    "vmf_insert_pfn_pud", "huge_pud_set_accessed", "vmf_insert_pfn_pmd",
    "huge_pmd_set_accessed", "__split_huge_pmd", "__split_huge_pmd_locked",
    "pte_offset_map_lock", "pte_unmap_unlock", "pte_offset_map", "pte_unmap",
    # the zapper (MADV_DONTNEED): the tree's zap path, top to bottom
    "zap_details", "zap_p4d_range", "zap_pud_range", "zap_pmd_range", "zap_pte_range",
    "zap_huge_pud", "zap_huge_pmd", "vm_normal_page", "should_zap_cows",
    # ... entered through madvise(MADV_DONTNEED)'s own check and zap
    "madvise_dontneed_free", "madvise_dontneed_free_valid_vma", "madvise_dontneed_single_vma",
    # a corrupt entry, reported and cleared by the tree
    "pud_clear_bad", "pmd_clear_bad", "pud_ERROR", "pmd_ERROR",
)

# Names a tree must supply when it has an API that pywalk/tree/facts.py detects:
# (facts, names): when every (fact, value) in facts holds, names must be found.
# Each fact is read from the tree's own sources.
REQUIRED_IF: tuple[tuple[tuple[tuple[str, int], ...], tuple[str, ...]], ...] = (
    # pte_offset_map_lock() wraps __pte_offset_map_lock() (mm/pgtable-generic.c)
    ((("PW_TREE_PTE_OFFSET_MAP_LOCK_FN", 1),), ("__pte_offset_map_lock",)),
    ((("PW_TREE_PTE_OFFSET_MAP_FN", 1),), ("__pte_offset_map",)),
    # the zapper: zap_page_range_single() -> unmap_single_vma() -> unmap_page_range() ...
    ((("PW_TREE_ZAP_VMA_RANGE", 0),),
     ("zap_page_range_single", "unmap_single_vma", "unmap_page_range")),
    # ... or zap_vma_range() -> zap_vma_range_batched() -> __zap_vma_range()
    ((("PW_TREE_ZAP_VMA_RANGE", 1),), ("zap_vma_range", "zap_vma_range_batched", "__zap_vma_range")),
    # vmf_insert_pfn_pud/pmd(pfn_t) -> insert_pfn_pud/pmd() ...
    ((("PW_TREE_INSERT_PFN_T", 1),), ("insert_pfn_pud", "insert_pfn_pmd")),
    # ... or vmf_insert_pfn_pud/pmd(unsigned long) -> insert_pud/pmd(folio_or_pfn)
    ((("PW_TREE_INSERT_PFN_T", 0),), ("insert_pud", "insert_pmd", "folio_or_pfn")),
    # the fault path asks thp_vma_allowable_order() ...
    ((("PW_TREE_THP_ALLOWABLE_ORDERS", 1),),
     ("thp_vma_allowable_order", "thp_vma_allowable_orders", "__thp_vma_allowable_orders",
      "PUD_ORDER", "PMD_ORDER")),
    # ... with TVA_* flag bits, or with an enum tva_type caller kind
    ((("PW_TREE_THP_ALLOWABLE_ORDERS", 1), ("PW_TREE_TVA_TYPE", 0)),
     ("TVA_IN_PF", "TVA_ENFORCE_SYSFS")),
    ((("PW_TREE_TVA_TYPE", 1),), ("tva_type",)),
    # madvise hands madvise_dontneed_free() a struct madvise_behavior (7.x)
    ((("PW_TREE_MADVISE_BEHAVIOR", 1),),
     ("madvise_behavior", "madvise_behavior_range", "madvise_lock_mode",
      "mark_mmap_lock_dropped")),
    # ... or, before that, hugepage_vma_check()
    ((("PW_TREE_THP_ALLOWABLE_ORDERS", 0),), ("hugepage_vma_check",)),
)


def required_names(facts: dict[str, int]) -> list[str]:
    """Every name this tree must supply, given its PW_TREE_* facts."""
    names = list(REQUIRED)
    for when, extra in REQUIRED_IF:
        if all(facts.get(fact, 0) == value for fact, value in when):
            names += [n for n in extra if n not in names]
    return names


GROUP_ORDER = ("types", "helpers", "functions")


def files_used() -> list[str]:
    """Every tree file a build reads, whole files first."""
    seen: list[str] = list(WHOLE)
    for take in SLICES:
        if take.relpath not in seen:
            seen.append(take.relpath)
    return seen


# -- the tree's own walk clients and huge-fault drivers -----------------------
# Sliced like the rest, but rendered after the core (fault, split, zap) code,
# each file's definitions under the configuration its kernel build has
# (shim/include/pywalk/clients.h, drivers.h).  A client or driver file the
# source lacks (a partial tree) leaves that client or driver out of the build,
# with a note; a driver function the tree lacks (VFIO huge_fault before 6.12)
# is simply absent: the generated code says which names were found
# (``PW_SLICED_<name>``), and the harness offers only what is there.
CLIENT_SLICES: tuple[Take, ...] = (
    # /proc/PID/numa_maps: show_numa_map() walks each vma with show_numa_ops
    Take("fs/proc/task_mmu.c", (
        "numa_maps", "gather_stats", "can_gather_numa_stats", "can_gather_numa_stats_pmd",
        "gather_pte_stats", "gather_hugetlb_stats", "show_numa_ops",
    ), "clients"),
    # /proc/PID/smaps: show_smap() -> smap_gather_stats() walks each vma with
    # smaps_walk_ops (7.x picks them, or the per-VMA-lock ones, by how the
    # reader locked: get_smaps_walk_ops())
    Take("fs/proc/task_mmu.c", (
        "mem_size_stats", "PSS_SHIFT", "smaps_page_accumulate", "smaps_account",
        "smaps_pte_hole", "smaps_pte_hole_lookup", "smaps_pte_entry", "smaps_pmd_entry",
        "smaps_pte_range", "smaps_hugetlb_range", "smaps_walk_ops", "smaps_shmem_walk_ops",
        "smaps_walk_vma_lock_ops", "smaps_shmem_walk_vma_lock_ops",
    ), "clients"),
    # /proc/PID/pagemap: pagemap_read() walks PAGEMAP_WALK_SIZE windows with pagemap_ops
    Take("fs/proc/task_mmu.c", (
        "pagemap_entry_t", "pagemapread", "PAGEMAP_WALK_SIZE", "PAGEMAP_WALK_MASK",
        "PM_ENTRY_BYTES", "PM_PFRAME_BITS", "PM_PFRAME_MASK", "PM_SOFT_DIRTY",
        "PM_MMAP_EXCLUSIVE", "PM_UFFD_WP", "PM_GUARD_REGION", "PM_FILE", "PM_SWAP",
        "PM_PRESENT", "PM_END_OF_BUFFER",
        "make_pme", "add_to_pagemap", "pagemap_pte_hole", "pte_to_pagemap_entry",
        "pagemap_pmd_range_thp", "pagemap_pmd_range", "pagemap_hugetlb_range", "pagemap_ops",
    ), "clients"),
    # mincore(2): do_mincore() looks the vma up and walks it with mincore_walk_ops
    # (7.x: with a pud_entry, and a pte batch hint)
    Take("include/linux/huge_mm.h", ("pud_is_huge",), "clients"),
    Take("include/linux/pgtable.h", ("pte_batch_hint",), "clients"),
    Take("mm/mincore.c", (
        "mincore_hugetlb", "mincore_swap", "mincore_page", "__mincore_unmapped_range",
        "mincore_unmapped_range", "mincore_pud_entry", "mincore_pte_range", "can_do_mincore",
        "mincore_walk_ops", "do_mincore",
    ), "clients"),
    # write-protect and dirty-tracking walks (vmwgfx's, the 2019 thread's client)
    Take("mm/mapping_dirty_helpers.c", (
        "wp_walk", "wp_pte", "clean_walk", "to_clean_walk", "clean_record_pte",
        "wp_clean_pmd_entry", "wp_clean_pud_entry", "wp_clean_pre_vma", "wp_clean_post_vma",
        "wp_clean_test_walk", "clean_walk_ops", "wp_walk_ops",
    ), "clients"),
    # device-dax: /dev/daxN.M's huge_fault
    Take("drivers/dax/device.c", (
        "check_vma", "dax_pgoff_to_phys", "dax_set_mapping", "__dev_dax_pte_fault",
        "__dev_dax_pmd_fault", "__dev_dax_pud_fault", "dev_dax_huge_fault", "dev_dax_fault",
        # 7.x: check_vma() wraps __check_vma() (flags, range, file)
        "__check_vma",
    ), "drivers"),
    # 7.x: dax_pgoff_to_phys() lives in the bus code
    Take("drivers/dax/bus.c", ("dax_pgoff_to_phys",), "drivers"),
    # VFIO PCI BAR mmap: huge_fault since 6.12 (the CVE's driver)
    # (7.x factors the insert out: vfio_pci_vmf_insert_pfn(), is_aligned_for_order())
    Take("include/linux/vfio_pci_core.h", ("VFIO_PCI_OFFSET_SHIFT", "is_aligned_for_order"),
         "drivers"),
    Take("drivers/vfio/pci/vfio_pci_core.c", (
        "vma_to_pfn", "vfio_pci_vmf_insert_pfn", "vfio_pci_mmap_huge_fault",
        "vfio_pci_mmap_page_fault",
    ), "drivers"),
    # prctl(PR_SET_THP_DISABLE): a function of its own in 7.x (the flipper
    # role, csrc/scenarios.c); before, a case inside sys_prctl()'s switch,
    # which cannot be sliced
    Take("kernel/sys.c", ("prctl_set_thp_disable",), "clients"),
)

# What each client and driver needs; a missing one leaves that client out.
CLIENT_NEEDS: dict[str, tuple[str, ...]] = {
    "numa_maps": ("show_numa_ops", "gather_pte_stats", "numa_maps"),
    "dirty": ("wp_walk_ops", "wp_walk"),
    "smaps": ("smaps_walk_ops", "smaps_pte_range", "mem_size_stats"),
    "pagemap": ("pagemap_ops", "pagemap_pmd_range", "pagemapread", "PAGEMAP_WALK_SIZE"),
    "mincore": ("mincore_walk_ops", "mincore_pte_range", "do_mincore"),
    "dirty-clean": ("clean_walk_ops", "clean_walk"),
    "dax": ("dev_dax_huge_fault",),
    "vfio": ("vfio_pci_mmap_huge_fault", "vma_to_pfn"),
}


def client_files() -> list[str]:
    """Tree files of the clients and drivers (optional: a tree may lack one)."""
    seen: list[str] = []
    for take in CLIENT_SLICES:
        if take.relpath not in seen:
            seen.append(take.relpath)
    return seen
