/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk shim: per-entry history of page-table entry stores.
 *
 * A hash of the entry's address picks a bucket; each bucket keeps its last
 * PW_HIST_WAYS stores (entries that share a bucket share its ways).  A
 * record is who (thread, role), what (old and new value) and where from (a
 * few return addresses, symbolised in Python as the oops path does).  A
 * record is written without a lock: a writer that finds its slot taken by
 * another (preempted, the ring went round) drops its record rather than
 * mix the two, and a reader keeps a record only if no one was writing it
 * and its sequence number (written last) held across the copy.
 *
 * At an oops on an address, pw_history_racing() looks for the entry whose
 * value maps that address (a huge leaf whose frame holds it, or a table
 * pointer to its page) and copies that entry's history into the report,
 * newest first: who last changed the entry the crashing thread read.
 *
 * Instrumented builds also keep, per thread, a ring of the tree's recent
 * loads of page-table entries (shim/checkers/tsan.c: address, value, the
 * load's site and kind: plain, marked, atomic).  At the oops the newest of
 * them whose value maps the faulting address (a none entry maps pfn 0:
 * "low physical memory") names the entry the faulting access derived from;
 * the report then carries this thread's loads of that entry and every
 * thread's stores to it, each with the history's clock, so that Python can lay them out
 * in order (pywalk/variant/explain.py).
 * No kernel counterpart.
 */
#include <pthread.h>

#define PW_HIST_BUCKETS 4096
#define PW_HIST_WAYS 8

struct pw_store_rec {
	unsigned long seq;	/* 0: empty; written last */
	unsigned long entry, old, new;
	int tid, role;
	void *frames[PW_RACING_FRAMES];
	int nframes;
	int busy;		/* a writer is filling it in */
};

static struct pw_store_rec pw_hist[PW_HIST_BUCKETS][PW_HIST_WAYS];
/*
 * The history's clock: every recorded store advances it, and a load reads
 * it, so a load with clock C came after the stores up to C and before C + 1.
 * (It replaced the TSC: rdtsc measured 50-85 ns here, on every entry load of
 * an instrumented build; a clock read is one load of a line that only
 * stores write.)
 */
static unsigned long pw_hist_clock;

/* this thread's recent entry loads (tsan.c); the op they were in */
#define PW_LOAD_RING 32
struct pw_load_rec {
	unsigned long entry, val, site, seq, ops;
	int kind;
};
static __thread struct pw_load_rec pw_load_ring[PW_LOAD_RING];
static __thread unsigned int pw_load_head;

/* A load of the entry at p saw v (the hot path: one ring write). */
static inline void pw_history_load(void *p, unsigned long v, void *site, int kind)
{
	struct pw_load_rec *r = &pw_load_ring[pw_load_head++ % PW_LOAD_RING];

	r->entry = (unsigned long)p;
	r->val = v;
	r->site = (unsigned long)site;
	r->kind = kind;
	r->ops = pw_cur.ops;
	r->seq = __atomic_load_n(&pw_hist_clock, __ATOMIC_RELAXED);
}
static unsigned int pw_hist_head[PW_HIST_BUCKETS];
static __thread unsigned long pw_stack_lo, pw_stack_hi;

static unsigned int pw_hist_bucket(unsigned long entry)
{
	return (unsigned int)((entry >> 3) * 0x9e3779b97f4a7c15ULL >> 52) % PW_HIST_BUCKETS;
}

/* Return addresses by frame pointers (every frame of ours keeps one),
 * never leaving this thread's stack. */
noinline int pw_hist_frames(void **out, int max)
{
	unsigned long *fp = __builtin_frame_address(0);
	int n = 0;

	if (!pw_stack_hi) {
		pthread_attr_t a;
		void *lo;
		size_t sz;

		if (pthread_getattr_np(pthread_self(), &a) == 0) {
			pthread_attr_getstack(&a, &lo, &sz);
			pthread_attr_destroy(&a);
			pw_stack_lo = (unsigned long)lo;
			pw_stack_hi = (unsigned long)lo + sz;
		} else {
			pw_stack_lo = pw_stack_hi = 1;
		}
	}
	while (n < max) {
		unsigned long f = (unsigned long)fp;

		if (f < pw_stack_lo || f + 16 > pw_stack_hi || (f & 7))
			break;
		out[n++] = (void *)fp[1];
		if (fp[0] <= f)
			break;
		fp = (unsigned long *)fp[0];
	}
	return n;
}

noinline
void pw_history_store(void *entry, unsigned long old, unsigned long new)
{
	unsigned int b, w;
	struct pw_store_rec *r;

	/* a benchmark's mm times the tree's code, not this bookkeeping (a
	 * record per store, its frames, and the lock check below) */
	if (pw_cur.mm && pw_cur.mm->untracked)
		return;
	b = pw_hist_bucket((unsigned long)entry);
	w = __atomic_fetch_add(&pw_hist_head[b], 1, __ATOMIC_RELAXED) % PW_HIST_WAYS;
	r = &pw_hist[b][w];
	if (__atomic_exchange_n(&r->busy, 1, __ATOMIC_ACQUIRE)) {
		pw_lockdep_store(entry, old, new);	/* slot in use: no record */
		return;
	}

	__atomic_store_n(&r->seq, 0, __ATOMIC_RELAXED);
	r->entry = (unsigned long)entry;
	r->old = old;
	r->new = new;
	r->tid = pw_cur.tid;
	r->role = pw_cur.role;
	r->nframes = pw_hist_frames(r->frames, PW_RACING_FRAMES);
	/* after the entry store (PW_STORE made it): loads that read this
	 * clock or a later one saw it */
	__atomic_store_n(&r->seq, __atomic_add_fetch(&pw_hist_clock, 1, __ATOMIC_RELAXED),
			 __ATOMIC_RELEASE);
	__atomic_store_n(&r->busy, 0, __ATOMIC_RELEASE);
	pw_lockdep_store(entry, old, new);
}

/* Does entry value v map physical address pa?  A huge leaf maps its frame
 * (1 GiB if the frame is 1 GiB aligned, else 2 MiB: the entry's level is
 * not recorded), a table pointer or pte its 4 KiB page. */
static int pw_hist_maps(unsigned long v, unsigned long pa)
{
	unsigned long base, size;

	if (!(v & _PAGE_PRESENT))
		return 0;
	if (v & _PAGE_PSE) {
		base = v & PHYSICAL_PMD_PAGE_MASK;
		size = (base & ((1UL << 30) - 1)) ? (2UL << 20) : (1UL << 30);
	} else {
		base = v & PTE_PFN_MASK;
		size = PAGE_SIZE;
	}
	return pa >= base && pa - base < size;
}

/* The stores to one entry, newest first, into rep->racing (a bad entry's
 * report names who stored what it found: pw_printk_err(); an oops's, the
 * stores to the entry its faulting access derived from). */
void pw_history_entry(struct pw_report *rep, unsigned long entry)
{
	struct pw_store_rec snap[PW_HIST_WAYS], *r;
	int b = pw_hist_bucket(entry), w, n = 0;

	rep->nracing = 0;
	/* other threads may still be storing (a report that lets execution go
	 * on): keep a copy of each record only if its seq held across the copy */
	for (w = 0; w < PW_HIST_WAYS; w++) {
		unsigned long seq = __atomic_load_n(&pw_hist[b][w].seq, __ATOMIC_ACQUIRE);

		snap[w] = pw_hist[b][w];
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&pw_hist[b][w].seq, __ATOMIC_RELAXED) != seq ||
		    __atomic_load_n(&pw_hist[b][w].busy, __ATOMIC_RELAXED))
			seq = 0;
		snap[w].seq = seq;
	}
	for (unsigned long after = ~0UL; n < PW_MAX_RACING;) {
		struct pw_store_rec *pick = NULL;

		for (w = 0; w < PW_HIST_WAYS; w++) {
			r = &snap[w];
			if (r->entry == entry && r->seq && r->seq < after &&
			    (!pick || r->seq > pick->seq))
				pick = r;
		}
		if (!pick)
			break;
		after = pick->seq;
		rep->racing[n].tid = pick->tid;
		rep->racing[n].role = pick->role;
		rep->racing[n].entry = pick->entry;
		rep->racing[n].old = pick->old;
		rep->racing[n].new = pick->new;
		rep->racing[n].nframes = pick->nframes;
		rep->racing[n].seq = pick->seq;
		memcpy(rep->racing[n].frames, pick->frames, sizeof(pick->frames));
		n++;
	}
	rep->nracing = n;
}

/* Could a walk have derived pa from entry value v?  As pw_hist_maps(), and a
 * non-present value is a table pointer to its pfn's page (none: pfn 0). */
static int pw_hist_derives(unsigned long v, unsigned long pa)
{
	if (v & _PAGE_PRESENT)
		return pw_hist_maps(v, pa);
	return (v & PTE_PFN_MASK) == (pa & PAGE_MASK);
}

/* This thread's loads (this op) of the entry the faulting access derived from. */
static void pw_history_loads(struct pw_report *rep, unsigned long pa)
{
	unsigned int head = pw_load_head, i;
	unsigned long entry = 0;
	struct pw_load_rec *r;

	rep->used = -1;
	for (i = 1; i <= PW_LOAD_RING && i <= head; i++) {
		r = &pw_load_ring[(head - i) % PW_LOAD_RING];
		if (r->ops == pw_cur.ops && pw_hist_derives(r->val, pa)) {
			entry = r->entry;
			break;
		}
	}
	if (!entry)
		return;
	rep->entry = entry;
	rep->entry_level = virt_to_page((void *)(entry & PAGE_MASK))->pw_level;
	for (i = 1; i <= PW_LOAD_RING && i <= head && rep->nloads < PW_MAX_LOADS; i++) {
		struct pw_load *l = &rep->loads[rep->nloads];

		r = &pw_load_ring[(head - i) % PW_LOAD_RING];
		if (r->entry != entry || r->ops != pw_cur.ops)
			continue;
		l->entry = r->entry;
		l->val = r->val;
		l->site = r->site;
		l->seq = r->seq;
		l->kind = r->kind;
		if (rep->used < 0 && pw_hist_derives(r->val, pa))
			rep->used = rep->nloads;
		rep->nloads++;
	}
	if (!rep->nracing || rep->racing[0].entry != entry)
		pw_history_entry(rep, entry);
}

void pw_history_racing(struct pw_report *rep, unsigned long address)
{
	unsigned long pa, entry = 0, best = 0;
	struct pw_store_rec *r;
	int b, w;

	rep->nracing = 0;
	rep->nloads = 0;
	rep->used = -1;
	rep->entry = 0;
	rep->entry_level = PW_LEVEL_NONE;
	if (!pw_physbase || address < (unsigned long)pw_physbase)
		return;
	pa = address - (unsigned long)pw_physbase;
	for (b = 0; b < PW_HIST_BUCKETS; b++)
		for (w = 0; w < PW_HIST_WAYS; w++) {
			r = &pw_hist[b][w];
			if (r->seq > best && pw_hist_maps(r->new, pa)) {
				best = r->seq;
				entry = r->entry;
			}
		}
	if (entry) {
		pw_history_entry(rep, entry);
		rep->entry = entry;
		rep->entry_level = virt_to_page((void *)(entry & PAGE_MASK))->pw_level;
	}
	if (pa < PW_PHYS_SIZE)
		pw_history_loads(rep, pa);
}
