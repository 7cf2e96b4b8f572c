# SPDX-License-Identifier: GPL-2.0-only
"""Known races are told apart by where a finding faults and on what."""

from pywalk.hunt import races
from pywalk.hunt.stress import Finding


def finding(kind, message, frames):
    bt = [f"{fn} mm/x.c:1" for fn in frames] + ["pw_stress_loop csrc/scenarios.c:1"]
    return Finding(kind, 0, bt, message, None, 0, "writer", 0.0, 0, "s", "v", 1)


def test_identify_by_function_and_address_class():
    dev = "BUG: unable to handle page fault (device memory: the frame behind a huge leaf)"
    low = "BUG: unable to handle page fault (low physical memory (pfn 0 and friends))"
    assert races.identify(finding("SEGV", dev, ["walk_pmd_range", "walk_pud_range"])) \
        is races.WALKER_RACE
    assert races.identify(finding("SEGV", dev, ["__handle_mm_fault"])) is races.FAULT_RACE
    assert races.identify(finding("SEGV", low, ["__handle_mm_fault"])) is races.PMD_ALLOC_TOCTOU
    assert races.identify(finding("ERR", "mm/pgtable-generic.c:51: bad pmd 0x7e00(84000000c02000a7)",
                                  ["pmd_clear_bad", "pmd_none_or_trans_huge_or_clear_bad",
                                   "pmd_trans_unstable", "walk_pmd_range"])) is races.BAD_PMD
    assert races.identify(finding("SEGV", low, ["zap_pte_range"])) is None
    assert races.identify(finding("ERR", "mm/pgtable-generic.c:42: bad pud 0x7e00(840000c0000000a7)",
                                  ["pud_clear_bad", "pud_none_or_clear_bad", "zap_pud_range"])) \
        is races.ZAP_BAD_PUD
    # the shim's old WARN text is not the tree's message: no longer the race
    assert races.identify(finding("WARN", "bad pud entry 84000040800008e7 (pud_clear_bad)",
                                  ["pud_none_or_clear_bad", "zap_pud_range"])) is None


def test_a_fault_into_device_memory_is_named_by_the_trees_recheck():
    """In __handle_mm_fault(), a fault into a huge page is the 2019 race on a
    tree without the "raced with pmd_alloc?" recheck, and that recheck's own
    TOCTOU on a tree with it; a fault into page 0 is the TOCTOU either way."""
    dev = "BUG: unable to handle page fault (device memory: the frame behind a huge leaf)"
    low = "BUG: unable to handle page fault (low physical memory (pfn 0 and friends))"
    for have, dev_race in ((True, races.PMD_ALLOC_TOCTOU), (False, races.FAULT_RACE)):
        f = finding("SEGV", dev, ["__handle_mm_fault"])
        f.pmd_alloc_recheck = have
        assert races.identify(f) is dev_race
        g = finding("SEGV", low, ["__handle_mm_fault"])
        g.pmd_alloc_recheck = have
        assert races.identify(g) is races.PMD_ALLOC_TOCTOU


def test_the_recheck_is_read_from_the_tree(v61, v61_revert):
    assert v61.pmd_alloc_recheck is True and v61_revert.pmd_alloc_recheck is False
