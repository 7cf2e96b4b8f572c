/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim runtime: delay injection at the shared-state hook, oops
 * capture (SIGSEGV/SIGBUS, BUG, WARN), panics, and the lock slow path.
 * No kernel counterpart: this is what a machine, a console and the
 * kernel's oops/panic machinery give the real code.
 */
#include <signal.h>
#include <execinfo.h>
#include <ucontext.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

int pw_delays_users;
__thread struct pw_thread pw_cur PW_TLS_LOCAL;	/* runtime.h says why */

/* A lock waiter that spins longer than this reports a soft lockup. */
#define PW_LOCKUP_NS (10ULL * 1000 * 1000 * 1000)

static u64 pw_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Count an mm turning its delays on (+1) or off (-1), and keep the hook's
 * PW_HOOK_DELAYS bit set while any mm has them (a mutex: the count and the
 * bit change together; this is not a hot path). */
void pw_delays_users_add(int delta)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

	pthread_mutex_lock(&lock);
	pw_delays_users += delta;
	if (pw_delays_users > 0)
		__atomic_fetch_or(&pw_hook_flags, PW_HOOK_DELAYS, __ATOMIC_SEQ_CST);
	else
		__atomic_fetch_and(&pw_hook_flags, ~PW_HOOK_DELAYS, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&lock);
}

/* A delay at a hook, by the profile of the mm this thread's guarded call is on. */
void pw_delay(enum pw_site site)
{
	struct pw_mm *m = pw_cur.mm;
	struct pw_delay_profile *d;
	unsigned int spins;
	u64 r;

	if (!pw_cur.active || !m || !__atomic_load_n(&m->delays.enabled, __ATOMIC_ACQUIRE))
		return;
	d = &m->delays;
	r = pw_rand();
	if ((r & 0xffff) >= d->prob[site])
		return;
	spins = d->max_spins[site] ? (r >> 16) % (d->max_spins[site] + 1) : 0;
	while (spins--)
		cpu_relax();
	if (((r >> 48) % 1000) < d->yield_permille)
		sched_yield();
}

static void pw_fill_report(struct pw_report *r, int kind, const char *file, int line,
			   const char *msg, unsigned long address, void *ucv)
{
	void *frames[PW_MAX_FRAMES + 8];
	int n, first = 0, i;
	unsigned long ip = 0;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->tid = pw_cur.tid;
	r->role = pw_cur.role;
	r->address = address;
	r->file = file;
	r->line = line;
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
	n = backtrace(frames, PW_MAX_FRAMES + 8);
	if (ucv) {
		ucontext_t *uc = ucv;

		ip = (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
		/* drop the handler's own frames: start at the interrupted ip */
		for (i = 0; i < n; i++)
			if ((unsigned long)frames[i] == ip) {
				first = i;
				break;
			}
		if (i == n) {
			first = n;	/* not found: report the ip alone first */
		}
	} else {
		first = 1;	/* drop pw_fill_report's caller chain start (pw_oops) */
	}
	r->ip = ip;
	i = 0;
	if (ucv && first == n)
		r->frames[i++] = (void *)ip;
	for (; first < n && i < PW_MAX_FRAMES; first++)
		r->frames[i++] = frames[first];
	r->nframes = i;
	if (kind == PW_OOPS_SEGV || kind == PW_OOPS_BUS)
		pw_history_racing(r, address);	/* who changed the entry read */
}

void pw_oops(int kind, const char *file, int line, const char *msg,
	     unsigned long address, void *uc)
{
	struct pw_mm *m = pw_cur.mm;

	if (!pw_cur.active || !m) {
		fprintf(stderr, "pywalk: %s at %s:%d outside a guarded call\n", msg,
			file ? file : "?", line);
		abort();
	}
	if (__atomic_exchange_n(&m->panic, 1, __ATOMIC_ACQ_REL) == 0) {
		pw_fill_report(&m->oops, kind, file, line, msg, address, uc);
		__atomic_store_n(&m->oops_ready, 1, __ATOMIC_RELEASE);
	}
	pw_cur.active = 0;
	siglongjmp(pw_cur.jb, 1);
}

/* A report that lets execution go on; entry: a page-table entry whose
 * stores it lists (racing), or 0 */
static void pw_warn_entry(int kind, const char *file, int line, const char *msg,
			  unsigned long entry)
{
	struct pw_mm *m = pw_cur.mm;
	int n;

	if (!m)
		return;
	n = __atomic_fetch_add(&m->nwarns, 1, __ATOMIC_ACQ_REL);
	if (n < PW_MAX_WARNS) {
		pw_fill_report(&m->warns[n], kind, file, line, msg, 0, NULL);
		if (entry)
			pw_history_entry(&m->warns[n], entry);
		__atomic_store_n(&m->warn_ready[n], 1, __ATOMIC_RELEASE);
	}
	if (pw_sched_me >= 0)
		pw_sched_note_warn();
}

void pw_warn_kind(int kind, const char *file, int line, const char *msg)
{
	pw_warn_entry(kind, file, line, msg, 0);
}

void pw_warn(const char *file, int line, const char *msg)
{
	pw_warn_kind(PW_OOPS_WARN, file, line, msg);
}

void pw_panic_exit(void)
{
	pw_cur.active = 0;
	siglongjmp(pw_cur.jb, 2);
}

void pw_report_bad_entry(const char *level, unsigned long val)
{
	char msg[96];

	snprintf(msg, sizeof(msg), "bad %s entry %016lx (%s_clear_bad)", level, val, level);
	pw_warn(__FILE__, __LINE__, msg);
	pw_cur.lockless = "*_clear_bad()";	/* the store that follows clears it */
}

/*
 * A kernel error message (pr_err()).  The x86-64 p?d_ERROR() macros print
 * "%s:%d: bad pud %p(%016lx)\n"; *_clear_bad() clears the entry right
 * after, under mmap_lock for read only: that store is the lock checker's
 * documented lockless exception (lockdep.c), announced here.
 */
void pw_printk_err(const char *file, int line, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	size_t n;

	unsigned long entry = 0;
	int bad = !strncmp(fmt, "%s:%d: bad p", 12);	/* p?d_ERROR(): file, line, &e, val */

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (bad) {		/* which entry: its stores go in the report (racing) */
		va_start(ap, fmt);
		(void)va_arg(ap, const char *);
		(void)va_arg(ap, int);
		entry = (unsigned long)va_arg(ap, void *);
		va_end(ap);
	}
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	pw_warn_entry(PW_OOPS_ERR, file, line, msg, entry);
	if (bad)
		pw_cur.lockless = "*_clear_bad()";	/* the store that follows clears it */
}

void pw_spin_wait(unsigned int *iter, const char *what)
{
	static __thread u64 since;
	unsigned int n = ++*iter;

	if (pw_sched_me >= 0) {		/* under a schedule: hand over, never spin */
		pw_sched_block(what);
		return;
	}
	pw_check_panic();
	if (n < 64) {
		for (int i = 0; i < 32; i++)
			cpu_relax();
		return;
	}
	sched_yield();
	if (n == 64)
		since = pw_now_ns();
	else if ((n & 1023) == 0 && pw_now_ns() - since > PW_LOCKUP_NS) {
		char msg[96];

		snprintf(msg, sizeof(msg), "watchdog: soft lockup: spinning on %s", what);
		pw_oops(PW_OOPS_LOCKUP, NULL, 0, msg, 0, NULL);
	}
}

/* ---- signals: a fault in a guarded call is an oops, elsewhere it is not ours ---- */
static struct sigaction pw_old_segv, pw_old_bus;
const char *pw_classify_address(unsigned long addr);	/* shim/src/physmem.c */

static void pw_on_signal(int sig, siginfo_t *si, void *uc)
{
	struct sigaction *old = sig == SIGSEGV ? &pw_old_segv : &pw_old_bus;

	if (pw_cur.active && pw_cur.mm) {
		char msg[128];

		snprintf(msg, sizeof(msg), "BUG: unable to handle page fault (%s)",
			 pw_classify_address((unsigned long)si->si_addr));
		pw_oops(sig == SIGSEGV ? PW_OOPS_SEGV : PW_OOPS_BUS, NULL, 0, msg,
			(unsigned long)si->si_addr, uc);
	}
	pw_chain_signal(sig, si, uc, old);
}

/*
 * A signal that is not ours: hand it on as if we were never installed.
 * Variants that re-installed themselves may chain to each other in a
 * circle; a signal none of them owns then goes round it, so after a few
 * rounds fall back to the default action.
 */
void pw_chain_signal(int sig, siginfo_t *si, void *uc, struct sigaction *old)
{
	static __thread int depth;

	if (++depth > 16) {
		depth = 0;
		signal(sig, SIG_DFL);
		return;
	}
	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction) {
		old->sa_sigaction(sig, si, uc);
		depth = 0;
		return;
	}
	depth = 0;
	if (old->sa_handler == SIG_IGN)
		return;
	if (old->sa_handler != SIG_DFL && old->sa_handler) {
		old->sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);	/* re-executing a faulting access now kills us, as it should */
}

/* Install (again, if someone replaced it) the oops handler; returns 1 if installed now. */
int pw_install_signal_handlers(void)
{
	struct sigaction sa, cur;
	void *dummy[4];
	int installed = 0;

	backtrace(dummy, 4);	/* load the unwinder outside any handler */
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pw_on_signal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, NULL, &cur);
	if (cur.sa_sigaction != pw_on_signal) {
		sigaction(SIGSEGV, &sa, &pw_old_segv);
		installed = 1;
	}
	sigaction(SIGBUS, NULL, &cur);
	if (cur.sa_sigaction != pw_on_signal) {
		sigaction(SIGBUS, &sa, &pw_old_bus);
		installed = 1;
	}
	return installed;
}
