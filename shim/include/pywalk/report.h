/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: what an oops, BUG or WARN leaves for Python (the console
 * output of the real kernel).  Read by cffi's cdef too: plain declarations.
 */
#ifndef PYWALK_SHIM_REPORT_H
#define PYWALK_SHIM_REPORT_H

enum pw_oops_kind {
	PW_OOPS_NONE = 0,
	PW_OOPS_SEGV,		/* "BUG: unable to handle page fault" */
	PW_OOPS_BUS,
	PW_OOPS_BUG,		/* BUG(), BUG_ON(), VM_BUG_ON() */
	PW_OOPS_WARN,		/* WARN_ON() and friends: recorded, execution goes on */
	PW_OOPS_LOCKUP,		/* a spinlock or mmap_lock spun for too long */
	PW_OOPS_PANIC,		/* this thread was stopped by another thread's oops */
	PW_OOPS_LOCK,		/* an entry store without its page-table lock (lockdep.c) */
	PW_OOPS_LEAK,		/* page-table accounting or a leaked/freed table (leaks.c) */
	PW_OOPS_DATA_RACE,	/* a KCSAN-style data race (kcsan.c): not an oops */
	PW_OOPS_STALE,		/* a store over a value its thread did not see (stale.c) */
	PW_OOPS_ERR,		/* a kernel error message (pr_err()): recorded, execution goes on */
};

#define PW_MAX_FRAMES 48
#define PW_MAX_RACING 6
#define PW_RACING_FRAMES 8
/* One store to the page-table entry the oopsing thread read (history.h). */
struct pw_racing {
	int tid;
	int role;
	unsigned long entry;	/* the entry's address */
	unsigned long old;
	unsigned long new;
	int nframes;
	void *frames[PW_RACING_FRAMES];	/* return addresses, innermost first */
	unsigned long seq;	/* when: the history's clock after it (history.c) */
};

#define PW_MAX_LOADS 8
/* One load of that entry by the oopsing thread (instrumented builds, history.c). */
struct pw_load {
	unsigned long entry;	/* the entry's address */
	unsigned long val;	/* the value loaded */
	unsigned long site;	/* return address of the __tsan_* call before the load */
	unsigned long seq;	/* when: the history's clock at the load (after stores <= seq) */
	int kind;		/* 0 plain, 2 marked (READ_ONCE), 4 atomic */
};

struct pw_report {
	int kind;
	int tid;		/* harness thread id (role-specific, set by callers) */
	int role;
	unsigned long address;	/* faulting address for SEGV/BUS */
	unsigned long ip;
	const char *file;	/* kernel file:line for BUG/WARN (from #line) */
	int line;
	char msg[160];
	int nframes;
	void *frames[PW_MAX_FRAMES];
	int nracing;		/* SEGV/BUS: stores to the entry that mapped address, newest first */
	struct pw_racing racing[PW_MAX_RACING];
	unsigned long entry;	/* SEGV/BUS: the entry the faulting access derived from (0: unknown) */
	int entry_level;	/* its table page's enum pw_level (-1: not a table now) */
	int nloads;		/* this thread's loads of entry, newest first */
	int used;		/* loads[used]: the newest whose value maps address (-1: none) */
	struct pw_load loads[PW_MAX_LOADS];
};

#endif
