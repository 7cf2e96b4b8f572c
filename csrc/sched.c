/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * pywalk controlled scheduler (harness; no kernel counterpart).
 *
 * n real threads run the real code, one at a time.  A thread runs until it
 * reaches a scheduling point (a pw_hook() site in the run's site mask), a
 * lock it cannot take, or its end; there the scheduler makes one decision
 * (one "step") and hands over, or lets it run on.  Decisions come from the
 * run's seed (PCT or uniform random) or from a recorded list of switches
 * (replay): the default, run on if you can, else the lowest-numbered
 * runnable thread, applies wherever the list says nothing.  Every decision
 * that differs from that default is recorded, so any run replays exactly.
 *
 * PCT (Burckhardt et al., "A Randomized Scheduler with Probabilistic
 * Guarantees of Finding Bugs", ASPLOS 2010): distinct random initial
 * priorities d..d+n-1, the highest-priority runnable thread runs; at the
 * i-th of d-1 change points (steps drawn from 1..k) the running thread's
 * priority drops to d-2-i (i from 0), below every initial one.
 *
 * A lock waiter does not spin: it is marked blocked and hands over; any
 * unlock makes every blocked thread runnable again (it retries the lock).
 * When every live thread is blocked, the run is a deadlock.
 */
#include <pthread.h>

enum { PW_T_UNREG, PW_T_RUNNABLE, PW_T_BLOCKED, PW_T_DONE };

struct pw_sched_thr {
	int state;
	long prio;
	long decisions;		/* made by this thread (its local step count) */
	pthread_cond_t cv;	/* it waits here for its turn */
	const char *blocked_on;
};

int pw_hook_flags;
__thread int pw_sched_me = -1;
/* in the hook's slow path: hooks reached from its own code (say, from
 * instrumented accesses) do nothing */
static __thread int pw_hook_inside;

static struct {
	pthread_mutex_t mu;
	struct pw_mm *m;
	struct pw_sched_params p;
	struct pw_sched_result *res;
	struct pw_sched_trace *trace;
	long trace_cap, ntrace;
	int n, registered, running, abort;
	u64 rng;
	long steps;
	long cp[16];
	int ncp, next_switch;
	unsigned char used[256];	/* local replay: switches taken */
	struct pw_sched_thr t[PW_MAX_SCHED_THREADS];
} pw_sched = { PTHREAD_MUTEX_INITIALIZER };

static void pw_sched_wake(int i)	/* with pw_sched.mu held */
{
	if (i >= 0)
		pthread_cond_signal(&pw_sched.t[i].cv);
}

static void pw_sched_wait_turn(int me)	/* with pw_sched.mu held */
{
	while (pw_sched.running != me && !pw_sched.abort)
		pthread_cond_wait(&pw_sched.t[me].cv, &pw_sched.mu);
}

static u64 pw_sched_rand(void)		/* splitmix64: the schedule's own stream */
{
	u64 z = (pw_sched.rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void pw_hook_slow(enum pw_site site, const volatile void *p)
{
	if (pw_hook_inside)
		return;
	pw_hook_inside = 1;
	if (pw_hook_flags & PW_HOOK_DELAYS)
		pw_delay(site);		/* per mm: pw_delay() asks the thread's mm */
	if ((pw_hook_flags & PW_HOOK_SCHED) && pw_sched_me >= 0)
		pw_sched_point(site, p);	/* may longjmp out (panic): enter resets it */
	pw_hook_inside = 0;
}

/* Everyone stops: a deadlock, the step limit, or a WARN. */
static void pw_sched_abort_locked(void)
{
	pw_sched.abort = 1;
	if (pw_sched.m)
		__atomic_store_n(&pw_sched.m->panic, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < pw_sched.n; i++)
		pthread_cond_signal(&pw_sched.t[i].cv);
}

static int pw_sched_default(int me)
{
	if (me >= 0 && pw_sched.t[me].state == PW_T_RUNNABLE)
		return me;
	for (int i = 0; i < pw_sched.n; i++)
		if (pw_sched.t[i].state == PW_T_RUNNABLE)
			return i;
	return -1;
}

/* One decision: who runs after step `steps` (me: the thread deciding, or -1). */
static int pw_sched_decide(int me)
{
	long s = ++pw_sched.steps, local = me >= 0 ? ++pw_sched.t[me].decisions : -1;
	int def = pw_sched_default(me), pick = def, nrun = 0;
	struct pw_sched_result *res = pw_sched.res;

	if (def < 0)
		return -1;
	switch (pw_sched.p.kind) {
	case PW_SCHED_PCT:
		for (int i = 0; i < pw_sched.ncp; i++)
			if (pw_sched.cp[i] == s && me >= 0)
				pw_sched.t[me].prio = pw_sched.p.depth - 2 - i;
		for (int i = 0; i < pw_sched.n; i++)
			if (pw_sched.t[i].state == PW_T_RUNNABLE &&
			    pw_sched.t[i].prio > pw_sched.t[pick].prio)
				pick = i;
		break;
	case PW_SCHED_RANDOM:
		for (int i = 0; i < pw_sched.n; i++)
			nrun += pw_sched.t[i].state == PW_T_RUNNABLE;
		nrun = pw_sched_rand() % nrun;
		for (int i = 0; i < pw_sched.n; i++)
			if (pw_sched.t[i].state == PW_T_RUNNABLE && nrun-- == 0) {
				pick = i;
				break;
			}
		break;
	case PW_SCHED_REPLAY:
		if (pw_sched.p.switch_by) {	/* by thread and its own count */
			for (int i = 0; i < pw_sched.p.nswitch && i < 256; i++) {
				int t = pw_sched.p.switch_tid[i];

				if (pw_sched.used[i] || pw_sched.p.switch_by[i] != me ||
				    pw_sched.p.switch_local[i] != local)
					continue;
				pw_sched.used[i] = 1;
				if (t >= 0 && t < pw_sched.n &&
				    pw_sched.t[t].state == PW_T_RUNNABLE)
					pick = t;
				break;
			}
			break;
		}
		while (pw_sched.next_switch < pw_sched.p.nswitch &&
		       pw_sched.p.switch_step[pw_sched.next_switch] < s)
			pw_sched.next_switch++;
		if (pw_sched.next_switch < pw_sched.p.nswitch &&
		    pw_sched.p.switch_step[pw_sched.next_switch] == s) {
			int t = pw_sched.p.switch_tid[pw_sched.next_switch++];

			if (t >= 0 && t < pw_sched.n && pw_sched.t[t].state == PW_T_RUNNABLE)
				pick = t;
		}
		break;
	}
	if (s <= res->choices_cap) {
		long mask = 0;

		for (int i = 0; i < pw_sched.n; i++)
			if (pw_sched.t[i].state == PW_T_RUNNABLE)
				mask |= 1L << i;
		res->choices[s - 1] = mask << 8 | pick;
	}
	if (pick != def) {
		if (res->nrec < res->rec_cap) {
			res->rec_step[res->nrec] = s;
			res->rec_tid[res->nrec] = pick;
			res->rec_by[res->nrec] = me;
			res->rec_local[res->nrec] = local;
		}
		res->nrec++;
	}
	if (pw_sched.p.max_steps && s >= pw_sched.p.max_steps && !pw_sched.abort) {
		res->truncated = 1;
		pthread_mutex_lock(&pw_sched.mu);
		pw_sched_abort_locked();
		pthread_mutex_unlock(&pw_sched.mu);
	}
	return pick;
}

/* Hand the CPU from me to next and wait for it to come back (or an abort). */
static void pw_sched_switch(int me, int next)
{
	pthread_mutex_lock(&pw_sched.mu);
	pw_sched.running = next;
	pw_sched_wake(next);
	pw_sched_wait_turn(me);
	pthread_mutex_unlock(&pw_sched.mu);
}

static void pw_sched_deadlock(void)
{
	struct pw_sched_result *res = pw_sched.res;

	res->deadlock = 1;
	if (res->finding_step < 0)
		res->finding_step = pw_sched.steps;
	for (int i = 0; i < pw_sched.n; i++)
		res->blocked[i] = pw_sched.t[i].state == PW_T_BLOCKED;
	pthread_mutex_lock(&pw_sched.mu);
	pw_sched_abort_locked();
	pthread_mutex_unlock(&pw_sched.mu);
}

static struct pw_sched_trace *pw_sched_trace_step(int me, enum pw_site site)
{
	struct pw_sched_trace *e;

	if (!pw_sched.trace_cap)
		return NULL;
	e = &pw_sched.trace[pw_sched.ntrace++ % pw_sched.trace_cap];
	e->step = pw_sched.steps + 1;
	e->tid = me;
	e->site = site;
	e->has_val = 0;
	e->nframes = 0;
	/* the hook's callers: kernel frames inline into these */
	{
		void *f[8];
		int n = backtrace(f, 8), k = 0;

		for (int i = 2; i < n && k < 6; i++)	/* skip us and pw_sched_point */
			e->frames[k++] = f[i];
		e->nframes = k;
	}
	return e;
}

void pw_sched_point(enum pw_site site, const volatile void *p)
{
	int me = pw_sched_me, next;
	struct pw_sched_trace *e;

	if (site == PW_SITE_UNLOCK)	/* lock waiters retry */
		for (int i = 0; i < pw_sched.n; i++)
			if (pw_sched.t[i].state == PW_T_BLOCKED)
				pw_sched.t[i].state = PW_T_RUNNABLE;
	if (pw_sched.abort)
		pw_check_panic();
	if (!(pw_sched.p.site_mask & (1u << site)))
		return;
	e = pw_sched_trace_step(me, site);
	if (e && p && site == PW_SITE_STORE) {
		e->val = *(const volatile unsigned long *)p;
		e->has_val = 1;
	}
	next = pw_sched_decide(me);
	if (next != me && next >= 0)
		pw_sched_switch(me, next);
	pw_check_panic();
	if (e && p && site == PW_SITE_LOAD) {	/* the value this thread now loads */
		e->val = *(const volatile unsigned long *)p;
		e->has_val = 1;
	}
}

void pw_sched_block(const char *what)
{
	int me = pw_sched_me, next;
	struct pw_report *r = &pw_sched.res->stacks[me];
	void *f[PW_MAX_FRAMES];
	int n;

	pw_check_panic();
	pw_sched.t[me].state = PW_T_BLOCKED;
	pw_sched.t[me].blocked_on = what;
	n = backtrace(f, PW_MAX_FRAMES);
	memset(r, 0, sizeof(*r));
	r->kind = PW_OOPS_LOCKUP;
	r->tid = pw_cur.tid;
	r->role = pw_cur.role;
	snprintf(r->msg, sizeof(r->msg), "deadlock: blocked on %s", what);
	for (int i = 1; i < n; i++)
		r->frames[r->nframes++] = f[i];
	pw_sched_trace_step(me, PW_TRACE_WAITS);
	next = pw_sched_decide(me);
	if (next < 0) {
		pw_sched_deadlock();
		pw_panic_exit();
	}
	pw_sched_switch(me, next);
	pw_check_panic();
}

void pw_sched_note_warn(void)
{
	if (pw_sched.res->finding_step < 0)
		pw_sched.res->finding_step = pw_sched.steps;
	pthread_mutex_lock(&pw_sched.mu);
	pw_sched_abort_locked();
	pthread_mutex_unlock(&pw_sched.mu);
}

void pw_sched_begin(struct pw_mm *m, int nthreads, struct pw_sched_params *p,
		    struct pw_sched_result *res, struct pw_sched_trace *trace, long trace_cap)
{
	static int cv_ready;
	long perm[PW_MAX_SCHED_THREADS];

	pw_sched.m = m;
	pw_sched.p = *p;
	pw_sched.res = res;
	pw_sched.trace = trace;
	pw_sched.trace_cap = trace ? trace_cap : 0;
	pw_sched.ntrace = 0;
	pw_sched.n = nthreads;
	pw_sched.registered = 0;
	pw_sched.running = -1;
	pw_sched.abort = 0;
	pw_sched.steps = 0;
	pw_sched.next_switch = 0;
	pw_sched.rng = p->seed * 0xd1342543de82ef95ULL + 1;
	res->steps = 0;
	res->finding_step = -1;
	res->deadlock = res->truncated = res->nrec = 0;
	/* PCT: a random permutation of d..d+n-1, then the change points */
	for (int i = 0; i < nthreads; i++)
		perm[i] = p->depth + i;
	for (int i = nthreads - 1; i > 0; i--) {
		int j = pw_sched_rand() % (i + 1);
		long x = perm[i];

		perm[i] = perm[j];
		perm[j] = x;
	}
	if (!cv_ready) {	/* runs are serialised by the caller (one at a time) */
		for (int i = 0; i < PW_MAX_SCHED_THREADS; i++)
			pthread_cond_init(&pw_sched.t[i].cv, NULL);
		cv_ready = 1;
	}
	for (int i = 0; i < nthreads; i++) {
		pw_sched.t[i].state = PW_T_UNREG;
		pw_sched.t[i].prio = perm[i];
		pw_sched.t[i].blocked_on = NULL;
		pw_sched.t[i].decisions = 0;
	}
	memset(pw_sched.used, 0, sizeof(pw_sched.used));
	pw_sched.ncp = p->kind == PW_SCHED_PCT ? min(max(p->depth - 1, 0), 16) : 0;
	for (int i = 0; i < pw_sched.ncp; i++)
		pw_sched.cp[i] = 1 + pw_sched_rand() % (p->expect_steps > 0 ? p->expect_steps : 1);
	__atomic_fetch_or(&pw_hook_flags, PW_HOOK_SCHED, __ATOMIC_SEQ_CST);
}

/* A participant arrives; the first decision waits for all of them. */
void pw_sched_enter(int idx)
{
	pw_sched_me = idx;
	pw_hook_inside = 0;
	pthread_mutex_lock(&pw_sched.mu);
	pw_sched.t[idx].state = PW_T_RUNNABLE;
	if (++pw_sched.registered == pw_sched.n) {
		pw_sched.running = pw_sched_decide(-1);
		pw_sched_wake(pw_sched.running);
	}
	pw_sched_wait_turn(idx);
	pthread_mutex_unlock(&pw_sched.mu);
}

void pw_sched_exit(int oopsed)
{
	int me = pw_sched_me, next = -1;

	if (oopsed && pw_sched.res->finding_step < 0)
		pw_sched.res->finding_step = pw_sched.steps;
	pw_sched_me = -1;
	pthread_mutex_lock(&pw_sched.mu);
	pw_sched.t[me].state = PW_T_DONE;
	pthread_mutex_unlock(&pw_sched.mu);
	if (pw_sched.abort)
		return;
	if (__atomic_load_n(&pw_sched.m->panic, __ATOMIC_ACQUIRE)) {
		/* an oops: every thread stops, blocked ones too (not a deadlock) */
		pthread_mutex_lock(&pw_sched.mu);
		pw_sched_abort_locked();
		pthread_mutex_unlock(&pw_sched.mu);
		return;
	}
	next = pw_sched_decide(me);
	if (next < 0) {
		for (int i = 0; i < pw_sched.n; i++)
			if (pw_sched.t[i].state == PW_T_BLOCKED) {
				pw_sched_deadlock();
				return;
			}
	}
	pthread_mutex_lock(&pw_sched.mu);
	pw_sched.running = next;
	pw_sched_wake(next);
	pthread_mutex_unlock(&pw_sched.mu);
}

void pw_sched_end(void)
{
	__atomic_fetch_and(&pw_hook_flags, ~PW_HOOK_SCHED, __ATOMIC_SEQ_CST);
	pw_sched.res->steps = pw_sched.steps;
	pw_sched.m = NULL;
}
