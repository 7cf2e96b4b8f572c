/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: locks that really exclude across threads.
 * Spinning waiters give the CPU away after a while (2 cores, many threads),
 * stop when another thread of the mm oopsed (a panic), and report a
 * soft lockup when they spin for too long.
 */
#ifndef PYWALK_SHIM_LOCKS_H
#define PYWALK_SHIM_LOCKS_H

#include "runtime.h"

typedef struct spinlock {	/* kernel: spinlock_t */
	int locked;
	int owner;		/* pw_cur.tid + 1 of the holder, for diagnostics */
	void *holder;		/* &pw_cur of the holding thread (lockdep.c) */
} spinlock_t;

struct rw_semaphore {		/* kernel: struct rw_semaphore (mmap_lock) */
	int count;		/* >0 readers, -1 a writer */
	int writers_waiting;	/* as the kernel's rwsem: a waiting writer holds off new readers */
	void *writer;		/* &pw_cur of the writer (lockdep.c) */
};

/* slow path of every lock: back off, yield, stop on panic, report lockups */
void pw_spin_wait(unsigned int *iter, const char *what);

#define __SPIN_LOCK_UNLOCKED(x) { 0, 0 }	/* kernel: __SPIN_LOCK_UNLOCKED() */
static inline void spin_lock_init(spinlock_t *l)	/* kernel: spin_lock_init() */
{
	l->locked = 0;
	l->owner = 0;
}

static inline void spin_lock(spinlock_t *l)	/* kernel: spin_lock() */
{
	unsigned int iter = 0;

	pw_hook(PW_SITE_LOCK);
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		pw_spin_wait(&iter, "spinlock");
	l->owner = pw_cur.tid + 1;
	l->holder = &pw_cur;
}

static inline void spin_unlock(spinlock_t *l)	/* kernel: spin_unlock() */
{
	l->owner = 0;
	l->holder = NULL;
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
	pw_hook(PW_SITE_UNLOCK);
}

#define spin_lock_nested(l, sub) spin_lock(l)	/* kernel: spin_lock_nested() */
static inline int spin_trylock(spinlock_t *l)	/* kernel: spin_trylock() */
{
	pw_hook(PW_SITE_LOCK);
	if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		return 0;
	l->owner = pw_cur.tid + 1;
	return 1;
}

/*
 * kernel: rcu_read_lock()/rcu_read_unlock() (pte_offset_map() takes it since
 * 6.5, against page tables freed with RCU by khugepaged's retract).  Nothing
 * here frees a page table under mmap_lock for read, and freed tables go
 * PROT_NONE at once (stricter than a grace period), so there is nothing for
 * a read-side section to hold off: no-ops.
 */
#define rcu_read_lock() do { } while (0)
#define rcu_read_unlock() do { } while (0)
/* kernel: assert_spin_locked() (lockdep off: checks that someone holds it) */
#define assert_spin_locked(l) BUG_ON(!__atomic_load_n(&(l)->locked, __ATOMIC_RELAXED))
#define lockdep_assert_held(l) do { } while (0)	/* kernel: lockdep off */

static inline void down_read(struct rw_semaphore *s)	/* kernel: down_read() */
{
	unsigned int iter = 0;

	pw_hook(PW_SITE_LOCK);
	for (;;) {
		int c = __atomic_load_n(&s->count, __ATOMIC_RELAXED);

		if (c >= 0 && !__atomic_load_n(&s->writers_waiting, __ATOMIC_RELAXED) &&
		    __atomic_compare_exchange_n(&s->count, &c, c + 1, 0,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		pw_spin_wait(&iter, "mmap_lock (read)");
	}
}

/* kernel: down_read_trylock(): 1 when taken (no writer holds or waits for it) */
static inline int down_read_trylock(struct rw_semaphore *s)
{
	int c = __atomic_load_n(&s->count, __ATOMIC_RELAXED);

	pw_hook(PW_SITE_LOCK);
	return c >= 0 && !__atomic_load_n(&s->writers_waiting, __ATOMIC_RELAXED) &&
	       __atomic_compare_exchange_n(&s->count, &c, c + 1, 0, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

static inline void up_read(struct rw_semaphore *s)	/* kernel: up_read() */
{
	__atomic_fetch_sub(&s->count, 1, __ATOMIC_RELEASE);
	pw_hook(PW_SITE_UNLOCK);
}

static inline void down_write(struct rw_semaphore *s)	/* kernel: down_write() */
{
	unsigned int iter = 0;

	pw_hook(PW_SITE_LOCK);
	__atomic_fetch_add(&s->writers_waiting, 1, __ATOMIC_ACQ_REL);
	for (;;) {
		int c = 0;

		if (__atomic_compare_exchange_n(&s->count, &c, -1, 0,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			break;
		pw_spin_wait(&iter, "mmap_lock (write)");
	}
	__atomic_fetch_sub(&s->writers_waiting, 1, __ATOMIC_ACQ_REL);
	s->writer = &pw_cur;
}

static inline void up_write(struct rw_semaphore *s)	/* kernel: up_write() */
{
	s->writer = NULL;
	__atomic_store_n(&s->count, 0, __ATOMIC_RELEASE);
	pw_hook(PW_SITE_UNLOCK);
}

#endif
