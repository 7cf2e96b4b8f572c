/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk shim: a short history of page-table entry stores, for two-sided
 * crash reports (shim/checkers/history.c).  No kernel counterpart: this is what
 * a debugger's watch log would give.
 */
#ifndef PYWALK_SHIM_HISTORY_H
#define PYWALK_SHIM_HISTORY_H

struct pw_report;

/* Every entry store of the shim's accessors (PW_STORE, PW_XCHG) records
 * who stored what over what, and where from. */
void pw_history_store(void *entry, unsigned long old, unsigned long new);
/* Lock discipline of that store, as lockdep_assert_held() would check it
 * (shim/checkers/lockdep.c); called by pw_history_store(). */
void pw_lockdep_store(void *entry, unsigned long old, unsigned long new);
/* This thread's return addresses by frame pointers, innermost first. */
int pw_hist_frames(void **out, int max);
/* KCSAN-style watchpoints (shim/checkers/kcsan.c), from the __tsan_* entry points */
struct pw_kcsan_cfg {
	int enabled;
	unsigned int interval;	/* about one access in this many arms a watchpoint */
	unsigned int spins;	/* how long a watchpoint stays armed (cpu_relax()) */
};
extern struct pw_kcsan_cfg pw_kcsan;
extern int pw_kcsan_active;	/* armed watchpoints: the fast path's one load */
void pw_kcsan_check(void *p, int size, int type);
void pw_kcsan_watch(void *p, int size, int type);
/* Stale-view stores (shim/checkers/stale.c): the tree's loads of entries (from
 * tsan.c), each store made under the entry's lock (from lockdep.c), and a
 * new guarded call (csrc/api.c). */
void pw_stale_store(void *entry, unsigned long old, unsigned long new);
void pw_stale_reset(void);
/* At an oops on address: the history of the entry whose value maps it. */
void pw_history_racing(struct pw_report *r, unsigned long address);
void pw_history_entry(struct pw_report *r, unsigned long entry);	/* one entry's stores */

/* Page-table accounting and leaks (shim/checkers/leaks.c), under mmap_lock for write. */
struct mm_struct;
void pw_check_tables(struct mm_struct *mm);
/* ... and at the mm's end, after the tree's teardown (kernel: check_mm()) */
void pw_check_mm(struct mm_struct *mm);

#endif
