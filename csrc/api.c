/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Entry points that Python calls (declared in pywalk_api.h).  Each one that
 * runs kernel code is guarded: sigsetjmp() here, siglongjmp() from an oops
 * or a panic anywhere below.
 */

/* Run stmt as a guarded kernel call on pw_mm m; evaluates to stmt's result
 * or PW_ERR_OOPS/PW_ERR_PANIC/PW_ERR_TAINTED. */
#define PW_GUARDED(m, expr) ({						\
	long __r;							\
	if ((m)->panic) {						\
		__r = PW_ERR_TAINTED;					\
	} else {							\
		pw_cur.mm = (m);					\
		pw_cur.panic = &(m)->panic;				\
		pw_cur.watch = NULL;					\
		pw_watchdog_enter();					\
		int __j = sigsetjmp(pw_cur.jb, 0);			\
		if (__j) {						\
			__r = __j == 1 ? PW_ERR_OOPS : PW_ERR_PANIC;	\
		} else {						\
			pw_stale_reset();				\
			pw_gather_reset();				\
			pw_cur.active = 1;				\
			__r = (expr);					\
		}							\
		pw_cur.active = 0;					\
		pw_cur.watch = NULL;	/* it may point into an oopsed walk */ \
	}								\
	__r; })

void pw_mm_set_untracked(struct pw_mm *m, int untracked)
{
	m->untracked = untracked;
}

int pw_init(void)
{
	if (pw_physmem_init())
		return -ENOMEM;
	pw_install_signal_handlers();
	pw_watchdog_start();
	return 0;
}

struct pw_mm *pw_mm_new(void)
{
	struct pw_mm *m;

	if (pw_init())
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->mm = pw_mm_create();
	if (!m->mm) {
		free(m);
		return NULL;
	}
	m->mm->pw = m;
	m->next_addr = 1UL << 40;	/* user mappings start at 1 TiB, PUD aligned */
	return m;
}

void pw_mm_free(struct pw_mm *m)
{
	if (m->delays.enabled)
		pw_delays_users_add(-1);
	pw_mm_destroy(m->mm);
	free(m);
}

int pw_mm_panicked(struct pw_mm *m) { return m->panic; }
/* WARNs seen, as far as their reports are complete: another thread may be
 * filling in the one after (pw_warn_kind()); it is counted once it is done */
int pw_mm_nwarns(struct pw_mm *m)
{
	int n = __atomic_load_n(&m->nwarns, __ATOMIC_ACQUIRE), i;

	for (i = 0; i < n && i < PW_MAX_WARNS; i++)
		if (!__atomic_load_n(&m->warn_ready[i], __ATOMIC_ACQUIRE))
			return i;
	return n;
}
/* The first oops's report; other threads of the mm may return (panicked)
 * while its author is still unwinding, so wait for it to be complete. */
struct pw_report *pw_mm_oops(struct pw_mm *m)
{
	for (int i = 0; i < 100000 && !__atomic_load_n(&m->oops_ready, __ATOMIC_ACQUIRE); i++)
		sched_yield();
	return &m->oops;
}
struct pw_report *pw_mm_warn(struct pw_mm *m, int i) { return &m->warns[i]; }

static int pw_do_map(struct mm_struct *mm, unsigned long start, unsigned long size,
		     int huge_level, int write_notify)
{
	struct vm_area_struct *vma;
	unsigned long pgoff = 0;

	mmap_write_lock(mm);
	if (mm->nr_vmas == PW_MAX_VMAS) {
		mmap_write_unlock(mm);
		return -ENOMEM;
	}
	if (write_notify == PW_MAP_HALF_WRITE_NOTIFY) {
		/* two mappings of the device side by side: the first half
		 * write-notify, the second writable (a VFIO BAR or device-dax
		 * mapping: write faults get writable huge leaves) */
		unsigned long half = (size / 2) & PUD_MASK ? (size / 2) & PUD_MASK
							  : (size / 2) & PAGE_MASK;

		if (!half || mm->nr_vmas + 2 > PW_MAX_VMAS) {
			mmap_write_unlock(mm);
			return -EINVAL;
		}
		vma = pw_dev_mmap(mm, start, half, huge_level, 1);
		if (vma) {
			mm->vmas[mm->nr_vmas] = vma;
			__atomic_store_n(&mm->nr_vmas, mm->nr_vmas + 1, __ATOMIC_RELEASE);
		}
		start += half;
		size -= half;
		pgoff = half >> PAGE_SHIFT;
		write_notify = 0;
	}
	vma = pw_dev_mmap(mm, start, size, huge_level, write_notify);
	if (!vma) {
		mmap_write_unlock(mm);
		return -ENOMEM;
	}
	vma->vm_pgoff = pgoff;		/* the second half maps the device's next bytes */
	mm->vmas[mm->nr_vmas] = vma;	/* addresses only grow: stays sorted */
	__atomic_store_n(&mm->nr_vmas, mm->nr_vmas + 1, __ATOMIC_RELEASE);	/* (vma_lock.h) */
	mmap_write_unlock(mm);
	return 0;
}

/* After a map at s: hand out the start, and put the next mapping after a
 * one-PUD guard gap, PUD aligned (harness bookkeeping, no kernel counterpart). */
static long pw_mapped(struct pw_mm *m, long r, unsigned long s, unsigned long size,
		      unsigned long *start)
{
	if (r == 0) {
		*start = s;
		m->next_addr = ((s + size + PUD_SIZE - 1) & PUD_MASK) + PUD_SIZE;
	}
	return r;
}

int pw_map(struct pw_mm *m, unsigned long size, int huge_level, int write_notify,
	   unsigned long *start)
{
	unsigned long s = m->next_addr;
	long r;

	if (!size || (size & ~PAGE_MASK))
		return -EINVAL;
	r = PW_GUARDED(m, pw_do_map(m->mm, s, size, huge_level, write_notify));
	return pw_mapped(m, r, s, size, start);
}

/* A mapping of one of the tree's drivers (csrc/clients.c), as pw_map() does ours. */
static int pw_do_map_driver(struct mm_struct *mm, unsigned long start, unsigned long size,
			    int driver, int huge_level)
{
	struct vm_area_struct *vma = NULL;

	mmap_write_lock(mm);
	if (mm->nr_vmas == PW_MAX_VMAS) {
		mmap_write_unlock(mm);
		return -ENOMEM;
	}
#if PW_CLIENT_VFIO
	if (driver == PW_DRIVER_VFIO)
		vma = pw_vfio_mmap(mm, start, size);
#endif
#if PW_CLIENT_DAX
	if (driver == PW_DRIVER_DAX)	/* the device's alignment: 1 GiB or 2 MiB (daxctl --align) */
		vma = pw_dax_mmap(mm, start, size, huge_level == PW_LEVEL_PUD ? PUD_SIZE : PMD_SIZE);
#endif
	if (!vma) {
		mmap_write_unlock(mm);
		return -ENOMEM;
	}
	mm->vmas[mm->nr_vmas] = vma;
	__atomic_store_n(&mm->nr_vmas, mm->nr_vmas + 1, __ATOMIC_RELEASE);	/* (vma_lock.h) */
	mmap_write_unlock(mm);
	return 0;
}

int pw_map_driver(struct pw_mm *m, unsigned long size, int driver, int huge_level,
		  unsigned long *start)
{
	unsigned long s = m->next_addr;
	long r;

	if (driver == PW_DRIVER_WRITE_NOTIFY)
		return pw_map(m, size, huge_level, 1, start);
	if (!pw_driver_available(driver))
		return -EOPNOTSUPP;
	if (!size || (size & ~PAGE_MASK))
		return -EINVAL;
	r = PW_GUARDED(m, pw_do_map_driver(m->mm, s, size, driver, huge_level));
	return pw_mapped(m, r, s, size, start);
}

int pw_driver_has(int driver) { return pw_driver_available(driver); }
int pw_client_has(int walker)
{
	switch (walker) {
	case PW_WALK_TREE_NUMA_MAPS:
		return PW_CLIENT_NUMA_MAPS + 0;
	case PW_WALK_TREE_DIRTY:
		return PW_CLIENT_DIRTY + 0;
	case PW_WALK_TREE_CLEAN:
		return PW_CLIENT_DIRTY_CLEAN + 0;
	}
	if (pw_is_proc_walker(walker))	/* smaps, pagemap, mincore (proc_walkers.c) */
		return pw_proc_has(walker);
	return 1;
}

/*
 * A user fault at addr, entered as x86's do_user_addr_fault() enters
 * handle_mm_fault(): where the tree has per-VMA locks (PW_TREE_PER_VMA_LOCK),
 * first under the vma's read lock (lock_vma_under_rcu(), FAULT_FLAG_VMA_LOCK;
 * shim/include/pywalk/vma_lock.h), so that a holder of mmap_lock for write
 * that has not write-locked the vma does not exclude it; when there is no
 * such vma or it is write-locked, or the fault returns VM_FAULT_RETRY (the
 * lock then already dropped), again under mmap_lock for read, as before
 * per-VMA locks.
 */
static int pw_do_fault(struct mm_struct *mm, unsigned long addr, int write)
{
	unsigned int flags = FAULT_FLAG_USER | (write ? FAULT_FLAG_WRITE : 0);
	struct vm_area_struct *vma;
	vm_fault_t ret;

#if PW_TREE_PER_VMA_LOCK
	vma = pw_lock_vma_under_rcu(mm, addr);
	if (vma) {
		ret = __handle_mm_fault(vma, addr, flags | FAULT_FLAG_VMA_LOCK);
		if (!(ret & (VM_FAULT_RETRY | VM_FAULT_COMPLETED)))
			pw_vma_end_read(vma);
		if (!(ret & VM_FAULT_RETRY))
			return ret;
	}
#endif
	mmap_read_lock(mm);
	vma = find_vma(mm, addr);
	if (!vma || addr < vma->vm_start) {
		mmap_read_unlock(mm);
		return PW_ERR_NOVMA;
	}
	ret = __handle_mm_fault(vma, addr, flags);
	mmap_read_unlock(mm);
	return ret;
}

int pw_fault(struct pw_mm *m, unsigned long addr, int write)
{
	return PW_GUARDED(m, pw_do_fault(m->mm, addr, write));
}

/* The deepest entry for addr: its enum pw_level and enum pw_state */
static int pw_do_lookup(struct mm_struct *mm, unsigned long addr, int *level, int *state)
{
	p4d_t *p4d = p4d_offset(pgd_offset(mm, addr), addr);
	pud_t pud;
	pmd_t pmd;
	pte_t pte;

	mmap_read_lock(mm);
	*state = PW_STATE_NONE;
	*level = PW_LEVEL_P4D;
	if (p4d_none(*p4d))
		goto out;
	*level = PW_LEVEL_PUD;
	pud = pw_pudp_get(pud_offset(p4d, addr));
	if (pud_none(pud))
		goto out;
	if (pud_leaf(pud)) {
		*state = PW_STATE_LEAF;
		goto out;
	}
	*level = PW_LEVEL_PMD;
	pmd = pw_pmdp_get(pmd_offset(&pud, addr));
	if (pmd_none(pmd))
		goto out;
	if (pmd_leaf(pmd)) {
		*state = PW_STATE_LEAF;
		goto out;
	}
	*level = PW_LEVEL_PTE;
	pte = pw_ptep_get(pte_offset_kernel(&pmd, addr));
	*state = pte_none(pte) ? PW_STATE_NONE : PW_STATE_PRESENT;
out:
	mmap_read_unlock(mm);
	return 0;
}

int pw_lookup(struct pw_mm *m, unsigned long addr, int *level, int *state)
{
	return PW_GUARDED(m, pw_do_lookup(m->mm, addr, level, state));
}

static int pw_do_walk(struct mm_struct *mm, unsigned long start, unsigned long end,
		      int walker, int mask, struct pw_walk_counts *counts, void *pyhandle)
{
	struct mm_walk_ops ops;
	struct pw_walk_priv priv = { counts, pyhandle };
	int r;

	pw_walker_ops(&ops, walker, mask);
	pw_watch_begin(&priv);
	if (pw_is_client(walker)) {	/* a census walk: its callbacks, seen (clients.c) */
		r = pw_client_census(mm, start, end, walker, counts);
	} else {
		mmap_read_lock(mm);
		r = walk_page_range(mm, start, end, &ops, &priv);
		mmap_read_unlock(mm);
	}
	pw_watch_end(&priv, counts);
	return r;
}

int pw_walk(struct pw_mm *m, unsigned long start, unsigned long end, int walker, int mask,
	    struct pw_walk_counts *counts, void *pyhandle)
{
	return PW_GUARDED(m, pw_do_walk(m->mm, start, end, walker, mask, counts, pyhandle));
}

/*
 * The tree's zap of [start, end) in every vma, as munmap()'s unmap_vmas()
 * and exit_mmap() zap (zap_page_range_single(); 7.x: zap_vma_range());
 * the caller holds mmap_lock.  Page tables stay.
 */
static void pw_zap_vmas(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	int i;

	for (i = 0; i < mm->nr_vmas; i++) {
		struct vm_area_struct *vma = mm->vmas[i];
		unsigned long s = max(start, vma->vm_start);
		unsigned long e = min(end, vma->vm_end);

		if (s < e)
#if PW_TREE_ZAP_VMA_RANGE
			zap_vma_range(vma, s, e - s);
#else
			zap_page_range_single(vma, s, e - s, NULL);
#endif
	}
}

int pw_zap(struct pw_mm *m, unsigned long start, unsigned long end)
{
	return PW_GUARDED(m, pw_do_madvise_dontneed(m->mm, start, end));
}

/*
 * The mm's end, as exit_mmap() does it, by the tree's code: unmap_vmas()
 * (its zap) and free_pgtables() (its free_pgd_range(), from
 * FIRST_USER_ADDRESS to USER_PGTABLES_CEILING: every table down from the
 * pgd's entries), then check_mm() and the leak scan (shim/checkers/leaks.c).
 */
static int pw_do_teardown(struct mm_struct *mm)
{
	unsigned long lo = ~0UL, hi = 0;
	struct mmu_gather tlb;

	mmap_write_lock(mm);
	pw_vma_start_write_all(mm);	/* as munmap(): no VMA-locked fault in them */
	for (int i = 0; i < mm->nr_vmas; i++) {
		lo = min(lo, mm->vmas[i]->vm_start);
		hi = max(hi, mm->vmas[i]->vm_end);
	}
	if (lo < hi) {
		pw_zap_vmas(mm, lo, hi);
		tlb_gather_mmu(&tlb, mm);
		free_pgd_range(&tlb, lo, hi, 0UL, 0UL);	/* x86: FIRST_USER_ADDRESS, USER_PGTABLES_CEILING */
		tlb_finish_mmu(&tlb);
	}
	pw_check_mm(mm);
	mmap_write_unlock(mm);
	return 0;
}

int pw_mm_teardown(struct pw_mm *m)
{
	return PW_GUARDED(m, pw_do_teardown(m->mm));
}

static int pw_do_poke(struct mm_struct *mm, unsigned long addr)
{
	p4d_t *p4d = p4d_offset(pgd_offset(mm, addr), addr);
	pud_t pud;
	volatile char *frame;

	if (p4d_none(*p4d))
		return -ENOENT;
	pud = pw_pudp_get(pud_offset(p4d, addr));
	if (!pud_leaf(pud))
		return -ENOENT;
	frame = __va(pud_pfn(pud) << PAGE_SHIFT);
	return *frame;	/* device memory: faults as on a real machine */
}

/* Dereference the frame behind a huge PUD leaf from C (a test of oops capture). */
int pw_poke_leaf(struct pw_mm *m, unsigned long addr)
{
	return PW_GUARDED(m, pw_do_poke(m->mm, addr));
}

/*
 * Self-tests of the oops machinery (no kernel code involved):
 * PW_SELFTEST_BUG VM_BUG_ON(), _WARN WARN_ON(), _USE_AFTER_FREE a read of a
 * freed (quarantined) page-table page.
 */
static int pw_do_selftest(int what)
{
	struct page *p;
	volatile unsigned long *table;

	switch (what) {
	case PW_SELFTEST_BUG:
		VM_BUG_ON(what == PW_SELFTEST_BUG);
		return 0;
	case PW_SELFTEST_WARN:
		return WARN_ON(what == PW_SELFTEST_WARN);
	case PW_SELFTEST_USE_AFTER_FREE:
		p = pw_alloc_table_page();
		table = page_address(p);
		pw_free_table_page(p);
		return table[0];	/* use after free: PROT_NONE in the quarantine */
	}
	return -EINVAL;
}

void pw_set_thread(int tid, int role)
{
	pw_cur.tid = tid;
	pw_cur.role = role;
}

int pw_selftest(struct pw_mm *m, int what)
{
	return PW_GUARDED(m, pw_do_selftest(what));
}
