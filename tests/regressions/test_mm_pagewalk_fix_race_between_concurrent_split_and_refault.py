# SPDX-License-Identifier: GPL-2.0-only
"""mm/pagewalk: fix race between concurrent split and refault (CVE-2026-31456).

Upstream: 7.0 (per the CVE debrief; commit id unverified).  Fixes:
unverified.  In the trees: 6.12 (a stable backport, listed in its Debian
changelog) and 7.3; the 6.1 tree lacks it.  Versions: docs/regressions.md.
The revert:
patches/regressions/{6.12,7.3}/revert-mm-pagewalk-fix-race-between-concurrent-split-and-refault.patch.
Shown by walk-vs-refault with the tree's numa_maps walk (6.12: against the
tree's VFIO huge_fault, the CVE's trigger; 7.3, whose drivers do not build
here: against our write-notify driver); expected: the walker race.

  walker: walk_pud_range() -> split_huge_pud() zaps the PUD leaf
  reader refaults a PUD leaf; walk_pmd_range() reads its frame as a PMD table
"""

from ._suite import bug_tests

test_tree_has_the_fix_and_the_revert_takes_it_out, \
    test_found_with_the_fix_reverted_and_not_as_shipped = bug_tests("mm_pagewalk_fix_race_between_concurrent_split_and_refault")
