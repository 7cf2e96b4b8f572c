/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: what the tree's smaps, pagemap (fs/proc/task_mmu.c) and
 * mincore (mm/mincore.c) walks are compiled against.  Included from
 * clients.h, before the client slices.  Our own definitions, each naming its
 * kernel counterpart, each only for a tree that has the name (PW_API).
 *
 * What these walks read of an entry (present, young, dirty, soft-dirty, its
 * pfn) is the shim's entry encoding (pgtable.h).  What they do with a struct
 * page is not modelled: the tree's vm_normal_page*() find none behind our
 * special/devmap entries (and 6.12's smaps and every pagemap/mincore path
 * ask no further), no entry here is ever a swap or migration entry, and
 * hugetlb is off; a page-state helper that is reached anyway reports a BUG
 * naming itself (PW_UNMODELLED), never a made-up answer.
 */
#ifndef PYWALK_SHIM_PROC_WALKERS_H
#define PYWALK_SHIM_PROC_WALKERS_H

/* Debian's x86-64 configuration: /proc/PID/smaps and pagemap, shmem, swap
 * and soft-dirty tracking are on */
#define CONFIG_PROC_PAGE_MONITOR 1
#define CONFIG_SHMEM 1
#define CONFIG_SWAP 1
#define CONFIG_MEM_SOFT_DIRTY 1

#ifndef VM_LOCKED
#define VM_LOCKED 0x00002000UL	/* kernel: VM_LOCKED (mlock(); no vma here has it) */
#endif
/* kernel: VM_SOFTDIRTY (CONFIG_MEM_SOFT_DIRTY): new vmas start soft-dirty in
 * the kernel; the harness makes its vmas without it, as after clear_refs */
#if PW_HAVE_VM_SOFTDIRTY && !defined(VM_SOFTDIRTY)
#define VM_SOFTDIRTY 0x08000000UL
#endif
#if PW_HAVE_GENMASK_ULL
#define GENMASK_ULL(h, l) (((~0ULL) >> (63 - (h))) & ((~0ULL) << (l)))	/* kernel: GENMASK_ULL() */
#endif
#if PW_HAVE_BIT_ULL
#define BIT_ULL(nr) (1ULL << (nr))				/* kernel: BIT_ULL() */
#endif
#if PW_HAVE_DIV_ROUND_UP
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))		/* kernel: DIV_ROUND_UP() */
#endif
#ifndef __always_unused
#define __always_unused __attribute__((__unused__))	/* kernel: __always_unused */
#endif
#if PW_HAVE_min_t && !defined(min_t)
#define min_t(type, x, y) ({ type __x = (x); type __y = (y); __x < __y ? __x : __y; })	/* kernel: min_t() */
#endif
/* kernel: do_div(): divides the u64 in place, returns the remainder */
#define do_div(n, base) ({ unsigned int __r = (n) % (base); (n) /= (base); __r; })
static inline bool PW_API(IS_ERR_OR_NULL)(const void *p)	/* kernel: IS_ERR_OR_NULL() */
{
	return !p || IS_ERR(p);
}
#if PW_HAVE_FOLL_DUMP
#define FOLL_DUMP 0x08		/* kernel: FOLL_DUMP (only passed on, never tested here) */
#endif
#if PW_HAVE_MAY_WRITE
#define MAY_WRITE 0x00000002	/* kernel: MAY_WRITE */
#endif

/* ---- entry bits (arch/x86/include/asm/pgtable.h): read from the entry ---- */
static inline int PW_API(pte_soft_dirty)(pte_t pte) { return !!(pte_val(pte) & _PAGE_SOFT_DIRTY); }	/* kernel: pte_soft_dirty() */
/* kernel: pte_uffd_wp(): the uffd-wp bit; no vma here is registered with
 * userfaultfd, so no pte ever has it */
static inline int PW_API(pte_uffd_wp)(pte_t pte) { return 0; }
/* kernel: pte_none_mostly(): none, or a pte marker (there are none here) */
static inline int PW_API(pte_none_mostly)(pte_t pte) { return pte_none(pte); }
/* kernel: is_swap_pte(): neither none nor present */
static inline int PW_API(is_swap_pte)(pte_t pte) { return !pte_none(pte) && !pte_present(pte); }

/*
 * Swap and migration entries: nothing here ever writes one (no swap, no
 * migration), so is_swap_pte() is never true of a pte these walks meet;
 * the tree's code that decodes them is reached only through it.
 */
#define PW_U(ret, name, args) static inline ret PW_API(name) args { PW_UNMODELLED(#name); }
PW_U(int, pte_swp_soft_dirty, (pte_t pte))
PW_U(int, pte_swp_uffd_wp, (pte_t pte))
PW_U(int, pte_swp_uffd_wp_any, (pte_t pte))
PW_U(bool, is_pfn_swap_entry, (swp_entry_t e))
PW_U(unsigned long, swp_offset_pfn, (swp_entry_t e))
PW_U(pgoff_t, swp_offset, (swp_entry_t e))
PW_U(unsigned int, swp_type, (swp_entry_t e))
PW_U(int, swp_swapcount, (swp_entry_t e))
PW_U(struct address_space *, swap_address_space, (swp_entry_t e))
PW_U(pgoff_t, swap_cache_index, (swp_entry_t e))			/* 6.x */
PW_U(bool, is_guard_swp_entry, (swp_entry_t e))		/* 6.13+ guard regions */
/* 7.x: software leaf entries (include/linux/leafops.h) and the swap cache */
struct swap_info_struct;
PW_U(bool, softleaf_has_pfn, (swp_entry_t e))
PW_U(unsigned long, softleaf_to_pfn, (swp_entry_t e))
PW_U(int, pte_swp_uffd, (pte_t pte))
PW_U(swp_entry_t, radix_to_swp_entry, (void *arg))
PW_U(struct swap_info_struct *, get_swap_device, (swp_entry_t e))
PW_U(void, put_swap_device, (struct swap_info_struct *si))
PW_U(struct folio *, swap_cache_get_folio, (swp_entry_t e))
/* kernel: pte_is_marker(): a non-present pte that is a marker; nothing here
 * writes one */
static inline bool PW_API(pte_is_marker)(pte_t pte) { return false; }
#if PW_HAVE_MAX_SWAPFILES_SHIFT
#define MAX_SWAPFILES_SHIFT 5	/* kernel: MAX_SWAPFILES_SHIFT */
#endif

/* ---- struct page / folio state (smaps' accounting; pagemap's flags) ---- */
PW_U(int, PageSwapBacked, (struct page *p))
PW_U(int, PageUptodate, (struct page *p))
PW_U(bool, page_is_young, (struct page *p))
PW_U(unsigned long, compound_nr, (struct page *p))
PW_U(int, PageCompound, (struct page *p))
PW_U(bool, folio_test_ksm, (struct folio *f))
PW_U(bool, __folio_page_mapped_exclusively, (struct folio *f, struct page *p))
PW_U(bool, folio_test_uptodate, (struct folio *f))
PW_U(bool, folio_test_young, (struct folio *f))
PW_U(bool, folio_test_idle, (struct folio *f))
PW_U(bool, folio_is_zone_device, (struct folio *f))
PW_U(long, folio_nr_pages, (const struct folio *f))
PW_U(bool, folio_maybe_mapped_shared, (struct folio *f))
PW_U(bool, folio_likely_mapped_shared, (struct folio *f))
PW_U(struct page *, follow_trans_huge_pmd, (struct vm_area_struct *vma, unsigned long a,
					    pmd_t *pmd, unsigned int flags))
/* shmem (only asked for a shmem vma: there is none here) */
PW_U(unsigned long, shmem_partial_swap_usage, (struct address_space *m, pgoff_t s, pgoff_t e))
PW_U(unsigned long, shmem_swap_usage, (struct vm_area_struct *vma))
static inline bool PW_API(shmem_mapping)(struct address_space *m) { return false; }	/* kernel: shmem_mapping() (no shmem here) */
#undef PW_U

/*
 * The page cache: device files (ours, device-dax's, VFIO's) have none, and
 * there is no swap cache, so a lookup finds nothing.
 * kernel: find_get_incore_page() (6.1: the page or NULL),
 * filemap_get_incore_folio() (6.x: the folio or ERR_PTR(-ENOENT)).
 */
static inline struct page *PW_API(find_get_incore_page)(struct address_space *m, pgoff_t i)
{
	return NULL;
}
static inline struct folio *PW_API(filemap_get_incore_folio)(struct address_space *m, pgoff_t i)
{
	return ERR_PTR(-ENOENT);
}
/* kernel: xa_is_value(): an xarray value entry has its low bit set */
static inline bool PW_API(xa_is_value)(const void *entry) { return (unsigned long)entry & 1; }
/* kernel: filemap_get_entry() (7.x: the folio, a value entry, or NULL) */
static inline void *PW_API(filemap_get_entry)(struct address_space *m, pgoff_t i)
{
	return NULL;
}

/* vma_lookup(): shim/include/pywalk/madvise.h */

/*
 * can_do_mincore() of a file mapping: the caller runs as the device file's
 * owner (root, as the CVE's reproducer), so the page-cache side channel
 * check lets it through.  kernel: file_owner_or_capable() (owner or
 * CAP_FOWNER), file_permission().
 */
static inline bool PW_API(file_owner_or_capable)(const struct file *file) { return true; }
static inline int PW_API(file_permission)(struct file *file, int mask) { return 0; }

#endif
