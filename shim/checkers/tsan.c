/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk's runtime for gcc's -fsanitize=thread entry points, as the kernel's
 * KCSAN serves them (kernel/kcsan/core.c) -- our own, libtsan is never
 * linked.  Only the tree's code is compiled instrumented
 * (pywalk/variant/instrument.py); this file is compiled with the shim,
 * uninstrumented.  No kernel counterpart beyond that: each entry point
 * stands for the hook KCSAN puts before an access.
 *
 * Every entry point first serves KCSAN-style watchpoints (shim/checkers/kcsan.c:
 * a check of the armed ones, one load when none is; now and then arming
 * one), then passes the access's kind to pw_hook() -- the one hook on
 * shared state (delays; a scheduler) -- and, for atomics, does the access
 * itself.  Plain accesses are done by the instrumented code right
 * after the call returns, so a delay here widens the window before it.
 * A load of a page-table entry (8 bytes in the page-table pool) is also
 * written to this thread's load ring (history.c), for the oops report.
 */
#define PW_TSAN __attribute__((visibility("hidden"), used))

static __thread int pw_tsan_skip;
static __always_inline void pw_tsan(void *p, int size, int type, enum pw_site site)
{
	if (unlikely(__atomic_load_n(&pw_kcsan_active, __ATOMIC_RELAXED)))
		pw_kcsan_check(p, size, type);
	/* as KCSAN: only plain accesses are watched; marked and atomic ones
	 * only meet the watchpoints of others */
	if (unlikely(pw_kcsan.enabled) && !(type & (PW_KC_MARKED | PW_KC_ATOMIC)) &&
	    unlikely(--pw_tsan_skip < 0)) {
		pw_tsan_skip = pw_kcsan.interval / 2 + (int)(pw_rand() % (pw_kcsan.interval + 1));
		pw_kcsan_watch(p, size, type);
	}
	pw_hook_at(site, p);
	/* after any delay: the value the load right after this will see (a
	 * view for shim/checkers/stale.c, whose atomic loads PW_LOAD reports),
	 * and a record of the load: its site is the call before it */
	if (size == 8 && !(type & PW_KC_WRITE) &&
	    (unsigned long)p - (unsigned long)pw_physbase < PW_PT_END) {
		unsigned long v = __atomic_load_n((unsigned long *)p, __ATOMIC_RELAXED);

		if (!(type & PW_KC_ATOMIC))
			pw_stale_view(p, v);
		pw_history_load(p, v, __builtin_return_address(0), type);
	}
}

/* this build has the tree's loads: the stale-view oracle can compare */
__attribute__((constructor)) static void pw_stale_enable(void) { pw_stale_on = 1; }

PW_TSAN void __tsan_init(void) { }	/* module constructor: nothing to set up */
PW_TSAN void __tsan_func_entry(void *pc) { (void)pc; }	/* not emitted (entry-exit=0) */
PW_TSAN void __tsan_func_exit(void) { }

#define PW_W PW_KC_WRITE
#define PW_M PW_KC_MARKED
#define PW_TSAN_RW(size)							\
PW_TSAN void __tsan_read##size(void *p) { pw_tsan(p, size, 0, PW_SITE_READ); }	\
PW_TSAN void __tsan_write##size(void *p) { pw_tsan(p, size, PW_W, PW_SITE_WRITE); }	\
PW_TSAN void __tsan_unaligned_read##size(void *p) { pw_tsan(p, size, 0, PW_SITE_READ); } \
PW_TSAN void __tsan_unaligned_write##size(void *p) { pw_tsan(p, size, PW_W, PW_SITE_WRITE); } \
PW_TSAN void __tsan_volatile_read##size(void *p) { pw_tsan(p, size, PW_M, PW_SITE_MARKED_READ); } \
PW_TSAN void __tsan_volatile_write##size(void *p)					\
{ pw_tsan(p, size, PW_M | PW_W, PW_SITE_MARKED_WRITE); }				\
PW_TSAN void __tsan_unaligned_volatile_read##size(void *p)				\
{ pw_tsan(p, size, PW_M, PW_SITE_MARKED_READ); }					\
PW_TSAN void __tsan_unaligned_volatile_write##size(void *p)				\
{ pw_tsan(p, size, PW_M | PW_W, PW_SITE_MARKED_WRITE); }
PW_TSAN_RW(1)
PW_TSAN_RW(2)
PW_TSAN_RW(4)
PW_TSAN_RW(8)
PW_TSAN_RW(16)

PW_TSAN void __tsan_read_range(void *p, unsigned long n) { pw_tsan(p, n > 8 ? 0 : n, 0, PW_SITE_READ); }
PW_TSAN void __tsan_write_range(void *p, unsigned long n) { pw_tsan(p, n > 8 ? 0 : n, PW_W, PW_SITE_WRITE); }

/*
 * Atomics: gcc passes its __ATOMIC_* order; we do the operation with
 * sequential consistency (never weaker than asked for).
 */
#define PW_SC __ATOMIC_SEQ_CST
#define PW_TSAN_ATOMIC(bits, T)							\
PW_TSAN T __tsan_atomic##bits##_load(const volatile T *a, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC, PW_SITE_ATOMIC); return __atomic_load_n(a, PW_SC); }	\
PW_TSAN void __tsan_atomic##bits##_store(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); __atomic_store_n(a, v, PW_SC); }		\
PW_TSAN T __tsan_atomic##bits##_exchange(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_exchange_n(a, v, PW_SC); } \
PW_TSAN T __tsan_atomic##bits##_fetch_add(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_fetch_add(a, v, PW_SC); }	\
PW_TSAN T __tsan_atomic##bits##_fetch_sub(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_fetch_sub(a, v, PW_SC); }	\
PW_TSAN T __tsan_atomic##bits##_fetch_and(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_fetch_and(a, v, PW_SC); }	\
PW_TSAN T __tsan_atomic##bits##_fetch_or(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_fetch_or(a, v, PW_SC); }	\
PW_TSAN T __tsan_atomic##bits##_fetch_xor(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_fetch_xor(a, v, PW_SC); }	\
PW_TSAN T __tsan_atomic##bits##_fetch_nand(volatile T *a, T v, int mo)		\
{ (void)mo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC); return __atomic_fetch_nand(a, v, PW_SC); } \
PW_TSAN int __tsan_atomic##bits##_compare_exchange_strong(volatile T *a, T *exp, T v, \
							  int mo, int fmo)	\
{ (void)mo; (void)fmo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC);				\
  return __atomic_compare_exchange_n(a, exp, v, 0, PW_SC, PW_SC); }		\
PW_TSAN int __tsan_atomic##bits##_compare_exchange_weak(volatile T *a, T *exp, T v, \
							int mo, int fmo)	\
{ (void)mo; (void)fmo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC);				\
  return __atomic_compare_exchange_n(a, exp, v, 1, PW_SC, PW_SC); }		\
PW_TSAN T __tsan_atomic##bits##_compare_exchange_val(volatile T *a, T exp, T v,	\
						     int mo, int fmo)		\
{ (void)mo; (void)fmo; pw_tsan((void *)a, sizeof(T), PW_KC_ATOMIC | PW_W, PW_SITE_ATOMIC);				\
  __atomic_compare_exchange_n(a, &exp, v, 0, PW_SC, PW_SC); return exp; }
PW_TSAN_ATOMIC(8, unsigned char)
PW_TSAN_ATOMIC(16, unsigned short)
PW_TSAN_ATOMIC(32, unsigned int)
PW_TSAN_ATOMIC(64, unsigned long long)

PW_TSAN void __tsan_atomic_thread_fence(int mo) { (void)mo; __atomic_thread_fence(PW_SC); }
PW_TSAN void __tsan_atomic_signal_fence(int mo) { (void)mo; __atomic_signal_fence(PW_SC); }
