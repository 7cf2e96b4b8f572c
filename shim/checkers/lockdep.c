/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk shim: lock discipline of page-table entry stores, as the kernel's
 * lockdep_assert_held() would check it (kernel: the ptlock rules in
 * Documentation/mm/split_page_table_lock.rst).  No kernel counterpart in
 * the code itself: the shim's set_pud()/pud_populate()/... do not assert,
 * this is the oracle.
 *
 * Every entry store (PW_STORE, PW_XCHG, via pw_history_store()) must be
 * made holding
 *   - a pte: the split ptlock of its pte table (pte_lockptr()),
 *   - a pmd: the split ptlock of its pmd table (pmd_lockptr();
 *     USE_SPLIT_PMD_PTLOCKS, as x86-64 configures it),
 *   - a pud, p4d or pgd entry: mm->page_table_lock (pud_lockptr(): x86 has
 *     no split PUD locks),
 * or mmap_lock for write (free_pgtables() and munmap()-like teardown) while
 * no fault holds a VMA read lock (per-VMA locks: shim/include/pywalk/vma_lock.h).
 * A store without is a LOCK finding: the store's backtrace and the lock
 * that should have been held.  Single-threaded runs find it too.
 *
 * Documented lockless exceptions (pw_cur.lockless names the one in force
 * for the next store):
 *   - pgd/p4d/pud/pmd_clear_bad(): *_none_or_clear_bad() clears a corrupt
 *     entry under mmap_lock for read only (mm/pgtable-generic.c); the
 *     report before the store announces it (the tree's p?d_ERROR() through
 *     the shim's pr_err(), or the shim's pw_report_bad_entry()).
 * Stores outside a guarded kernel call (no current mm: harness set-up) are
 * not checked.
 */

static int pw_holds(spinlock_t *l)
{
	return __atomic_load_n(&l->locked, __ATOMIC_RELAXED) && l->holder == &pw_cur;
}

void pw_lockdep_store(void *entry, unsigned long old, unsigned long new)
{
	struct pw_mm *m = pw_cur.mm;
	struct mm_struct *mm = m ? m->mm : NULL;
	struct page *table;
	spinlock_t *need;
	const char *name;
	char msg[160];

	if (pw_cur.lockless) {
		pw_cur.lockless = NULL;
		return;
	}
	if (!mm || !pw_cur.active)
		return;
	/* mmap_lock for write excludes faults only where they take it: with
	 * per-VMA locks (vma_lock.h) a fault holds its vma's read lock instead,
	 * a lock as valid for the fault as mmap_lock, which the writer excludes
	 * only by vma_start_write(); so the writer's stores count as locked
	 * only while no VMA read lock is held */
	if (__atomic_load_n(&mm->mmap_lock.count, __ATOMIC_RELAXED) == -1 &&
	    mm->mmap_lock.writer == &pw_cur &&
	    !__atomic_load_n(&mm->pw_vma_readers, __ATOMIC_ACQUIRE))
		return;
	table = virt_to_page((void *)((unsigned long)entry & PAGE_MASK));
	switch (table->pw_level) {
	case PW_LEVEL_PTE:
		need = ptlock_ptr(table);
		name = "the pte table's split ptlock (pte_lockptr())";
		break;
	case PW_LEVEL_PMD:
		need = ptlock_ptr(table);
		name = "the pmd table's split ptlock (pmd_lockptr())";
		break;
	default:
		need = &mm->page_table_lock;
		name = "mm->page_table_lock (pud_lockptr())";
		break;
	}
	if (pw_holds(need)) {
		pw_stale_store(entry, old, new);	/* stale.c */
		return;
	}
	snprintf(msg, sizeof(msg), "lockdep: entry store without %s or mmap_lock for write: "
		 "%016lx -> %016lx", name, old, new);
	pw_warn_kind(PW_OOPS_LOCK, NULL, 0, msg);
}
