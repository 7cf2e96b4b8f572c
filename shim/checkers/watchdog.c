/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * The soft-lockup watchdog, as the kernel's (kernel/watchdog.c)
 * watches CPUs that stop scheduling.  A hunt's thread that completes no
 * kernel operation for its lockup time (pw_stress_run(): the cfg's
 * lockup_ms) is interrupted where it is, by a signal, and reports a LOCKUP
 * oops with the backtrace of the code it was looping in: a walk that
 * retries forever is a finding, never a hang.  The same signal, sent to
 * every thread inside a guarded call (pw_watchdog_kick()), ends a hunt on
 * Ctrl-C or at its time bound even when kernel code never returns.
 *
 * A watched thread has a slot: pointers to its own per-thread state, read
 * by one watchdog thread per variant every PW_WD_TICK_NS.
 */
#include <signal.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>

#define PW_WD_SLOTS 256
#define PW_WD_TICK_NS (200ULL * 1000 * 1000)
#define PW_WD_LOCKUP 1		/* report a soft lockup, then unwind */
#define PW_WD_KICK 2		/* unwind quietly (interrupt, time bound) */

struct pw_wd_slot {
	pthread_t thread;
	int used;
	int fire;			/* PW_WD_LOCKUP or PW_WD_KICK, for the handler */
	const volatile int *active;	/* &pw_cur.active of that thread */
	const volatile unsigned long *ops, *calls;
	const volatile u64 *lockup_ns;	/* 0: not watched */
	const volatile int *sched_me;	/* under a controlled schedule: not watched */
	unsigned long seen_ops, seen_calls;
	u64 since;
};

static struct pw_wd_slot pw_wd[PW_WD_SLOTS];
static pthread_mutex_t pw_wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t pw_wd_key;
static int pw_wd_started;
__thread int pw_wd_me PW_TLS_LOCAL = -1;
static struct sigaction pw_wd_old;

static u64 pw_wd_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void pw_wd_release(void *arg)
{
	struct pw_wd_slot *s = arg;

	pthread_mutex_lock(&pw_wd_lock);
	s->used = 0;
	pthread_mutex_unlock(&pw_wd_lock);
}

/* The calling thread gets a slot, freed when it exits. */
void pw_watchdog_register(void)
{
	pthread_mutex_lock(&pw_wd_lock);
	for (int i = 0; i < PW_WD_SLOTS; i++) {
		struct pw_wd_slot *s = &pw_wd[i];

		if (s->used)
			continue;
		s->thread = pthread_self();
		s->active = &pw_cur.active;
		s->ops = &pw_cur.ops;
		s->calls = &pw_cur.calls;
		s->lockup_ns = &pw_cur.lockup_ns;
		s->sched_me = &pw_sched_me;
		s->seen_ops = s->seen_calls = 0;
		s->since = pw_wd_now();
		s->fire = 0;
		__atomic_store_n(&s->used, 1, __ATOMIC_RELEASE);
		pw_wd_me = i;
		pthread_setspecific(pw_wd_key, s);
		break;
	}
	pthread_mutex_unlock(&pw_wd_lock);
	if (pw_wd_me < 0)
		pw_wd_me = PW_WD_SLOTS;	/* all taken: this thread goes unwatched */
}

static void pw_wd_fire(struct pw_wd_slot *s, int why)
{
	__atomic_store_n(&s->fire, why, __ATOMIC_RELEASE);
	pthread_kill(s->thread, PW_WD_SIGNAL);
}

static void *pw_wd_main(void *unused)
{
	struct timespec tick = { 0, PW_WD_TICK_NS };

	for (;;) {
		nanosleep(&tick, NULL);
		u64 now = pw_wd_now();

		pthread_mutex_lock(&pw_wd_lock);
		for (int i = 0; i < PW_WD_SLOTS; i++) {
			struct pw_wd_slot *s = &pw_wd[i];
			unsigned long ops, calls;
			u64 limit;

			if (!s->used)
				continue;
			ops = *s->ops;
			calls = *s->calls;
			limit = *s->lockup_ns;
			if (ops != s->seen_ops || calls != s->seen_calls || !*s->active ||
			    !limit || *s->sched_me >= 0) {
				s->seen_ops = ops;
				s->seen_calls = calls;
				s->since = now;
				continue;
			}
			if (now - s->since > limit) {
				s->since = now;	/* once per lockup time, if it stays stuck */
				pw_wd_fire(s, PW_WD_LOCKUP);
			}
		}
		pthread_mutex_unlock(&pw_wd_lock);
	}
	return NULL;
}

void pw_watchdog_set_lockup(long ms)
{
	pw_cur.lockup_ns = ms > 0 ? (u64)ms * 1000000ULL : 0;
}

/* Unwind every thread that is inside a guarded call (Ctrl-C, time bound);
 * returns how many were signalled. */
int pw_watchdog_kick(void)
{
	int n = 0;

	pthread_mutex_lock(&pw_wd_lock);
	for (int i = 0; i < PW_WD_SLOTS; i++)
		if (pw_wd[i].used && *pw_wd[i].active) {
			pw_wd_fire(&pw_wd[i], PW_WD_KICK);
			n++;
		}
	pthread_mutex_unlock(&pw_wd_lock);
	return n;
}

static void pw_wd_on_signal(int sig, siginfo_t *si, void *uc)
{
	struct pw_wd_slot *s = pw_wd_me >= 0 && pw_wd_me < PW_WD_SLOTS ? &pw_wd[pw_wd_me] : NULL;
	int why = s ? __atomic_exchange_n(&s->fire, 0, __ATOMIC_ACQ_REL) : 0;

	if (why) {
		if (!pw_cur.active || !pw_cur.mm)
			return;		/* it left kernel code meanwhile */
		if (why == PW_WD_LOCKUP) {
			char msg[96];

			snprintf(msg, sizeof(msg), "watchdog: soft lockup: no kernel operation "
				 "completed for %llu s", (unsigned long long)(pw_cur.lockup_ns / 1000000000ULL));
			pw_oops(PW_OOPS_LOCKUP, NULL, 0, msg, 0, uc);
		}
		pw_panic_exit();	/* every stuck thread gets its own kick */
	}
	/* another variant's (each has its own handler and slots), or a late
	 * second signal: never the default action, which would end the process */
	if ((pw_wd_old.sa_flags & SA_SIGINFO) ? pw_wd_old.sa_sigaction != NULL
	    : (pw_wd_old.sa_handler != SIG_DFL && pw_wd_old.sa_handler != SIG_IGN))
		pw_chain_signal(sig, si, uc, &pw_wd_old);
}

/* Start the watchdog thread and install the handler (again, if replaced). */
void pw_watchdog_start(void)
{
	struct sigaction sa, cur;
	pthread_t t;

	pthread_mutex_lock(&pw_wd_lock);
	if (!pw_wd_started) {
		pthread_attr_t attr;
		sigset_t all, old;

		pthread_key_create(&pw_wd_key, pw_wd_release);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		sigfillset(&all);	/* the watchdog thread takes no signal */
		pthread_sigmask(SIG_SETMASK, &all, &old);
		if (pthread_create(&t, &attr, pw_wd_main, NULL) == 0)
			pw_wd_started = 1;
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		pthread_attr_destroy(&attr);
	}
	pthread_mutex_unlock(&pw_wd_lock);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pw_wd_on_signal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(PW_WD_SIGNAL, NULL, &cur);
	if (cur.sa_sigaction != pw_wd_on_signal)
		sigaction(PW_WD_SIGNAL, &sa, &pw_wd_old);
}
