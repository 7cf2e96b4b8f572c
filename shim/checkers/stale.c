/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk shim: stale-view stores -- an unlocked check-then-act and a lost
 * update under the lock.  No kernel counterpart: this is an oracle, like
 * lockdep.c.  It needs the instrumented build (pywalk/variant/instrument.py):
 * the tree's own loads of an entry are seen only through the __tsan_*
 * entry points (shim/checkers/tsan.c), and through the entry accessors' PW_LOAD.
 *
 * Each thread remembers, for a few entries, the value its own (tree) code
 * last loaded (plain, READ_ONCE, or through the entry accessors; the shim's
 * stand-ins, such as handle_pte_fault(), say where they look), and the
 * value it last stored there.
 * The rule: a page-table entry store made under that entry's page-table
 * lock must store over the value this thread last saw of the entry.  Code
 * that is right re-reads the entry once it holds the lock (pmd_install(),
 * __pmd_alloc(), insert_pfn_pud(), huge_pud_set_accessed()'s pud_same(), ...),
 * and under the lock nobody else changes it, so the two agree.  They
 * differ only when the thread acts on a view taken before the lock:
 *   - "check-then-act": it last saw the entry none (an unlocked
 *     pud_none()/pmd_none() check not repeated under the lock) and installs
 *     over an entry another thread put there meanwhile;
 *   - "lost update": it last saw a value V, and under the lock writes over
 *     a different value: the change between its read and its store is lost.
 * A STALE finding (kind 10), with the store's backtrace.  Other atomic
 * accesses (xchg, cmpxchg: they return the value they replace, and the
 * load PW_STORE makes for the history) are not views.  A thread's views last one
 * guarded call and one scenario operation (pw_cur.ops); stores under
 * mmap_lock for write (teardown) and the documented lockless ones
 * (lockdep.c) are not checked.  Slots are few and direct-mapped: an evicted
 * view is a missed check, never a false one.
 */

#define PW_STALE_SLOTS 16

struct pw_stale_seen {
	unsigned long entry, val, epoch;
};

static __thread struct pw_stale_seen pw_stale[PW_STALE_SLOTS];
static __thread unsigned long pw_stale_calls;

static inline unsigned long pw_stale_epoch(void)
{
	return pw_stale_calls << 40 ^ pw_cur.ops;
}

static inline struct pw_stale_seen *pw_stale_slot(unsigned long entry)
{
	return &pw_stale[(entry >> 3) % PW_STALE_SLOTS];
}

/* A new guarded call: views of the last one are forgotten. */
void pw_stale_reset(void)
{
	pw_stale_calls++;
}

int pw_stale_on;		/* set by tsan.c: this build's tree code is instrumented */

/* A load of the 8 bytes at p saw v: from the tree's code (tsan.c, plain or
 * READ_ONCE) or an entry accessor (its PW_LOAD). */
void pw_stale_view(void *p, unsigned long v)
{
	unsigned long e = (unsigned long)p, off = e - (unsigned long)pw_physbase;
	struct pw_stale_seen *s;

	if (!pw_stale_on || off < PW_PT_BASE || off >= PW_PT_END || (e & 7) || !pw_cur.active)
		return;
	if (virt_to_page((void *)(e & PAGE_MASK))->pw_level == PW_LEVEL_NONE)
		return;		/* not a page table (a freed one, or never one) */
	s = pw_stale_slot(e);
	s->entry = e;
	s->val = v;
	s->epoch = pw_stale_epoch();
}

/* An entry store, made holding the entry's page-table lock (lockdep.c). */
void pw_stale_store(void *entry, unsigned long old, unsigned long new)
{
	struct pw_stale_seen *v = pw_stale_slot((unsigned long)entry);
	unsigned long epoch = pw_stale_epoch(), seen = v->val;
	char msg[200];

	if (v->entry != (unsigned long)entry || v->epoch != epoch)
		return;		/* no view of it (or no instrumented loads at all) */
	v->val = new;		/* the thread knows what it stored */
	if (seen == old)
		return;
	if (!seen)
		snprintf(msg, sizeof(msg), "check-then-act: entry store %016lx over %016lx, "
			 "which this thread last saw none (checked before the lock, not under it)",
			 new, old);
	else
		snprintf(msg, sizeof(msg), "lost update: entry store %016lx over %016lx under the lock, "
			 "but this thread last saw %016lx (a change in between is lost)",
			 new, old, seen);
	pw_warn_kind(PW_OOPS_STALE, NULL, 0, msg);
}
