/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Scenario loops: the per-thread bodies of the race hunts.  A Python thread
 * calls pw_stress_run() again and again; each call runs up to `batch`
 * kernel operations of the thread's role with the GIL released, and stops
 * early when *stop is set or the mm oopses.
 *
 * Roles:
 *   WALKER   walk_page_range() over the whole mapping with a walker kind
 *   READER   read faults at random addresses (huge leaves get installed)
 *   WRITER   write faults at random addresses (write-notify: fall back)
 *   ZAPPER   madvise(MADV_DONTNEED) through the tree's madvise code
 *            (csrc/madvise.c) of a random 1 GiB range or 2 MiB inside one
 *            (that splits a PUD leaf); -EINVAL (a VM_PFNMAP vma) counted
 *   REAPER   munmap()+mmap()-like page-table teardown under mmap_lock
 *            for write, so that PUDs become none again
 *   FLIPPER  prctl(PR_SET_THP_DISABLE) on and off: the THP policy the
 *            fault path reads changes under mmap_lock for write, which
 *            does not exclude faults under per-VMA locks
 */


/*
 * Tear down every page table below [start, end) (PUD aligned) as munmap()
 * + mmap() of the range would, through the tree's own code: its zap
 * (unmap_vmas()'s core: leaves and ptes) and then its free_pgd_range()
 * (free_pgtables()'s core: pte and pmd tables, each uncounted with
 * mm_dec_nr_ptes()/mm_dec_nr_pmds(); floor and ceiling are the range, so a
 * pud table goes only with a whole 512 GiB).  Under mmap_lock for write, a
 * few GiB per pass; each pass first checks accounting and leaks
 * (shim/checkers/leaks.c), as check_mm() would at the mm's end.
 */
#define PW_REAP_PUDS 64	/* PUD ranges torn down per write-locked pass */
static int pw_do_reap(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	unsigned long addr = start, next;
	struct mmu_gather tlb;

	for (; addr < end; addr = next) {
		next = end - addr > PW_REAP_PUDS * PUD_SIZE ? addr + PW_REAP_PUDS * PUD_SIZE : end;
		mmap_write_lock(mm);
		/* as munmap() write-locks the vmas it takes down; all of them, for
		 * the check of the whole mm (no VMA-locked fault under way) */
		pw_vma_start_write_all(mm);
		pw_check_tables(mm);	/* accounting and leaks (shim/checkers/leaks.c) */
		pw_zap_vmas(mm, addr, next);
		tlb_gather_mmu(&tlb, mm);
		free_pgd_range(&tlb, addr, next, addr, next);
		tlb_finish_mmu(&tlb);
		mmap_write_unlock(mm);
	}
	return 0;
}

/*
 * prctl(PR_SET_THP_DISABLE, disable, 0, 0, 0) on the calling thread's mm
 * (current->mm): the MMF_ bits the THP policy (hugepage_vma_check() /
 * thp_vma_allowable_order()) reads, set under mmap_lock for write, which
 * does not write-lock any vma.  Where the tree has prctl_set_thp_disable()
 * (7.x kernel/sys.c) it is the tree's, sliced; before, the code is a case of
 * sys_prctl()'s switch, which cannot be sliced, so these lines are written
 * here from it (kernel/sys.c, PR_SET_THP_DISABLE: set_bit()/clear_bit() of
 * MMF_DISABLE_THP under mmap_write_lock_killable()).
 */
static int pw_do_flip(struct mm_struct *mm, int disable)
{
#if PW_SLICED_prctl_set_thp_disable
	return pw_tree_prctl_set_thp_disable(disable, 0, 0, 0);
#elif PW_HAVE_MMF_DISABLE_THP
	/* written from 6.x kernel/sys.c, not sliced (see above) */
	if (mmap_write_lock_killable(mm))
		return -EINTR;
	if (disable)
		set_bit(MMF_DISABLE_THP, &mm->flags);
	else
		clear_bit(MMF_DISABLE_THP, &mm->flags);
	mmap_write_unlock(mm);
	return 0;
#else
	return -ENOSYS;		/* a tree pywalk cannot flip the policy of */
#endif
}

int pw_thp_disable(struct pw_mm *m, int disable)
{
	return PW_GUARDED(m, pw_do_flip(m->mm, disable));
}

/*
 * Hold mmap_lock for write as a writer of mm->flags does (prctl()), writing
 * no vma lock: state[0] becomes 1 once held, 2 once released; released when
 * state[1] is set or after timeout_ms.  For tests of the fault entry's
 * locks (tests/test_vma_lock.py).
 */
static int pw_do_hold_write(struct mm_struct *mm, volatile int *state, long timeout_ms)
{
	struct timespec t0, t;

	mmap_write_lock(mm);
	__atomic_store_n(&state[0], 1, __ATOMIC_RELEASE);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!__atomic_load_n(&state[1], __ATOMIC_ACQUIRE)) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms)
			break;
		sched_yield();
	}
	__atomic_store_n(&state[0], 2, __ATOMIC_RELEASE);
	mmap_write_unlock(mm);
	return 0;
}

int pw_mmap_write_hold(struct pw_mm *m, int *state, long timeout_ms)
{
	return PW_GUARDED(m, pw_do_hold_write(m->mm, state, timeout_ms));
}

static void pw_pause(int us)
{
	struct timespec ts = { 0, (long)us * 1000 };

	if (us > 0 && pw_sched_me < 0)	/* under a schedule nothing waits for time */
		nanosleep(&ts, NULL);
}

static long pw_stress_loop(struct pw_mm *m, struct pw_stress_cfg *c, long batch,
			   volatile int *stop)
{
	struct mm_struct *mm = m->mm;
	unsigned long npud = c->size >> PUD_SHIFT;
	long done;

	for (done = 0; done < batch && !*stop; done++) {
		unsigned long r = pw_rand();
		unsigned long addr = c->start + (r % (c->size >> PAGE_SHIFT)) * PAGE_SIZE;
		struct pw_walk_counts counts;
		struct pw_walk_priv priv = { &counts, NULL };
		struct mm_walk_ops ops;
		int err;

		switch (c->role) {
		case PW_ROLE_WALKER:
			if (pw_is_client(c->walker)) {	/* the tree's own (csrc/clients.c) */
				err = pw_client_walk(mm, c->start, c->start + c->size,
						     c->walker, NULL, NULL);
				if (err)
					return -err;
				break;
			}
			pw_walker_ops(&ops, c->walker, PW_CB_PMD_ENTRY | PW_CB_PTE_ENTRY | PW_CB_PTE_HOLE);
			mmap_read_lock(mm);
			err = walk_page_range(mm, c->start, c->start + c->size, &ops, &priv);
			mmap_read_unlock(mm);
			if (err)
				return -err;
			break;
		case PW_ROLE_READER:
		case PW_ROLE_WRITER:
			err = pw_do_fault(mm, addr, c->role == PW_ROLE_WRITER);
			if (err < 0)
				return err;
			break;
		case PW_ROLE_ZAPPER: {
			unsigned long len = PUD_SIZE;

			addr = c->start + (r % (npud ? npud : 1)) * PUD_SIZE;
			if ((r >> 40) & 1) {	/* a partial range: 2 MiB inside the PUD */
				addr += ((r >> 41) % (PUD_SIZE / PMD_SIZE)) * PMD_SIZE;
				len = PMD_SIZE;
			}
			err = pw_do_madvise_dontneed(mm, addr, min(addr + len, c->start + c->size));
			if (err == -EINVAL)
				c->madvise_einval++;
			pw_pause(c->pause_us);
			break;
		}
		case PW_ROLE_REAPER:
			pw_do_reap(mm, c->start, c->start + c->size);
			pw_pause(c->pause_us);
			break;
		case PW_ROLE_FLIPPER:	/* prctl(PR_SET_THP_DISABLE), on then off */
			err = pw_do_flip(mm, !(pw_cur.ops & 1));
			if (err)
				return err;
			pw_pause(c->pause_us);
			break;
		case PW_ROLE_ABBA:	/* page_table_lock, then mmap_lock: against every walker */
			spin_lock(&mm->page_table_lock);
			mmap_write_lock(mm);
			mmap_write_unlock(mm);
			spin_unlock(&mm->page_table_lock);
			break;
		}
		pw_cur.ops++;
	}
	return done;
}

/* Window widening for every call on m (shim/src/runtime.c pw_delay()). */
void pw_mm_set_delays(struct pw_mm *m, int enabled, unsigned int *prob,
		      unsigned int *max_spins, unsigned int yield_permille)
{
	int was = m->delays.enabled;

	__atomic_store_n(&m->delays.enabled, 0, __ATOMIC_RELEASE);
	for (int i = 0; i < PW_NR_SITES; i++) {
		m->delays.prob[i] = prob[i];
		m->delays.max_spins[i] = max_spins[i];
	}
	m->delays.yield_permille = yield_permille;
	if (enabled && !was)
		pw_delays_users_add(1);
	if (!enabled && was)
		pw_delays_users_add(-1);
	__atomic_store_n(&m->delays.enabled, !!enabled, __ATOMIC_RELEASE);
}

int pw_delays_in_use(void)
{
	return __atomic_load_n(&pw_delays_users, __ATOMIC_ACQUIRE);
}

long pw_stress_run(struct pw_mm *m, struct pw_stress_cfg *c, long batch, int *stop,
		   long *ops_done)
{
	long r;

	pw_cur.tid = c->tid;
	pw_cur.role = c->role;
	if (!pw_cur.rng)
		pw_cur.rng = (c->seed + 1) * 0x9e3779b97f4a7c15ULL ^ ((u64)c->tid << 32 | 1);
	pw_cur.ops = 0;
	pw_watchdog_set_lockup(c->lockup_ms);
	r = PW_GUARDED(m, pw_stress_loop(m, c, batch, stop));
	pw_watchdog_set_lockup(0);
	*ops_done = pw_cur.ops;
	return r;
}

void pw_stress_reseed(unsigned long long seed, int tid)
{
	pw_cur.rng = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ ((u64)tid << 32 | 1);
}
