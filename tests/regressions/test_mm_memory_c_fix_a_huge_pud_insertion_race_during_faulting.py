# SPDX-License-Identifier: GPL-2.0-only
"""mm/memory.c: fix a huge pud insertion race during faulting.

Upstream: 5.5 (commit 625110b5e9da, 30 Nov 2019, as the 4.19 stable review
quotes it; the release unverified).  Fixes: a00cc7d9dd93 ("mm, x86: add
support for PUD-sized transparent hugepages").  In the trees: all three ("Huge pud page fault raced
with pmd_alloc?" in __handle_mm_fault()); tested on all three.  The revert:
patches/regressions/{6.1,6.12,7.3}/revert-mm-memory.c-fix-a-huge-pud-insertion-race-during-faulting.patch.
Shown by fault-vs-fault with our write-notify driver, uninstrumented (the
instrumented build widens the recheck's own TOCTOU, which would fail the
control); expected: the 2019 fault race.

  writer: pud_none() -> create_huge_pud() falls back (write-notify)
  reader installs a PUD leaf; writer's pmd_alloc() returns pmd_offset() into its frame
"""

from ._suite import bug_tests

test_tree_has_the_fix_and_the_revert_takes_it_out, \
    test_found_with_the_fix_reverted_and_not_as_shipped = bug_tests("mm_memory_c_fix_a_huge_pud_insertion_race_during_faulting")
