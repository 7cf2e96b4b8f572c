# SPDX-License-Identifier: GPL-2.0-only
"""mm/huge_memory.c: fix modifying of page protection by insert_pfn_pmd().

Upstream: 5.1 (commit c6f3c5ee40c1, as named by the Fixes: tag of "mm/huge_memory:
Fix vmf_insert_pfn_{pmd, pud}() crash, handle unaligned addresses"; the release
unverified).  Fixes: none in the posted v2 (CC stable); the commit's own tag
unverified.  In the trees: all three (insert_pfn_pmd()/insert_pfn_pud(), 7.x
insert_pmd()/insert_pud(), look at the entry under the lock); tested on 6.12
and 7.3.  The revert (both checks and the deposit-table free, in each tree's functions):
patches/regressions/{6.12,7.3}/revert-mm-huge_memory.c-fix-modifying-of-page-protection-by-insert_pfn_pmd.patch.
Shown by fault-vs-fault with our write-notify driver, uninstrumented (the
instrumented build widens the pmd_alloc TOCTOU, which would fail the
control); expected: a LEAK at the reaper's teardown (kmemleak or check_mm),
the "non-zero pgtables_bytes" the posted patch names.

  writer: write fault falls back and installs a PMD (or pte) table
  reader's huge fault, past its pud_none(), overwrites the table with a leaf
"""

from ._suite import bug_tests

test_tree_has_the_fix_and_the_revert_takes_it_out, \
    test_found_with_the_fix_reverted_and_not_as_shipped = bug_tests("mm_huge_memory_c_fix_modifying_of_page_protection_by_insert_pfn_pmd")
