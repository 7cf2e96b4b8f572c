/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Paced refault (pywalk bench --refault between, pywalk/bench/refault.py):
 * every timed walk starts on the tables as populated.  Before each walk the
 * faulter threads read-refault every populated address of the walked range
 * (each its share: k, k + n, ...), through the tree's __handle_mm_fault();
 * the walker waits for the last of them and then walks alone, timed.  So
 * every walk splits the same huge leaves and goes back the same way, in A as
 * in B: the time of the split path, without the noise of how many leaves a
 * concurrent refault happened to bring back (--refault during).
 *
 *   pw_bench_pace_new/free()   the rendezvous (opaque to Python)
 *   pw_bench_pace_faulter()    a faulter thread's loop, until stopped
 *   pw_bench_pace_stop()       ends the faulters' loops
 *   pw_bench_pace_refault()    one refault round (the walker's side)
 *   pw_bench_walk_paced()      refault round, then one timed walk, iters times
 *   pw_bench_census()          one untimed walk that counts what a walk does
 *                              (a tree client's: csrc/clients.c census walk)
 */

struct pw_bench_pace {
	pthread_mutex_t mu;
	pthread_cond_t go;	/* the walker to the faulters: a round begins */
	pthread_cond_t done;	/* the last faulter of a round to the walker */
	long gen;		/* rounds begun */
	int pending;		/* faulters still in this round */
	int stop;
	int nfaulters;
	long err;		/* the first faulter error (PW_ERR_OOPS, ...) */
	long faults;		/* faults made by the faulters, all rounds */
};

struct pw_bench_pace *pw_bench_pace_new(int nfaulters)
{
	struct pw_bench_pace *p;

	if (nfaulters < 1)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->go, NULL);
	pthread_cond_init(&p->done, NULL);
	p->nfaulters = nfaulters;
	return p;
}

void pw_bench_pace_free(struct pw_bench_pace *p)
{
	if (!p)
		return;
	pthread_cond_destroy(&p->go);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void pw_bench_pace_stop(struct pw_bench_pace *p)
{
	pthread_mutex_lock(&p->mu);
	p->stop = 1;
	pthread_cond_broadcast(&p->go);
	pthread_cond_broadcast(&p->done);
	pthread_mutex_unlock(&p->mu);
}

long pw_bench_pace_faults(struct pw_bench_pace *p)
{
	long n;

	pthread_mutex_lock(&p->mu);
	n = p->faults;
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* One faulter's share of a round: read faults at populated addresses k, k + n, ... */
static long pw_bench_pace_round(struct mm_struct *mm, struct pw_bench_seg *segs, int nsegs,
				int k, int n)
{
	long done = 0;
	unsigned long i = 0, addr;

	for (int s = 0; s < nsegs; s++) {
		for (addr = segs[s].start; addr < segs[s].end; addr += segs[s].step, i++) {
			int r;

			if (i % n != (unsigned long)k)
				continue;
			r = pw_do_fault(mm, addr, 0);
			if (r < 0 || (r & PW_BENCH_FAULT_ERROR))
				return r < 0 ? r : PW_BENCH_ERR_FAULT;
			done++;
		}
	}
	return done;
}

/* Faulter k of p->nfaulters on m: one share per round, until pw_bench_pace_stop(). */
long pw_bench_pace_faulter(struct pw_mm *m, struct pw_bench_pace *p, struct pw_bench_seg *segs,
			   int nsegs, int k)
{
	long seen = 0, r;

	if (k < 0 || k >= p->nfaulters)
		return -EINVAL;
	for (int s = 0; s < nsegs; s++)
		if (!segs[s].step || segs[s].start >= segs[s].end)
			return -EINVAL;
	pw_cur.tid = 100 + k;
	pw_cur.role = PW_ROLE_READER;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->gen == seen && !p->stop)
			pthread_cond_wait(&p->go, &p->mu);
		if (p->stop) {
			pthread_mutex_unlock(&p->mu);
			return 0;
		}
		seen = p->gen;
		pthread_mutex_unlock(&p->mu);
		/* after an oops every later round is PW_ERR_TAINTED at once */
		r = PW_GUARDED(m, pw_bench_pace_round(m->mm, segs, nsegs, k, p->nfaulters));
		pthread_mutex_lock(&p->mu);
		if (r < 0 && !p->err)
			p->err = r;
		else if (r > 0)
			p->faults += r;
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->mu);
	}
}

/* A round of refaults by the faulters; 0, a faulter's error, or -ETIMEDOUT. */
long pw_bench_pace_refault(struct pw_bench_pace *p)
{
	struct timespec until;
	long r = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 60;	/* a faulter stuck for a minute: give up, do not hang */
	pthread_mutex_lock(&p->mu);
	p->pending = p->nfaulters;
	p->gen++;
	pthread_cond_broadcast(&p->go);
	while (p->pending && !p->stop && !r)
		if (pthread_cond_timedwait(&p->done, &p->mu, &until) == ETIMEDOUT)
			r = -ETIMEDOUT;
	if (!r)
		r = p->err ? p->err : (p->stop ? -EINTR : 0);
	pthread_mutex_unlock(&p->mu);
	return r;
}

/*
 * iters times: a refault round (untimed), then one timed walk of [start, end)
 * (csrc/bench.c pw_bench_do_walk()); ns_out[i] and counts summed as there.
 * Returns 0, the walk's error or oops, or the faulters' (PW_ERR_OOPS of a
 * faulter: see the mm's report).
 */
int pw_bench_walk_paced(struct pw_mm *m, struct pw_bench_pace *p, unsigned long start,
			unsigned long end, int walker, long iters, long long *ns_out,
			struct pw_walk_counts *counts)
{
	_Static_assert(sizeof(struct pw_walk_counts) % sizeof(long) == 0 &&
		       _Alignof(struct pw_walk_counts) == _Alignof(long),
		       "struct pw_walk_counts is summed as an array of longs");
	struct pw_walk_counts one;
	long i, r;

	if (walker == PW_WALK_PYTHON)
		return -EINVAL;
	memset(counts, 0, sizeof(*counts));
	for (i = 0; i < iters; i++) {
		r = pw_bench_pace_refault(p);
		if (r)
			return r;
		r = PW_GUARDED(m, pw_bench_do_walk(m->mm, start, end, walker, 0, 1, ns_out + i,
						   &one));
		if (r)
			return r;
		for (size_t k = 0; k < sizeof(one) / sizeof(long); k++)	/* all longs */
			((long *)counts)[k] += ((long *)&one)[k];
	}
	return 0;
}

static int pw_bench_do_census(struct mm_struct *mm, unsigned long start, unsigned long end,
			      int walker, struct pw_walk_counts *counts)
{
	struct pw_walk_priv priv = { counts, NULL };
	int r;

	memset(counts, 0, sizeof(*counts));
	if (!pw_is_client(walker))	/* ours count as they go: a timed walk is a census */
		return pw_bench_do_walk(mm, start, end, walker, 0, 1, (long long[1]){0}, counts);
	pw_watch_begin(&priv);
	r = pw_client_census(mm, start, end, walker, counts);
	pw_watch_end(&priv, counts);
	return r;
}

/* One untimed walk of [start, end) that counts callbacks, splits and retries. */
int pw_bench_census(struct pw_mm *m, unsigned long start, unsigned long end, int walker,
		    struct pw_walk_counts *counts)
{
	if (walker == PW_WALK_PYTHON)
		return -EINVAL;
	return PW_GUARDED(m, pw_bench_do_census(m->mm, start, end, walker, counts));
}

/* A census walk after a refault round (the state every paced walk starts from). */
int pw_bench_census_paced(struct pw_mm *m, struct pw_bench_pace *p, unsigned long start,
			  unsigned long end, int walker, struct pw_walk_counts *counts)
{
	long r = pw_bench_pace_refault(p);

	return r ? r : pw_bench_census(m, start, end, walker, counts);
}
