/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Benchmarks (pywalk/bench/runner.py): everything on the hot path is here, so no
 * Python runs between two timed walks.
 *
 *   pw_bench_populate()    faults a range page by page through the tree's
 *                          __handle_mm_fault() (pw_do_fault), as a program
 *                          touching its mapping would
 *   pw_bench_walk()        times the tree's walk_page_range() with a built-in
 *                          walker (or a tree client, as it runs), one
 *                          clock_gettime() pair per walk; sums its splits,
 *                          and our walkers' callbacks and retries, over the walks
 *   pw_bench_floor()       times a minimal hand-written descent of the same
 *                          tables (our code, no locks, no callbacks unless
 *                          asked for): the floor the real walker is
 *                          compared against
 *   pw_bench_fingerprint() hashes the tables of a range (leaf values, table
 *                          positions), to check that two variants hold
 *                          identical tables and that a benchmark left its
 *                          tables alone
 *   pw_bench_refault()     read-refaults populated addresses until *stop is PW_STOP_EXIT
 *                          (2: paused, polling); on tables a walk split,
 *                          a refault installs the leaf again
 */

static long long pw_bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#define PW_BENCH_FAULT_ERROR (VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV)

static long pw_bench_do_populate(struct mm_struct *mm, unsigned long start, unsigned long end,
				 unsigned long step, int write, unsigned long *bad_addr)
{
	unsigned long addr;
	long n = 0;

	for (addr = start; addr < end; addr += step) {
		int r = pw_do_fault(mm, addr, write);

		if (r < 0 || (r & PW_BENCH_FAULT_ERROR)) {
			*bad_addr = addr;
			return r < 0 ? r : PW_BENCH_ERR_FAULT;
		}
		n++;
	}
	return n;
}

long pw_bench_populate(struct pw_mm *m, unsigned long start, unsigned long end,
		       unsigned long step, int write, unsigned long *bad_addr)
{
	if (!step || (step & ~PAGE_MASK) || start >= end)
		return -EINVAL;
	return PW_GUARDED(m, pw_bench_do_populate(m->mm, start, end, step, write, bad_addr));
}

static int pw_bench_do_walk(struct mm_struct *mm, unsigned long start, unsigned long end,
			    int walker, int mask, long iters, long long *ns,
			    struct pw_walk_counts *counts)
{
	struct mm_walk_ops ops;
	struct pw_walk_priv priv = { counts, NULL };
	long long t0, t1;
	long i;
	int r = 0;


	const int client = pw_is_client(walker);

	pw_walker_ops(&ops, walker, mask);
	memset(counts, 0, sizeof(*counts));
	pw_watch_begin(&priv);
	for (i = 0; i < iters; i++) {
		t0 = pw_bench_now();
		if (client) {	/* the tree's own, as it runs (csrc/clients.c) */
			r = pw_client_walk(mm, start, end, walker, NULL, NULL);
		} else {
			mmap_read_lock(mm);
			r = walk_page_range(mm, start, end, &ops, &priv);
			mmap_read_unlock(mm);
		}
		t1 = pw_bench_now();
		ns[i] = t1 - t0;
		priv.watch.level = 0;	/* a walk's last split is not the next walk's */
		if (r)
			break;
	}
	pw_watch_end(&priv, counts);
	return r;
}

int pw_bench_walk(struct pw_mm *m, unsigned long start, unsigned long end, int walker,
		  int cbmask, long iters, long long *ns_out, struct pw_walk_counts *counts)
{
	if (walker == PW_WALK_PYTHON)
		return -EINVAL;
	return PW_GUARDED(m, pw_bench_do_walk(m->mm, start, end, walker, cbmask, iters,
					      ns_out, counts));
}

/*
 * One descent of [start, end): pgd -> p4d (folded) -> pud -> pmd -> pte.
 * It visits what the "dirty" walker's callbacks visit (every non-none pud
 * and pmd, every pte of a pte table in range) and counts them, so its count
 * must equal the walker's callback count.  No locks, no vma, no splits.
 *   PW_FLOOR_SHIM  entry loads through the shim's pw_pudp_get()/pw_pmdp_get()/
 *                  pw_ptep_get() (each passes the shim's hook; delays off)
 *   PW_FLOOR_RAW   plain READ_ONCE() loads, no hook: what the hook costs
 *   PW_FLOOR_CB    READ_ONCE() loads (as mm/pagewalk.c's *pud, *pmd) and
 *                  the walker's own callbacks through walk->ops, honouring
 *                  ACTION_CONTINUE: what the callbacks cost
 *   PW_FLOOR_HASH  as PW_FLOOR_SHIM, and hash what it sees into *hash
 */
enum { PW_FLOOR_SHIM, PW_FLOOR_RAW, PW_FLOOR_CB, PW_FLOOR_HASH };
#define PW_MIX(h, v) ((h) = ((h) ^ (unsigned long long)(v)) * 0x100000001b3ULL)

static __always_inline long pw_bench_descend(struct mm_struct *mm, unsigned long start,
					     unsigned long end, const int mode, long *present,
					     unsigned long long *hash, struct mm_walk *walk)
{
	const struct mm_walk_ops *ops = walk ? walk->ops : NULL;
	unsigned long addr = start, p4d_next, pud_next, pmd_next, a;
	long n = 0, pres = 0;
	unsigned long long h = 0xcbf29ce484222325ULL;
	const int plain = mode == PW_FLOOR_RAW || mode == PW_FLOOR_CB;

	for (; addr < end; addr = p4d_next) {
		p4d_t *p4d = p4d_offset(pgd_offset(mm, addr), addr);
		p4d_t p4v = __p4d(READ_ONCE(p4d->p4d));
		pud_t *pud;

		p4d_next = p4d_addr_end(addr, end);
		if (p4d_none(p4v))
			continue;
		pud = pud_offset(&p4v, addr);
		for (; addr < p4d_next; pud++, addr = pud_next) {
			pud_t pv = plain ? __pud(READ_ONCE(pud->pud)) : pw_pudp_get(pud);
			pmd_t *pmd;

			pud_next = pud_addr_end(addr, p4d_next);
			if (pud_none(pv))
				continue;
			n++;
			if (mode == PW_FLOOR_CB && ops->pud_entry) {
				walk->action = ACTION_SUBTREE;
				if (ops->pud_entry(pud, addr, pud_next, walk))
					return -1;
				if (walk->action == ACTION_CONTINUE)
					continue;
			}
			if (pud_leaf(pv)) {
				if (mode == PW_FLOOR_HASH) {
					PW_MIX(h, addr);
					PW_MIX(h, pud_val(pv));
				}
				continue;
			}
			if (mode == PW_FLOOR_HASH) {
				PW_MIX(h, addr | 2);
				PW_MIX(h, pud_flags(pv));
			}
			pmd = pmd_offset(&pv, addr);
			for (; addr < pud_next; pmd++, addr = pmd_next) {
				pmd_t mv = plain ? __pmd(READ_ONCE(pmd->pmd)) : pw_pmdp_get(pmd);
				pte_t *pte;

				pmd_next = pmd_addr_end(addr, pud_next);
				if (pmd_none(mv))
					continue;
				n++;
				if (mode == PW_FLOOR_CB && ops->pmd_entry) {
					walk->action = ACTION_SUBTREE;
					if (ops->pmd_entry(pmd, addr, pmd_next, walk))
						return -1;
					if (walk->action == ACTION_CONTINUE)
						continue;
				}
				if (pmd_leaf(mv)) {
					if (mode == PW_FLOOR_HASH) {
						PW_MIX(h, addr | 3);
						PW_MIX(h, pmd_val(mv));
					}
					continue;
				}
				if (mode == PW_FLOOR_HASH) {
					PW_MIX(h, addr | 4);
					PW_MIX(h, pmd_flags(mv));
				}
				pte = pte_offset_kernel(&mv, addr);
				if (mode == PW_FLOOR_CB) {
					n += (pmd_next - addr) >> PAGE_SHIFT;
					if (!ops->pte_entry)
						continue;
					for (a = addr;; a += PAGE_SIZE, pte++) {
						if (ops->pte_entry(pte, a, a + PAGE_SIZE, walk))
							return -1;
						if (a >= pmd_next - PAGE_SIZE)
							break;
					}
					continue;
				}
				for (a = addr; a < pmd_next; a += PAGE_SIZE, pte++) {
					pte_t tv;

					n++;
					tv = plain ? __pte(READ_ONCE(pte->pte)) : pw_ptep_get(pte);
					if (pte_present(tv))
						pres++;
					if (mode == PW_FLOOR_HASH && !pte_none(tv)) {
						PW_MIX(h, a | 5);
						PW_MIX(h, pte_val(tv));
					}
				}
			}
		}
	}
	*present = pres;
	if (hash)
		*hash = h;
	return n;
}

static noinline long pw_bench_floor_shim(struct mm_struct *mm, unsigned long s, unsigned long e,
					 long *present)
{
	return pw_bench_descend(mm, s, e, PW_FLOOR_SHIM, present, NULL, NULL);
}

static noinline long pw_bench_floor_raw(struct mm_struct *mm, unsigned long s, unsigned long e,
					long *present)
{
	return pw_bench_descend(mm, s, e, PW_FLOOR_RAW, present, NULL, NULL);
}

static noinline long pw_bench_floor_cb(struct mm_struct *mm, unsigned long s, unsigned long e,
				       long *present, struct mm_walk *walk)
{
	return pw_bench_descend(mm, s, e, PW_FLOOR_CB, present, NULL, walk);
}

static int pw_bench_do_floor(struct mm_struct *mm, unsigned long start, unsigned long end,
			     int mode, int walker, long iters, long long *ns, long *entries,
			     struct pw_walk_counts *counts)
{
	struct mm_walk_ops ops;
	struct pw_walk_priv priv = { counts, NULL };
	struct mm_walk walk = { .ops = &ops, .mm = mm, .private = &priv };
	long long t0, t1;
	long i, present = 0;

	pw_walker_ops(&ops, walker, 0);
	for (i = 0; i < iters; i++) {
		memset(counts, 0, sizeof(*counts));
		t0 = pw_bench_now();
		switch (mode) {
		case PW_FLOOR_SHIM:
			*entries = pw_bench_floor_shim(mm, start, end, &present);
			break;
		case PW_FLOOR_RAW:
			*entries = pw_bench_floor_raw(mm, start, end, &present);
			break;
		default:
			*entries = pw_bench_floor_cb(mm, start, end, &present, &walk);
			break;
		}
		t1 = pw_bench_now();
		ns[i] = t1 - t0;
		if (*entries < 0)
			return -EFAULT;
		if (mode != PW_FLOOR_CB)
			counts->pte_present = present;
	}
	return 0;
}

int pw_bench_floor(struct pw_mm *m, unsigned long start, unsigned long end, int mode,
		   int walker, long iters, long long *ns_out, long *entries,
		   struct pw_walk_counts *counts)
{
	if (mode < PW_FLOOR_SHIM || mode > PW_FLOOR_CB || walker == PW_WALK_PYTHON)
		return -EINVAL;
	return PW_GUARDED(m, pw_bench_do_floor(m->mm, start, end, mode, walker, iters, ns_out,
					       entries, counts));
}

static int pw_bench_do_fingerprint(struct mm_struct *mm, unsigned long start, unsigned long end,
				   unsigned long long *hash, long *entries, long *present)
{
	mmap_read_lock(mm);
	*entries = pw_bench_descend(mm, start, end, PW_FLOOR_HASH, present, hash, NULL);
	mmap_read_unlock(mm);
	return 0;
}

int pw_bench_fingerprint(struct pw_mm *m, unsigned long start, unsigned long end,
			 unsigned long long *hash, long *entries, long *present)
{
	return PW_GUARDED(m, pw_bench_do_fingerprint(m->mm, start, end, hash, entries, present));
}

/* Read faults at random populated addresses (segs[i]: start, start + step, ... < end):
 * on existing entries they change nothing, but take mmap_lock and the page-table locks. */
static long pw_bench_do_refault(struct mm_struct *mm, struct pw_bench_seg *segs, int nsegs,
				volatile int *stop, long *ops)
{
	unsigned long total = 0, r, k;
	int lo, hi, mid;
	long n = 0;

	for (int i = 0; i < nsegs; i++)
		total += (segs[i].end - segs[i].start + segs[i].step - 1) / segs[i].step;
	if (!total)
		return 0;
	for (;;) {
		int s = __atomic_load_n(stop, __ATOMIC_ACQUIRE);

		if (s == PW_STOP_EXIT)
			break;
		if (s == PW_STOP_PAUSE) {	/* paused: poll every 20 us, hold nothing */
			struct timespec ts = { 0, 20000 };

			nanosleep(&ts, NULL);
			continue;
		}
		r = pw_rand() % total;
		/* segs[].first is the running count before the segment: binary search */
		lo = 0;
		hi = nsegs - 1;
		while (lo < hi) {
			mid = (lo + hi + 1) / 2;
			if (segs[mid].first <= r)
				lo = mid;
			else
				hi = mid - 1;
		}
		k = r - segs[lo].first;
		int ret = pw_do_fault(mm, segs[lo].start + k * segs[lo].step, 0);

		if (ret < 0)
			return ret;
		*ops = ++n;
	}
	return n;
}

long pw_bench_refault(struct pw_mm *m, struct pw_bench_seg *segs, int nsegs,
		      unsigned long long seed, int tid, int *stop, long *ops)
{
	unsigned long first = 0;

	for (int i = 0; i < nsegs; i++) {
		if (!segs[i].step || segs[i].start >= segs[i].end)
			return -EINVAL;
		segs[i].first = first;
		first += (segs[i].end - segs[i].start + segs[i].step - 1) / segs[i].step;
	}
	pw_cur.tid = tid;
	pw_cur.role = PW_ROLE_READER;
	pw_cur.rng = (seed + 1) * 0x9e3779b97f4a7c15ULL ^ ((u64)tid << 32 | 1);
	*ops = 0;
	return PW_GUARDED(m, pw_bench_do_refault(m->mm, segs, nsegs, stop, ops));
}
