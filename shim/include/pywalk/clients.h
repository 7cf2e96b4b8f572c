/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: what the tree's walk clients (fs/proc/task_mmu.c's numa_maps
 * walk, mm/mapping_dirty_helpers.c's write-protect and clean walks) are
 * compiled against.  Included after the core code, before the client
 * slices.  Our own definitions, each naming its kernel counterpart.  None of
 * it decides what a client does with an entry: what a client reads, locks
 * and returns is the tree's code.
 */
#ifndef PYWALK_SHIM_CLIENTS_H
#define PYWALK_SHIM_CLIENTS_H

/* numa_maps exists only in a CONFIG_NUMA kernel (x86-64 distributions have
 * it on); nothing compiled before this point tests it */
#define CONFIG_NUMA 1
#define MAX_NUMNODES 1		/* kernel: MAX_NUMNODES (one node: fake memory has no topology) */

/*
 * gather_stats() and the rest of can_gather_numa_stats*() run only for an
 * entry with a struct page behind it: vm_normal_page() and
 * vm_normal_page_pmd() (the tree's) find none behind our special/devmap
 * device entries, so numa_maps never counts a page here.  Reaching any of
 * these is reported as a BUG naming it (PW_UNMODELLED), never skipped.
 * PW_U: each only for a tree that defines that name (PW_API, compiler.h).
 */
#define PW_U(ret, name, args) static inline ret PW_API(name) args { PW_UNMODELLED(#name); }
enum node_states { N_MEMORY };			/* kernel: enum node_states (the one asked) */
typedef struct { unsigned long bits[1]; } nodemask_t;	/* kernel: nodemask_t */
static inline bool pw_node_isset(int nid, nodemask_t *mask) { PW_UNMODELLED("node_isset"); }
#define node_isset(nid, mask) pw_node_isset((nid), &(mask))	/* kernel: node_isset() */
static nodemask_t node_states[1];		/* kernel: node_states[] (never read here) */
PW_U(int, page_to_nid, (const struct page *p))
PW_U(int, folio_nid, (const struct folio *f))
PW_U(int, PageSwapCache, (struct page *p))
PW_U(int, PageActive, (struct page *p))
PW_U(int, PageUnevictable, (struct page *p))
PW_U(int, PageWriteback, (struct page *p))
PW_U(int, folio_precise_page_mapcount, (struct folio *f, struct page *p))
PW_U(int, folio_average_page_mapcount, (struct folio *f))	/* 7.x */
PW_U(bool, folio_test_swapcache, (struct folio *f))
PW_U(bool, folio_test_active, (struct folio *f))
PW_U(bool, folio_test_unevictable, (struct folio *f))
PW_U(bool, folio_test_writeback, (struct folio *f))
#undef PW_U
/* kernel: huge_ptep_get(): hugetlb only (CONFIG_HUGETLB_PAGE is off: the
 * tree's !HUGETLB gather_hugetlb_stats() is compiled, which returns 0) */

/* ---- mm/mapping_dirty_helpers.c ---- */
#define MMU_NOTIFY_PROTECTION_PAGE 2	/* kernel: enum mmu_notifier_event */
/* kernel: ptep_modify_prot_start()/_commit(), the generic versions x86 uses */
static inline pte_t ptep_modify_prot_start(struct vm_area_struct *vma, unsigned long a, pte_t *ptep)
{
	return ptep_get_and_clear(vma->vm_mm, a, ptep);
}
static inline void ptep_modify_prot_commit(struct vm_area_struct *vma, unsigned long a,
					   pte_t *ptep, pte_t old, pte_t pte)
{
	set_pte_at(vma->vm_mm, a, ptep, pte);
}
static inline pte_t pte_mkclean(pte_t pte) { return __pte(pte_val(pte) & ~_PAGE_DIRTY); }	/* kernel: pte_mkclean() */
static inline void __set_bit(long nr, unsigned long *addr)	/* kernel: __set_bit() (non-atomic) */
{
	addr[nr / 64] |= 1UL << (nr % 64);
}
#define flush_cache_range(vma, s, e) do { } while (0)	/* kernel: flush_cache_range() (x86: nothing) */
/* kernel: inc/dec_tlb_flush_pending(), mm_tlb_flush_nested(): the pending
 * count only chooses between two TLB flushes, and there is no TLB here */
#define inc_tlb_flush_pending(mm) do { (void)(mm); } while (0)
#define dec_tlb_flush_pending(mm) do { (void)(mm); } while (0)
static inline bool mm_tlb_flush_nested(struct mm_struct *mm) { return false; }
#define flush_tlb_mm(mm) do { (void)(mm); } while (0)	/* kernel: flush_tlb_mm() (no TLB) */

/* ---- fs/proc/task_mmu.c smaps and pagemap, mm/mincore.c ---- */
#include "pywalk/proc_walkers.h"

#endif
