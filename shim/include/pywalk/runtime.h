/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: per-thread context, the shared-state hook, and oops capture.
 *
 * Every shim operation that touches shared state (page-table entry loads and
 * stores, lock and unlock, the driver's fault return) calls pw_hook() so that
 * delay injection (and, later, a controlled scheduler) acts in one place.
 * A hook only waits: it never does another thread's work.
 */
#ifndef PYWALK_SHIM_RUNTIME_H
#define PYWALK_SHIM_RUNTIME_H

#include <setjmp.h>
#include <signal.h>
#include <sched.h>
#include "compiler.h"

#include "report.h"
/* the constants the harness shares with Python, enum pw_site among them
 * (csrc/pywalk_api.h: shim/ and csrc/ are siblings, installed or not) */
#include "../../../csrc/pywalk_api.h"

/* Delay profile of one mm, set from Python (pywalk/variant/delays.py documents it). */
struct pw_delay_profile {
	int enabled;
	unsigned int prob[PW_NR_SITES];	/* chance per hit, in 1/65536 */
	unsigned int max_spins[PW_NR_SITES];	/* a delay is 0..max cpu_relax() */
	unsigned int yield_permille;	/* share of delays that also sched_yield() */
};
/* How many mms have delays on; while there are any, PW_HOOK_DELAYS is set
 * in pw_hook_flags, so a hook stays one load and a branch while none has. */
extern int pw_delays_users;
void pw_delays_users_add(int delta);

/* PW_MAX_WARNS: csrc/pywalk_api.h */
/* Harness state of one mm (no kernel counterpart): the panic flag and the
 * reports that BUG/oops/WARN leave for Python. */
struct pw_mm {
	volatile int panic;		/* set by the first oops; stops the others */
	int oops_ready;			/* the first oops's report is complete */
	struct pw_report oops;		/* the first oops */
	int nwarns;			/* WARNs seen (the first PW_MAX_WARNS kept) */
	struct pw_report warns[PW_MAX_WARNS];
	int warn_ready[PW_MAX_WARNS];	/* warns[i] is complete (its author may still fill it) */
	unsigned long next_addr;	/* where the next map() goes */
	struct mm_struct *mm;
	struct pw_delay_profile delays;	/* window widening for every call on this mm */
	int untracked;			/* pywalk bench: no store history (history.c) */
};

/* What a walk did on the split path (pw_note_split()); kept in the walk's
 * own private data, so that its callbacks reach it without TLS. */
struct pw_split_watch {
	int level;		/* the last split's level (2 PUD, 3 PMD) until the walk moves on */
	unsigned long addr;	/* and its (aligned) address */
	long splits[2];		/* entries cleared by a split: [0] PUD, [1] PMD */
	long retries;		/* splits after which the walk went back to that entry */
};

/* Per-thread state: which mm the thread works on, and where to go on oops. */
struct pw_thread {
	sigjmp_buf jb;
	int active;		/* inside a guarded kernel call */
	int tid, role;
	struct pw_mm *mm;
	volatile int *panic;	/* the mm's panic flag */
	u64 rng;
	unsigned long ops;	/* kernel operations completed (scenario loops) */
	unsigned long calls;	/* guarded calls entered (the watchdog's heartbeat) */
	u64 lockup_ns;		/* the watchdog's lockup time for this thread (0: off) */
	struct pw_split_watch *watch;	/* the walk this thread is in, if it counts splits */
	const char *lockless;	/* the next entry store is a documented lockless one
				 * (shim/checkers/lockdep.c says which) */
};
/*
 * Hidden: the variant's .so is one module, and a hidden thread-local binds
 * in it, so gcc takes the local-dynamic model: one __tls_get_addr() call
 * for the module's TLS block per function, shared with its static
 * __thread variables (pw_tsan_skip, pw_stale, ...), instead of a
 * global-dynamic call per variable (an __tls_get_addr() call was 8-13% of
 * an instrumented run's samples).  Initial-exec would need no call at all,
 * but it needs the whole module's TLS (4.8 KiB) in glibc's static TLS
 * surplus: no variant can be dlopen()ed with the default
 * glibc.rtld.optional_static_tls, 15 with 64 KiB (issue 22).
 */
#define PW_TLS_LOCAL __attribute__((visibility("hidden"), tls_model("local-dynamic")))
extern __thread struct pw_thread pw_cur PW_TLS_LOCAL;

void pw_delay(enum pw_site site);
#include "sched.h"
void pw_oops(int kind, const char *file, int line, const char *msg,
	     unsigned long address, void *uc) __attribute__((noreturn));
void pw_warn(const char *file, int line, const char *msg);
void pw_warn_kind(int kind, const char *file, int line, const char *msg);
void pw_panic_exit(void) __attribute__((noreturn));
void pw_chain_signal(int sig, siginfo_t *si, void *uc, struct sigaction *old);

/* the soft-lockup watchdog (shim/checkers/watchdog.c) */
#define PW_WD_SIGNAL (SIGRTMIN + 6)
extern __thread int pw_wd_me PW_TLS_LOCAL;
void pw_watchdog_register(void);
void pw_watchdog_start(void);
static inline void pw_watchdog_enter(void)	/* at every guarded call */
{
	if (unlikely(pw_wd_me < 0))
		pw_watchdog_register();
	pw_cur.calls++;
}

static inline u64 pw_rand(void)	/* xorshift64*, per thread, seeded by callers */
{
	u64 x = pw_cur.rng ? pw_cur.rng : 0x9e3779b97f4a7c15ULL;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	pw_cur.rng = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/*
 * Whether the hook's slow path runs: bit 0 delays (some mm has them on:
 * pw_delays_users; pw_delay() then asks the calling thread's mm),
 * bit 1 the controlled scheduler (csrc/sched.c).  One flag word, so the
 * disabled path stays one predictable branch.
 */
#define PW_HOOK_DELAYS 1
#define PW_HOOK_SCHED 2
extern int pw_hook_flags;
void pw_hook_slow(enum pw_site site, const volatile void *p);

/* The one hook on shared state; p is the entry loaded or stored, if any. */
static __always_inline void pw_hook_at(enum pw_site site, const volatile void *p)
{
	if (unlikely(pw_hook_flags))
		pw_hook_slow(site, p);
}

static __always_inline void pw_hook(enum pw_site site)
{
	pw_hook_at(site, NULL);
}

/*
 * The walk's next step at a level (2 PUD, 3 PMD, 4 PTE) and address, as a
 * walker callback or a split sees it.  Right after a split, the same level
 * and entry again (another split, a hole, an entry callback) means the walk
 * went back to the entry it had just split (goto again / ACTION_AGAIN): a
 * retry.  Anything else means it went on (descended or moved past); the
 * next step at the split's level elsewhere says so too, so pte-level steps
 * need not be watched.
 */
static __always_inline void pw_watch_step(struct pw_split_watch *w, int level, unsigned long addr)
{
	if (unlikely(w->level)) {
		unsigned long mask = w->level == 2 ? ~((1UL << 30) - 1) : ~((1UL << 21) - 1);

		if (level == w->level && (addr & mask) == w->addr)
			w->retries++;
		w->level = 0;
	}
}

/* A split path cleared the huge entry at (level, haddr): counted for the
 * walk this thread is in (none: not counted). */
static __always_inline void pw_note_split(int level, unsigned long haddr)
{
	struct pw_split_watch *w = pw_cur.watch;

	if (!w)
		return;
	pw_watch_step(w, level, haddr);
	w->splits[level - 2]++;
	w->level = level;
	w->addr = haddr;
}

/* Called from every spin loop: another thread's oops stops this one. */
static __always_inline void pw_check_panic(void)
{
	if (unlikely(pw_cur.panic && *pw_cur.panic))
		pw_panic_exit();
}

/* kernel: BUG(), BUG_ON(), VM_BUG_ON*() (CONFIG_DEBUG_VM=y), WARN*() */
#define BUG() pw_oops(PW_OOPS_BUG, __FILE__, __LINE__, "kernel BUG", 0, NULL)
#define BUG_ON(c) do { if (unlikely(c)) pw_oops(PW_OOPS_BUG, __FILE__, __LINE__, \
					"kernel BUG: BUG_ON(" #c ")", 0, NULL); } while (0)
#define VM_BUG_ON(c) do { if (unlikely(c)) pw_oops(PW_OOPS_BUG, __FILE__, __LINE__, \
					"kernel BUG: VM_BUG_ON(" #c ")", 0, NULL); } while (0)
#define VM_BUG_ON_VMA(c, vma) VM_BUG_ON(c)
#define VM_BUG_ON_PAGE(c, page) VM_BUG_ON(c)
#define VM_BUG_ON_FOLIO(c, folio) VM_BUG_ON(c)
#define VM_BUG_ON_MM(c, mm) VM_BUG_ON(c)
#define VM_WARN_ON(c) WARN_ON(c)
#define VM_WARN_ON_ONCE(c) WARN_ON_ONCE(c)
#define WARN_ON(c) ({ int __w = !!(c); \
	if (unlikely(__w)) pw_warn(__FILE__, __LINE__, "WARN_ON(" #c ")"); unlikely(__w); })
#define WARN_ON_ONCE(c) WARN_ON(c)	/* every hit is reported: once per mm is Python's job */
#define WARN(c, ...) ({ int __w = !!(c); \
	if (unlikely(__w)) pw_warn(__FILE__, __LINE__, "WARN(" #c ")"); unlikely(__w); })
#define WARN_ONCE(c, ...) WARN(c, __VA_ARGS__)
/* kernel: printk() at KERN_ERR, pr_err(): a kernel error message is a
 * finding (kind ERR) whose text is the tree's, formatted as the kernel's
 * vsnprintf() would (%p unhashed); execution goes on */
void pw_printk_err(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define pr_err(fmt, ...) pw_printk_err(__FILE__, __LINE__, fmt, ##__VA_ARGS__)
#define VM_WARN_ON_ONCE_PAGE(c, p) WARN_ON(c)
#define VM_WARN_ON_ONCE_FOLIO(c, f) WARN_ON(c)
#define VM_WARN_ON_FOLIO(c, f) WARN_ON(c)

#endif
