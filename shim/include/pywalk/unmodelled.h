/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: what the anonymous-THP, migration, rmap and memcg tails of
 * the sliced split functions refer to.  __split_huge_pmd_locked() returns
 * early for our DAX-like ("special huge") mappings, before any of this;
 * these definitions exist so that the tree's functions compile whole, and
 * each reports a BUG naming itself if it is ever reached (PW_UNMODELLED).
 */
#ifndef PYWALK_SHIM_UNMODELLED_H
#define PYWALK_SHIM_UNMODELLED_H

typedef struct { unsigned long val; } swp_entry_t;	/* kernel: swp_entry_t */
enum node_stat_item { NR_ANON_THPS, NR_FILE_THPS };	/* kernel: enum node_stat_item (two of them) */
enum { MM_FILEPAGES, MM_ANONPAGES, MM_SWAPENTS, MM_SHMEMPAGES, NR_MM_COUNTERS };	/* kernel: mm counters */
/* device-dax folios: references, rmap, rss (7.x folio inserts) */
#include "pywalk/folio.h"

/* each stub exists only for a tree that has the name (PW_API, compiler.h) */
#define PW_U(ret, name, args) static inline ret PW_API(name) args { PW_UNMODELLED(#name); }
/* struct page flags and refcounts (include/linux/page-flags.h, page_ref.h) */
PW_U(int, PageAnon, (struct page *p))
PW_U(int, PageAnonExclusive, (struct page *p))
PW_U(int, PageDirty, (struct page *p))
PW_U(int, PageReferenced, (struct page *p))
PW_U(void, SetPageAnonExclusive, (struct page *p))
PW_U(void, SetPageDirty, (struct page *p))
PW_U(void, SetPageReferenced, (struct page *p))
PW_U(int, TestSetPageDoubleMap, (struct page *p))
PW_U(int, TestClearPageDoubleMap, (struct page *p))
PW_U(int, page_count, (struct page *p))
PW_U(void, page_ref_add, (struct page *p, int nr))
PW_U(void, put_page, (struct page *p))
PW_U(bool, set_page_dirty, (struct page *p))
PW_U(int, compound_mapcount, (struct page *p))
PW_U(atomic_t *, compound_mapcount_ptr, (struct page *p))
PW_U(bool, folio_test_locked, (struct folio *f))
/* rmap, memcg, mlock, counters (mm/rmap.c, memcontrol.c, mlock.c) */
PW_U(void, page_remove_rmap, (struct page *p, struct vm_area_struct *vma, bool compound))
PW_U(int, page_try_share_anon_rmap, (struct page *p))
PW_U(void, lock_page_memcg, (struct page *p))
PW_U(void, unlock_page_memcg, (struct page *p))
PW_U(void, munlock_vma_page, (struct page *p, struct vm_area_struct *vma, bool compound))
PW_U(void, __mod_lruvec_page_state, (struct page *p, enum node_stat_item idx, int val))
/* migration entries (include/linux/swapops.h) */
PW_U(swp_entry_t, pmd_to_swp_entry, (pmd_t pmd))
PW_U(struct page *, pfn_swap_entry_to_page, (swp_entry_t e))
PW_U(int, is_writable_migration_entry, (swp_entry_t e))
PW_U(int, is_readable_exclusive_migration_entry, (swp_entry_t e))
PW_U(bool, is_migration_entry_young, (swp_entry_t e))
PW_U(bool, is_migration_entry_dirty, (swp_entry_t e))
PW_U(swp_entry_t, make_writable_migration_entry, (unsigned long off))
PW_U(swp_entry_t, make_readable_migration_entry, (unsigned long off))
PW_U(swp_entry_t, make_readable_exclusive_migration_entry, (unsigned long off))
PW_U(swp_entry_t, make_migration_entry_young, (swp_entry_t e))
PW_U(swp_entry_t, make_migration_entry_dirty, (swp_entry_t e))
PW_U(pte_t, swp_entry_to_pte, (swp_entry_t e))
PW_U(int, pmd_swp_soft_dirty, (pmd_t pmd))
PW_U(int, pmd_swp_uffd_wp, (pmd_t pmd))
PW_U(pte_t, pte_swp_mksoft_dirty, (pte_t pte))
PW_U(pte_t, pte_swp_mkuffd_wp, (pte_t pte))
/* soft-dirty and uffd-wp bits on split ptes */
PW_U(int, pmd_soft_dirty, (pmd_t pmd))
PW_U(pte_t, pte_mksoft_dirty, (pte_t pte))
PW_U(pte_t, pte_mkuffd_wp, (pte_t pte))
/* anonymous THP split helpers (mm/huge_memory.c, mm/pgtable-generic.c) */
PW_U(pmd_t, pmdp_invalidate, (struct vm_area_struct *vma, unsigned long a, pmd_t *pmdp))
PW_U(void, pgtable_trans_huge_deposit, (struct mm_struct *mm, pmd_t *pmdp, pgtable_t pgtable))
PW_U(pgtable_t, pgtable_trans_huge_withdraw, (struct mm_struct *mm, pmd_t *pmdp))
PW_U(void, zap_deposited_table, (struct mm_struct *mm, pmd_t *pmd))
PW_U(void, __split_huge_zero_page_pmd, (struct vm_area_struct *vma, unsigned long haddr, pmd_t *pmd))
PW_U(pte_t, mk_pte, (struct page *p, pgprot_t prot))
PW_U(pte_t, maybe_mkwrite, (pte_t pte, struct vm_area_struct *vma))
/* folios (include/linux/page-flags.h, mm.h, rmap.h; the 6.12 split tail) */
typedef int rmap_t;					/* kernel: rmap_t */
#define RMAP_NONE ((rmap_t)0)				/* kernel: RMAP_NONE */
#define RMAP_EXCLUSIVE ((rmap_t)1)			/* kernel: RMAP_EXCLUSIVE */
PW_U(bool, folio_test_pmd_mappable, (struct folio *f))
PW_U(void, folio_set_dirty, (struct folio *f))
PW_U(void, folio_ref_add, (struct folio *f, int nr))
PW_U(int, folio_try_share_anon_rmap_pmd, (struct folio *f, struct page *p))
PW_U(void, folio_add_anon_rmap_ptes, (struct folio *f, struct page *p, int nr,
				      struct vm_area_struct *vma, unsigned long a, rmap_t flags))
PW_U(struct folio *, pfn_swap_entry_folio, (swp_entry_t e))
PW_U(struct folio *, pmd_folio, (pmd_t pmd))
PW_U(void, set_ptes, (struct mm_struct *mm, unsigned long a, pte_t *ptep, pte_t pte, unsigned int nr))
PW_U(bool, userfaultfd_wp_async, (struct vm_area_struct *vma))
/* folio_walk_start() (6.12 mm/pagewalk.c): nothing here calls it, so all it
 * needs below the walk to a pte is unmodelled; its first call BUGs */
PW_U(void, vma_pgtable_walk_begin, (struct vm_area_struct *vma))
PW_U(void, vma_pgtable_walk_end, (struct vm_area_struct *vma))
PW_U(swp_entry_t, pte_to_swp_entry, (pte_t pte))
PW_U(int, is_migration_entry, (swp_entry_t e))
PW_U(struct page *, nth_page, (struct page *p, unsigned long n))
/*
 * The zap path (zap_page_range_single() and below, sliced from mm/memory.c
 * and mm/huge_memory.c): vm_normal_page() finds no struct page behind our
 * special/devmap ptes, and zap_huge_pmd() returns early for special huge
 * mappings, so everything that handles a page, a folio, an rmap, a swap or
 * migration entry, or hugetlb is never reached here.
 */
PW_U(void, mark_page_accessed, (struct page *p))
PW_U(int, page_mapcount, (struct page *p))
PW_U(int, PageHead, (struct page *p))
PW_U(bool, __tlb_remove_page, (struct mmu_gather *tlb, struct page *p))
PW_U(bool, __tlb_remove_folio_pages, (struct mmu_gather *tlb, struct page *p, int nr, bool delay_rmap))
PW_U(bool, tlb_delay_rmap, (struct mmu_gather *tlb))
PW_U(void, tlb_flush_rmaps, (struct mmu_gather *tlb, struct vm_area_struct *vma))
PW_U(int, folio_mapcount, (struct folio *f))
PW_U(void, folio_remove_rmap_ptes, (struct folio *f, struct page *p, int nr, struct vm_area_struct *vma))
PW_U(void, folio_remove_rmap_pte, (struct folio *f, struct page *p, struct vm_area_struct *vma))
#if PW_HAVE_fpb_t
typedef int fpb_t;					/* kernel: fpb_t (mm/internal.h) */
#endif
#if PW_HAVE_FPB_IGNORE_DIRTY
#define FPB_IGNORE_DIRTY ((fpb_t)1)			/* kernel: FPB_IGNORE_DIRTY */
#endif
#if PW_HAVE_FPB_IGNORE_SOFT_DIRTY
#define FPB_IGNORE_SOFT_DIRTY ((fpb_t)2)		/* kernel: FPB_IGNORE_SOFT_DIRTY */
#endif
/* kernel: folio_pte_batch() (its arguments differ between trees) */
#if PW_HAVE_folio_pte_batch
#define folio_pte_batch(...) ({ PW_UNMODELLED("folio_pte_batch"); 0; })
#endif
PW_U(bool, is_device_private_entry, (swp_entry_t e))
PW_U(bool, is_device_exclusive_entry, (swp_entry_t e))
PW_U(int, non_swap_entry, (swp_entry_t e))
PW_U(int, free_swap_and_cache, (swp_entry_t e))
PW_U(void, free_swap_and_cache_nr, (swp_entry_t e, int nr))
PW_U(int, swap_pte_batch, (pte_t *ptep, int max_nr, pte_t pte))
PW_U(bool, pte_marker_entry_uffd_wp, (swp_entry_t e))
PW_U(int, is_hwpoison_entry, (swp_entry_t e))
PW_U(bool, is_swapin_error_entry, (swp_entry_t e))
PW_U(bool, is_poisoned_swp_entry, (swp_entry_t e))
/* kernel: pfn_valid(): true where a memmap exists; here only the page-table
 * pool has struct pages, the device frames behind huge leaves have none (a
 * BAR), so vm_normal_page*() of a VM_MIXEDMAP mapping finds no page there */
bool pw_pfn_has_memmap(unsigned long pfn);
static inline bool pfn_valid(unsigned long pfn) { return pw_pfn_has_memmap(pfn); }
PW_U(void, adjust_range_if_pmd_sharing_possible, (struct vm_area_struct *vma,
						  unsigned long *start, unsigned long *end))
/* kernel: mm_counter() takes a page before 6.9 and a folio since: any argument */
#if PW_HAVE_mm_counter
#define mm_counter(p) ({ (void)(p); PW_UNMODELLED("mm_counter"); 0; })
#endif
/* kernel: untrack_pfn() (PAT; VM_PFNMAP only; 3 arguments before 6.6, 4 since) */
#if PW_HAVE_untrack_pfn
#define untrack_pfn(vma, ...) PW_UNMODELLED("untrack_pfn")
#endif
/* kernel: hugetlbfs zaps (__unmap_hugepage_range_final() before 6.7,
 * __unmap_hugepage_range() since): no hugetlb vmas here */
#if PW_HAVE___unmap_hugepage_range_final
#define __unmap_hugepage_range_final(...) PW_UNMODELLED("__unmap_hugepage_range_final")
#endif
#if PW_HAVE___unmap_hugepage_range
#define __unmap_hugepage_range(...) PW_UNMODELLED("__unmap_hugepage_range")
#endif
/* kernel: hugetlb_zap_begin()/hugetlb_zap_end() (6.7+): only hugetlb vmas do anything */
#if PW_HAVE_hugetlb_zap_begin
#define hugetlb_zap_begin(vma, s, e) \
	do { if (is_vm_hugetlb_page(vma)) PW_UNMODELLED("hugetlb_zap_begin"); } while (0)
#endif
#if PW_HAVE_hugetlb_zap_end
#define hugetlb_zap_end(vma, d) \
	do { if (is_vm_hugetlb_page(vma)) PW_UNMODELLED("hugetlb_zap_end"); } while (0)
#endif
#undef PW_U

/* kernel: print_bad_pte() ("BUG: Bad page map", then the kernel goes on,
 * tainted): reported as a WARN finding; the zap continues as in the kernel */
#define print_bad_pte(vma, a, pte, page) \
	pw_warn(__FILE__, __LINE__, "BUG: Bad page map (print_bad_pte)")
/* kernel: pr_alert() (no console; zap_pte_range()'s WARN_ON_ONCE(1) after it reports) */
#define pr_alert(...) do { } while (0)
/* kernel: userfaultfd_pte_wp() (no userfaultfd-wp here) */
static inline bool PW_API(userfaultfd_pte_wp)(struct vm_area_struct *vma, pte_t pte) { return false; }
/* kernel: pte_install_uffd_wp_if_needed() (include/linux/mm_inline.h):
 * does nothing without CONFIG_PTE_MARKER_UFFD_WP, which is off here */
static inline bool PW_API(pte_install_uffd_wp_if_needed)(struct vm_area_struct *vma, unsigned long a,
						 pte_t *pte, pte_t pteval) { return false; }

/* kernel: walk_page_mapping()'s i_mmap interval tree: no file rmap here */
static inline struct vm_area_struct *pw_no_i_mmap(void) { PW_UNMODELLED("vma_interval_tree_foreach"); }
#define vma_interval_tree_foreach(vma, root, start, last) \
	for ((vma) = pw_no_i_mmap(); (vma); (vma) = NULL)

/* 7.x: software leaves, vma flag bitmaps, folio inserts */
#include "pywalk/leaf.h"

/* MADV_DONTNEED's own checks (mm/madvise.c) */
#include "pywalk/madvise.h"

#endif
