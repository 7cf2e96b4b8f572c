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
    assert races.identify(finding("WARN", "bad pmd entry 0 (pmd_clear_bad)",
                                  ["pmd_none_or_trans_huge_or_clear_bad", "pmd_trans_unstable",
                                   "walk_pmd_range"])) is races.BAD_PMD
    assert races.identify(finding("SEGV", low, ["zap_pte_range"])) is None
