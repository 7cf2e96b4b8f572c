/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * One scheduled run (harness): n real threads, each running its scenario
 * loop (csrc/scenarios.c) for a fixed number of operations, one at a time
 * under the controlled scheduler (csrc/sched.c).  The caller waits for
 * all of them; the mm is left with whatever oops or WARN ended the run.
 */

struct pw_sched_arg {
	struct pw_mm *m;
	struct pw_stress_cfg *cfg;
	long ops;
	unsigned long long skip;	/* operations (bits) skipped: their random draw only */
	int idx;
	long done, ret;
};

static void *pw_sched_thread(void *v)
{
	struct pw_sched_arg *a = v;
	int stop = 0;

	pw_cur.tid = a->cfg->tid;
	pw_cur.role = a->cfg->role;
	pw_cur.rng = 0;
	pw_stress_reseed(a->cfg->seed, a->cfg->tid);
	pw_cur.ops = 0;
	pw_sched_enter(a->idx);
	if (!a->skip) {
		a->ret = PW_GUARDED(a->m, pw_stress_loop(a->m, a->cfg, a->ops, &stop));
	} else {	/* one at a time; a skipped one draws its random number only */
		long done = 0;

		a->ret = 0;
		for (long j = 0; j < a->ops && a->ret >= 0; j++) {
			if (j < 64 && (a->skip >> j & 1)) {
				pw_rand();	/* pw_stress_loop draws one per operation */
				continue;
			}
			pw_cur.ops = 0;
			a->ret = PW_GUARDED(a->m, pw_stress_loop(a->m, a->cfg, 1, &stop));
			done += pw_cur.ops;
		}
		pw_cur.ops = done;
	}
	a->done = pw_cur.ops;
	pw_sched_exit(a->ret == PW_ERR_OOPS);
	return NULL;
}

long pw_sched_run(struct pw_mm *m, struct pw_stress_cfg *cfgs, long *ops,
		  unsigned long long *skip, int n, struct pw_sched_params *p, struct pw_sched_result *res,
		  struct pw_sched_trace *trace, long trace_cap)
{
	struct pw_sched_arg args[PW_MAX_SCHED_THREADS];
	pthread_t th[PW_MAX_SCHED_THREADS];
	int started = 0;

	if (n < 1 || n > PW_MAX_SCHED_THREADS)
		return -EINVAL;
	pw_sched_begin(m, n, p, res, trace, trace_cap);
	for (int i = 0; i < n; i++) {
		args[i] = (struct pw_sched_arg){ m, &cfgs[i], ops[i], skip ? skip[i] : 0, i, 0, 0 };
		if (pthread_create(&th[i], NULL, pw_sched_thread, &args[i]))
			break;
		started++;
	}
	if (started < n) {	/* no thread: let the started ones go, do not hang */
		pthread_mutex_lock(&pw_sched.mu);
		pw_sched_abort_locked();
		pthread_mutex_unlock(&pw_sched.mu);
		for (int i = 0; i < started; i++)
			pthread_join(th[i], NULL);
		pw_sched_end();
		return -EAGAIN;
	}
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	pw_sched_end();
	for (int i = 0; i < n; i++) {
		res->ops[i] = args[i].done;
		res->ret[i] = args[i].ret;
	}
	return pw_sched.ntrace;
}
