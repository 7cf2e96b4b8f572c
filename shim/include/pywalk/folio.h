/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: folios of device-dax memory (ZONE_DEVICE pages with a pgmap,
 * MEMORY_DEVICE_GENERIC), as the 7.x fault, zap and split paths handle them
 * once device-dax inserts folios (vmf_insert_folio_pud()/_pmd(), sliced
 * from the tree): a folio's reference count, its huge-mapping count (rmap)
 * and the mm's rss counters.  Our own code from the kernel's documented
 * behaviour (include/linux/mm.h, page_ref.h, rmap.h, page-flags.h,
 * mm/memremap.c); the geometry (which page heads a folio, its order) is
 * shim/src/physmem.c's.  Names a tree lacks are PW_API (compiler.h).
 *
 * Page-table pages are order-0 pages without references or mappings here;
 * only device-dax pages are ever handed to these as folios.
 */
#ifndef PYWALK_SHIM_FOLIO_H
#define PYWALK_SHIM_FOLIO_H

bool pw_page_zone_device(const struct page *page);
unsigned int pw_page_order(const struct page *page);
struct page *pw_compound_head(const struct page *page);
unsigned long pw_highest_memmap_pfn(void);
extern long pw_dax_refs;

/* kernel: page->flags bits kept here (enum pageflags; our own numbers) */
enum { PW_PG_dirty, PW_PG_referenced };

/* kernel: page_folio() (compound_head(), as a folio) */
#if PW_HAVE_page_folio
#define page_folio(p) ((struct folio *)pw_compound_head(p))
#endif
/* kernel: compound_head() */
#define compound_head(p) pw_compound_head(p)
/* kernel: folio_order() */
static inline unsigned int PW_API(folio_order)(const struct folio *f) { return pw_page_order(&f->page); }
/* kernel: folio_test_large() */
static inline bool PW_API(folio_test_large)(const struct folio *f) { return pw_page_order(&f->page) > 0; }
/* kernel: is_zone_device_page() / folio_is_zone_device() */
static inline bool PW_API(is_zone_device_page)(const struct page *p) { return pw_page_zone_device(p); }
/* kernel: PageReserved(): ZONE_DEVICE pages are reserved from their memmap
 * init on (__init_zone_device_page()); page-table pages are not */
static inline int PageReserved(const struct page *p) { return pw_page_zone_device(p); }

/* ---- references (include/linux/page_ref.h, mm.h) ---- */
/* kernel: folio_ref_count(): a ZONE_DEVICE page starts with one */
static inline int PW_API(folio_ref_count)(const struct folio *f)
{
	return 1 + __atomic_load_n(&f->pw_extra_refs, __ATOMIC_RELAXED);
}
/* kernel: folio_get() */
static inline void PW_API(folio_get)(struct folio *f)
{
	__atomic_fetch_add(&f->pw_extra_refs, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&pw_dax_refs, 1, __ATOMIC_RELAXED);
}
/* kernel: folio_put(): the last put frees the folio; a MEMORY_DEVICE_GENERIC
 * page then goes back to a count of one (free_zone_device_folio()).  Here
 * no folio is ever free while the tree maps it, so a put that would take
 * the count below its memmap init's one is reported (a reference dropped
 * twice: the folio freed under a live mapping). */
static inline void PW_API(folio_put)(struct folio *f)
{
	if (__atomic_sub_fetch(&f->pw_extra_refs, 1, __ATOMIC_RELAXED) < 0) {
		__atomic_fetch_add(&f->pw_extra_refs, 1, __ATOMIC_RELAXED);
		pw_warn(__FILE__, __LINE__, "BUG: folio_put() of a device folio with no "
			"reference left (freed while still mapped)");
		return;
	}
	__atomic_fetch_sub(&pw_dax_refs, 1, __ATOMIC_RELAXED);
}

/* ---- rmap of huge mappings (include/linux/rmap.h) ---- */
static inline void pw_folio_map(struct folio *f, int nr)
{
	if (__atomic_add_fetch(&f->pw_entire_maps, nr, __ATOMIC_RELAXED) < 0)
		pw_warn(__FILE__, __LINE__, "BUG: folio entire mapcount underflow "
			"(folio_remove_rmap of a folio not mapped)");
}
/* kernel: folio_add_file_rmap_pud()/_pmd(): one more entire mapping */
static inline void PW_API(folio_add_file_rmap_pud)(struct folio *f, struct page *p,
						  struct vm_area_struct *vma) { pw_folio_map(f, 1); }
static inline void PW_API(folio_add_file_rmap_pmd)(struct folio *f, struct page *p,
						  struct vm_area_struct *vma) { pw_folio_map(f, 1); }
/* kernel: folio_remove_rmap_pud()/_pmd(): one fewer */
static inline void PW_API(folio_remove_rmap_pud)(struct folio *f, struct page *p,
						struct vm_area_struct *vma) { pw_folio_map(f, -1); }
static inline void PW_API(folio_remove_rmap_pmd)(struct folio *f, struct page *p,
						struct vm_area_struct *vma) { pw_folio_map(f, -1); }

/* ---- flags (include/linux/page-flags.h); device-dax folios are file
 * folios of the device's mapping: never anonymous, never swap-backed ---- */
static inline bool PW_API(folio_test_anon)(const struct folio *f) { return false; }
static inline bool PW_API(folio_test_swapbacked)(const struct folio *f) { return false; }
static inline bool PW_API(folio_test_dirty)(const struct folio *f) { return test_bit(PW_PG_dirty, &f->flags); }
static inline bool PW_API(folio_test_referenced)(const struct folio *f)
{
	return test_bit(PW_PG_referenced, &f->flags);
}
static inline void PW_API(folio_set_referenced)(struct folio *f)
{
	__atomic_fetch_or(&f->flags, 1UL << PW_PG_referenced, __ATOMIC_RELAXED);
}
/* kernel: folio_mark_dirty(): the device's address_space has no dirty
 * accounting (noop_dirty_folio()): the flag, and whether it was clean */
static inline bool PW_API(folio_mark_dirty)(struct folio *f)
{
	return !(__atomic_fetch_or(&f->flags, 1UL << PW_PG_dirty, __ATOMIC_RELAXED) &
		 (1UL << PW_PG_dirty));
}
/* kernel: folio_mark_accessed(): no LRU here: referenced */
static inline void PW_API(folio_mark_accessed)(struct folio *f) { PW_API(folio_set_referenced)(f); }
/* kernel: vma_has_recency(): not for VM_SEQ_READ/VM_RAND_READ vmas (no FMODE_NOREUSE here) */
static inline bool PW_API(vma_has_recency)(const struct vm_area_struct *vma)
{
	return !(vma->vm_flags & (VM_SEQ_READ | VM_RAND_READ));
}

/* ---- rss counters (include/linux/mm.h; kernel: percpu counters) ---- */
/* kernel: add_mm_counter() */
static inline void PW_API(add_mm_counter)(struct mm_struct *mm, int member, long value)
{
	__atomic_fetch_add(&mm->pw_rss[member], value, __ATOMIC_RELAXED);
}
/* kernel: mm_counter_file() (a page before 6.9, a folio since): never
 * swap-backed here, so MM_FILEPAGES */
#if PW_HAVE_mm_counter_file
#define mm_counter_file(p) ((void)(p), MM_FILEPAGES)
#endif

/* ---- mmu_gather of a data page (include/asm-generic/tlb.h) ---- */
/* kernel: tlb_remove_page_size(): the page's reference is dropped after the
 * TLB flush (free_pages_and_swap_cache()); no TLB, no batching: now */
static inline void PW_API(tlb_remove_page_size)(struct mmu_gather *tlb, struct page *p, int size)
{
	PW_API(folio_put)((struct folio *)pw_compound_head(p));
}

/* kernel: highest_memmap_pfn */
#define highest_memmap_pfn pw_highest_memmap_pfn()
/* kernel: is_zero_pfn(): there is no zero page here, no entry maps one */
static inline int PW_API(is_zero_pfn)(unsigned long pfn) { return 0; }

#endif
