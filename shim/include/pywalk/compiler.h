/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: compiler and basic-type glue, as the kernel's
 * include/linux/compiler*.h, types.h, err.h, minmax.h provide them.
 * Our own code; every definition names its kernel counterpart.
 */
#ifndef PYWALK_SHIM_COMPILER_H
#define PYWALK_SHIM_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>

typedef uint8_t u8;		/* kernel: u8 */
typedef uint16_t u16;		/* kernel: u16 */
typedef uint32_t u32;		/* kernel: u32 */
typedef uint64_t u64;		/* kernel: u64 */
typedef int64_t s64;		/* kernel: s64 */
typedef unsigned long pgoff_t;	/* kernel: pgoff_t */
typedef unsigned int gfp_t;	/* kernel: gfp_t */
typedef u64 phys_addr_t;	/* kernel: phys_addr_t */
typedef long atomic_long_t;	/* kernel: atomic_long_t (only counted, never raced on) */
typedef struct { int counter; } atomic_t;	/* kernel: atomic_t */

#undef __always_inline
#define __always_inline inline __attribute__((__always_inline__))	/* kernel: __always_inline */
#define noinline __attribute__((__noinline__))		/* kernel: noinline */
#define __maybe_unused __attribute__((__unused__))	/* kernel: __maybe_unused */
#define __must_check __attribute__((__warn_unused_result__))	/* kernel: __must_check */
#define __init			/* kernel: __init (no init sections here) */
#define __meminit		/* kernel: __meminit */
#define __weak __attribute__((__weak__))		/* kernel: __weak */
#define __releases(x)		/* kernel: sparse annotation */
#define __acquires(x)		/* kernel: sparse annotation */
#define __cond_lock(x, c) (c)	/* kernel: sparse annotation */
#define likely(x) __builtin_expect(!!(x), 1)		/* kernel: likely() */
#define unlikely(x) __builtin_expect(!!(x), 0)		/* kernel: unlikely() */
#define barrier() __asm__ __volatile__("" ::: "memory")	/* kernel: barrier() */
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)	/* kernel: smp_wmb() */
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)	/* kernel: smp_rmb() */
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)	/* kernel: smp_mb() */
#define cpu_relax() __builtin_ia32_pause()		/* kernel: cpu_relax() */
/* kernel: READ_ONCE()/WRITE_ONCE(): a single untorn access */
#define READ_ONCE(x) (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) do { *(volatile __typeof__(x) *)&(x) = (v); } while (0)
#define EXPORT_SYMBOL(x)	/* kernel: EXPORT_SYMBOL (no modules here) */
#define EXPORT_SYMBOL_GPL(x)	/* kernel: EXPORT_SYMBOL_GPL */
#define IS_ENABLED(option) __pw_is_enabled(option)	/* kernel: IS_ENABLED() for y/n options */
#define __pw_is_enabled(option) (__pw_arg2(__pw_probe_##option 1, 0))
#define __pw_probe_1 ,
#define __pw_arg2(...) __pw_arg2_(__VA_ARGS__)
#define __pw_arg2_(a, b, ...) b
/*
 * PW_API(name): a shim definition of the kernel name `name`, visible to the
 * tree's code only when the tree defines `name` too (PW_HAVE_name 1, set by
 * pywalk/tree/facts.py from the tree's own headers); otherwise it is
 * compiled as pw_not_in_this_tree__name, which nothing in the tree can call, so the
 * tree's use of a name it lacks fails to compile as it would with Kbuild.
 * Macros are guarded with "#if PW_HAVE_name" instead.
 */
#define PW_API(name) __pw_api(PW_HAVE_##name, name)
#define __pw_api(have, name) ___pw_api(have, name)
#define ___pw_api(have, name) __pw_arg2(__pw_probe_##have name, pw_not_in_this_tree__##name)
#define BUILD_BUG_ON(c) _Static_assert(!(c), #c)	/* kernel: BUILD_BUG_ON() */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))	/* kernel: container_of() */
#define min(a, b) ((a) < (b) ? (a) : (b))		/* kernel: min() */
#define max(a, b) ((a) > (b) ? (a) : (b))		/* kernel: max() */
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))	/* kernel: ARRAY_SIZE() */
#define MAX_ERRNO 4095					/* kernel: MAX_ERRNO */
#define IS_ERR_VALUE(x) unlikely((unsigned long)(void *)(x) >= (unsigned long)-MAX_ERRNO)
static inline void *ERR_PTR(long error) { return (void *)error; }	/* kernel: ERR_PTR() */
static inline long PTR_ERR(const void *ptr) { return (long)ptr; }	/* kernel: PTR_ERR() */
static inline bool IS_ERR(const void *ptr) { return IS_ERR_VALUE((unsigned long)ptr); }	/* kernel: IS_ERR() */
#define BIT(nr) (1UL << (nr))				/* kernel: BIT() */
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a) - 1)) == 0)	/* kernel: IS_ALIGNED() */
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a) - 1))	/* kernel: ALIGN_DOWN() */
#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))	/* kernel: ALIGN() */
static inline int fls_long(unsigned long l) { return l ? 64 - __builtin_clzl(l) : 0; }	/* kernel: fls_long() */
#define _AC(x, y) (x##y)				/* kernel: _AC() */
#define SINGLE_DEPTH_NESTING 1				/* kernel: lockdep subclass */
#define fallthrough __attribute__((__fallthrough__))	/* kernel: fallthrough */
#define __read_mostly					/* kernel: __read_mostly */
#define __force						/* kernel: sparse annotation */
#define __bitwise					/* kernel: sparse annotation */
#define __user						/* kernel: sparse annotation */
static inline void atomic_inc(atomic_t *v) { __atomic_fetch_add(&v->counter, 1, __ATOMIC_SEQ_CST); }	/* kernel: atomic_inc() */
static inline void atomic_dec(atomic_t *v) { __atomic_fetch_sub(&v->counter, 1, __ATOMIC_SEQ_CST); }	/* kernel: atomic_dec() */
static inline bool atomic_add_negative(int i, atomic_t *v)	/* kernel: atomic_add_negative() */
{
	return __atomic_add_fetch(&v->counter, i, __ATOMIC_SEQ_CST) < 0;
}

#endif
