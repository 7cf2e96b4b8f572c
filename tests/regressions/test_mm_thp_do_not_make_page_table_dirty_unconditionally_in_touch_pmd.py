# SPDX-License-Identifier: GPL-2.0-only
"""mm, thp: Do not make page table dirty unconditionally in touch_p[mu]d().

Upstream: 4.15 (commit a8f97366452e, Kirill A. Shutemov, 27 Nov 2017;
CVE-2017-1000405, "Huge Dirty COW"; the release unverified).
Fixes: 8310d48b125d ("mm/huge_memory.c: respect FOLL_FORCE/FOLL_COW for
thp"; unverified).  In the trees: all three (touch_pud() dirties only on a
write); tested on 6.1 and 7.3, where huge_pud_set_accessed() calls touch_pud()
on every fault that finds a leaf.  The revert (touch_pud() only):
patches/regressions/{6.1,7.3}/revert-mm-thp-do-not-make-page-table-dirty-unconditionally-in-touch_pmd.patch.
Shown by the suite's dirty-vs-refault scenario (pywalk/hunt/regress.py: the
tree's dirty-tracking walk, wp_walk_ops, over a write-notify mapping while
readers fault it) with our write-notify driver; expected: the tree's own
WARN in wp_clean_pud_entry() on a dirty leaf.

  reader faults (read) a present read-only PUD leaf: huge_pud_set_accessed()
  touch_pud() marks it dirty; the dirty-tracking walk WARNs on a dirty leaf
"""

from ._suite import bug_tests

test_tree_has_the_fix_and_the_revert_takes_it_out, \
    test_found_with_the_fix_reverted_and_not_as_shipped = bug_tests("mm_thp_do_not_make_page_table_dirty_unconditionally_in_touch_pmd")
