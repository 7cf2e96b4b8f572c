# SPDX-License-Identifier: GPL-2.0-only
"""mm: split huge PUD on wp_huge_pud fallback.

Upstream: 5.19 (commit 14c99d659415, James Gowans; the release unverified);
in the 5.10 and 5.18 stable series.  Fixes: 327e9fd48972 ("mm: Split huge
pages on write-notify or COW").  In the trees: all three (the split is in
wp_huge_pud()); tested on 6.1 and 7.3.  The revert (the split back in
create_huge_pud()):
patches/regressions/{6.1,7.3}/revert-mm-split-huge-pud-on-wp_huge_pud-fallback.patch.
Shown by fault-vs-fault with our write-notify driver, uninstrumented (the
reaper's teardown is what lets a read fault put a leaf back where a write
fault made a table); expected: a soft lockup (watchdog at 5 s) in
__handle_mm_fault(), or of the reaper waiting in mmap_write_lock() behind
it.  Before the "raced with pmd_alloc?" recheck existed this was a fault
into the leaf's frame.

  reader installs a read-only PUD leaf on a write-notify mapping
  writer: wp_huge_pud() falls back without a split; the pmd_alloc recheck retries for ever
"""

from ._suite import bug_tests

test_tree_has_the_fix_and_the_revert_takes_it_out, \
    test_found_with_the_fix_reverted_and_not_as_shipped = bug_tests("mm_split_huge_pud_on_wp_huge_pud_fallback")
