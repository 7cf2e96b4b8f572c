/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * pywalk controlled scheduler (harness, no kernel counterpart): the hunt's
 * threads are real threads running the real code, but only one runs at a
 * time; at every scheduling point (a pw_hook() site in the site mask) the
 * scheduler picks who runs next, from a seed (PCT or uniform random) or
 * from a recorded list of switches (replay).  Same inputs, same
 * interleaving: nothing here depends on time or on the OS scheduler.
 */
#ifndef PYWALK_SHIM_SCHED_H
#define PYWALK_SHIM_SCHED_H

/* PW_MAX_SCHED_THREADS and PW_TRACE_WAITS: csrc/pywalk_api.h */

/* Set in the scheduler's own threads (their index), -1 elsewhere. */
extern __thread int pw_sched_me;

struct pw_sched_params;
struct pw_sched_result;
struct pw_sched_trace;
struct pw_mm;

/* the scheduler proper (csrc/sched.c) */
void pw_sched_point(enum pw_site site, const volatile void *p);
void pw_sched_block(const char *what);	/* a spinning lock waiter hands over */
void pw_sched_note_warn(void);			/* a WARN ends a scheduled run */
void pw_sched_begin(struct pw_mm *m, int nthreads, struct pw_sched_params *p,
		    struct pw_sched_result *res, struct pw_sched_trace *trace, long trace_cap);
void pw_sched_enter(int idx);
void pw_sched_exit(int oopsed);
void pw_sched_end(void);

#endif
