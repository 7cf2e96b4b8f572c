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
	/* the TSC orders stores across threads without a shared counter
	 * (invariant TSC): a global counter would bounce a cache line on every store */
	__atomic_store_n(&r->seq, __builtin_ia32_rdtsc() | 1, __ATOMIC_RELEASE);
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

void pw_history_racing(struct pw_report *rep, unsigned long address)
{
	unsigned long pa, entry = 0, best = 0;
	struct pw_store_rec *r;
	int b, w;

	rep->nracing = 0;
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
	if (entry)
		pw_history_entry(rep, entry);
}

/* The stores to one entry, newest first, into rep->racing (a bad entry's
 * report names who stored what it found: pw_printk_err()). */
void pw_history_entry(struct pw_report *rep, unsigned long entry)
{
	struct pw_store_rec snap[PW_HIST_WAYS], *r;
	int b, w, n = 0;

	rep->nracing = 0;
	b = pw_hist_bucket(entry);
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
		memcpy(rep->racing[n].frames, pick->frames, sizeof(pick->frames));
		n++;
	}
	rep->nracing = n;
}
