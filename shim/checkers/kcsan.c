/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk shim: KCSAN-style data-race detection by sampled watchpoints
 * (the kernel's kernel/kcsan/core.c does the same inside the kernel; this is
 * our own).  Served by the __tsan_* entry points of instrumented builds
 * (shim/checkers/tsan.c); unused otherwise.
 *
 * Every so many plain accesses (pw_kcsan.interval, randomised; as KCSAN,
 * marked and atomic accesses are never watched, they only meet the
 * watchpoints of others) an access of the tree's code arms a watchpoint on its address, reads the value, waits
 * (pw_kcsan.spins cpu_relax()), disarms and reads again.  Meanwhile every
 * other instrumented access checks the armed watchpoints (one load when
 * none is armed).  A data race is
 *   - a conflicting access by another thread to the watched bytes, or
 *   - a value that changed during the wait (the other side unseen: a store
 *     by uninstrumented code, or by a thread that was not checked).
 * Two accesses conflict when they overlap, at least one writes, and they
 * are not both marked (volatile: READ_ONCE()/WRITE_ONCE()) or atomic:
 * KCSAN's rule that marked accesses do not race with each other.
 * Reports are kept once per pair of code locations (process-wide, up to
 * PW_KCSAN_MAX_REPORTS), both sides with their backtraces; Python
 * symbolises them (pywalk/variant/oops.py) and lists them as data races,
 * which are not crashes and do not stop a hunt.
 * No kernel counterpart in what it observes: the tree's code runs as is.
 */
#include <pthread.h>

#define PW_KCSAN_SLOTS 8
#define PW_KCSAN_MAX_REPORTS 64
#define PW_KC_WRITE 1
#define PW_KC_MARKED 2
#define PW_KC_ATOMIC 4
#define PW_WP_BUSY 1UL		/* a slot being armed or read out */

struct pw_kside {
	int tid, role, type, size;
	unsigned long addr;
	int nframes;
	void *frames[PW_RACING_FRAMES];
};

struct pw_watch {
	unsigned long addr;	/* 0 free, PW_WP_BUSY, or the watched address */
	int size, type;
	void *thread;
	int consumed;		/* 0, 1 being filled, 2 filled, 3 closed */
	struct pw_kside other;
};

struct pw_kcsan_cfg pw_kcsan;
int pw_kcsan_active;
static struct pw_watch pw_wp[PW_KCSAN_SLOTS];
static struct pw_report pw_kc_reports[PW_KCSAN_MAX_REPORTS];
static void *pw_kc_pairs[PW_KCSAN_MAX_REPORTS][2];
static int pw_kc_nreports;
static pthread_mutex_t pw_kc_lock = PTHREAD_MUTEX_INITIALIZER;

static __always_inline void pw_kc_side(struct pw_kside *s, void *p, int size, int type)
{
	s->tid = pw_cur.tid;
	s->role = pw_cur.role;
	s->type = type;
	s->size = size;
	s->addr = (unsigned long)p;
	s->nframes = pw_hist_frames(s->frames, PW_RACING_FRAMES);
}

static unsigned long pw_kc_value(void *p, int size)
{
	switch (size) {
	case 1: return *(volatile unsigned char *)p;
	case 2: return *(volatile unsigned short *)p;
	case 4: return *(volatile unsigned int *)p;
	default: return *(volatile unsigned long *)p;
	}
}

static const char *pw_kc_kind(int type)
{
	return type & PW_KC_ATOMIC ? "atomic" : type & PW_KC_MARKED ? "marked" : "plain";
}

/* the access site: the return address into the instrumented code */
static void *pw_kc_site(const struct pw_kside *s)
{
	return s->nframes > 2 ? s->frames[2] : NULL;
}

static void pw_kc_report(struct pw_kside *me, struct pw_kside *other,
			 unsigned long old, unsigned long new)
{
	void *a = pw_kc_site(me), *b = other ? pw_kc_site(other) : NULL;
	struct pw_report *r;
	int i;

	pthread_mutex_lock(&pw_kc_lock);
	for (i = 0; i < pw_kc_nreports; i++)
		if ((pw_kc_pairs[i][0] == a && pw_kc_pairs[i][1] == b) ||
		    (pw_kc_pairs[i][0] == b && pw_kc_pairs[i][1] == a && b))
			break;
	if (i < pw_kc_nreports || i == PW_KCSAN_MAX_REPORTS) {
		pthread_mutex_unlock(&pw_kc_lock);
		return;
	}
	pw_kc_pairs[i][0] = a;
	pw_kc_pairs[i][1] = b;
	r = &pw_kc_reports[i];
	memset(r, 0, sizeof(*r));
	r->kind = PW_OOPS_DATA_RACE;
	r->tid = me->tid;
	r->role = me->role;
	r->address = me->addr;
	if (other)
		snprintf(r->msg, sizeof(r->msg), "%s %s (%s, %d bytes) / %s %s (%s, %d bytes) at %#lx: "
			 "value %#lx -> %#lx", me->type & PW_KC_WRITE ? "write" : "read",
			 "watched", pw_kc_kind(me->type), me->size,
			 other->type & PW_KC_WRITE ? "write" : "read", "by another thread",
			 pw_kc_kind(other->type), other->size, me->addr, old, new);
	else
		snprintf(r->msg, sizeof(r->msg), "%s watched (%s, %d bytes) at %#lx: value changed "
			 "%#lx -> %#lx by an unseen access", me->type & PW_KC_WRITE ? "write" : "read",
			 pw_kc_kind(me->type), me->size, me->addr, old, new);
	r->nframes = me->nframes;
	memcpy(r->frames, me->frames, sizeof(me->frames));
	if (other) {
		r->nracing = 1;
		r->racing[0].tid = other->tid;
		r->racing[0].role = other->role;
		r->racing[0].entry = other->addr;
		r->racing[0].old = old;
		r->racing[0].new = new;
		r->racing[0].nframes = other->nframes;
		memcpy(r->racing[0].frames, other->frames, sizeof(other->frames));
	}
	__atomic_store_n(&pw_kc_nreports, i + 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&pw_kc_lock);
}

/* another thread's armed watchpoints that this access conflicts with */
noinline void pw_kcsan_check(void *p, int size, int type)
{
	unsigned long a = (unsigned long)p;

	for (int i = 0; i < PW_KCSAN_SLOTS; i++) {
		struct pw_watch *w = &pw_wp[i];
		unsigned long wa = __atomic_load_n(&w->addr, __ATOMIC_ACQUIRE);
		int zero = 0;

		if (wa <= PW_WP_BUSY || w->thread == &pw_cur)
			continue;
		if (!(wa < a + size && a < wa + w->size))
			continue;
		if (!((w->type | type) & PW_KC_WRITE))
			continue;
		if ((w->type & (PW_KC_MARKED | PW_KC_ATOMIC)) && (type & (PW_KC_MARKED | PW_KC_ATOMIC)))
			continue;	/* two marked accesses do not race */
		if (!__atomic_compare_exchange_n(&w->consumed, &zero, 1, 0, __ATOMIC_ACQ_REL,
						 __ATOMIC_RELAXED))
			continue;
		pw_kc_side(&w->other, p, size, type);
		__atomic_store_n(&w->consumed, 2, __ATOMIC_RELEASE);
	}
}

/* arm a watchpoint on this access, wait, and see who came */
noinline void pw_kcsan_watch(void *p, int size, int type)
{
	struct pw_watch *w = NULL;
	struct pw_kside me;
	unsigned long old, new, free = 0;
	int closed = 0, i;

	if (!pw_cur.active || !pw_cur.mm || size > 8 || !size)
		return;
	for (i = 0; i < PW_KCSAN_SLOTS && !w; i++) {
		free = 0;
		if (__atomic_compare_exchange_n(&pw_wp[i].addr, &free, PW_WP_BUSY, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
			w = &pw_wp[i];
	}
	if (!w)
		return;
	pw_kc_side(&me, p, size, type);
	w->size = size;
	w->type = type;
	w->thread = &pw_cur;
	w->consumed = 0;
	old = pw_kc_value(p, size);
	__atomic_store_n(&w->addr, (unsigned long)p, __ATOMIC_RELEASE);
	__atomic_fetch_add(&pw_kcsan_active, 1, __ATOMIC_RELAXED);
	for (unsigned int s = 0; s < pw_kcsan.spins; s++)
		cpu_relax();
	__atomic_store_n(&w->addr, PW_WP_BUSY, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&pw_kcsan_active, 1, __ATOMIC_RELAXED);
	new = pw_kc_value(p, size);
	if (!__atomic_compare_exchange_n(&w->consumed, &closed, 3, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&w->consumed, __ATOMIC_ACQUIRE) == 1)
			cpu_relax();
		pw_kc_report(&me, &w->other, old, new);
	} else if (old != new) {
		pw_kc_report(&me, NULL, old, new);
	}
	__atomic_store_n(&w->addr, 0, __ATOMIC_RELEASE);
}

/* ---- C API (csrc/pywalk_api.h) ---- */
void pw_kcsan_setup(int enabled, unsigned int interval, unsigned int spins)
{
	pthread_mutex_lock(&pw_kc_lock);
	pw_kc_nreports = 0;
	pthread_mutex_unlock(&pw_kc_lock);
	pw_kcsan.interval = interval ? interval : 1;
	pw_kcsan.spins = spins;
	__atomic_store_n(&pw_kcsan.enabled, enabled, __ATOMIC_RELEASE);
}

int pw_kcsan_nreports(void) { return __atomic_load_n(&pw_kc_nreports, __ATOMIC_ACQUIRE); }
struct pw_report *pw_kcsan_report(int i) { return &pw_kc_reports[i]; }
