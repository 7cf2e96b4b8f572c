/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: the kernel API of trees that have software-leaf entries,
 * vma flag bitmaps and pfn-only huge inserts (7.x).  Every name here is
 * PW_API (compiler.h): visible only to a tree that defines it.  Our
 * mappings hold present device leaves and tables only: no swap,
 * migration, device-private or uffd entries, so the predicates answer
 * "no" and what would handle such an entry or a folio is PW_UNMODELLED.
 */
#ifndef PYWALK_SHIM_LEAF_H
#define PYWALK_SHIM_LEAF_H

typedef swp_entry_t PW_API(softleaf_t);		/* kernel: softleaf_t */
/* kernel: pmd_is_*() (include/linux/leafops.h): none of ours is a software leaf */
static inline bool PW_API(pmd_is_device_private_entry)(pmd_t pmd) { return false; }
static inline bool PW_API(pmd_is_migration_entry)(pmd_t pmd) { return false; }
static inline bool PW_API(pmd_is_valid_softleaf)(pmd_t pmd) { return false; }
static inline bool PW_API(userfaultfd_huge_pmd_rwp)(struct vm_area_struct *vma, pmd_t pmd) { return false; }	/* kernel: no uffd */
static inline bool PW_API(userfaultfd_rwp)(struct vm_area_struct *vma) { return false; }	/* kernel: no uffd */
static inline bool PW_API(is_huge_zero_folio)(const struct folio *folio) { return false; }	/* kernel: no huge zero folio here */
static inline bool PW_API(is_huge_zero_pfn)(unsigned long pfn) { return false; }	/* kernel: same */
static inline bool PW_API(folio_is_device_private)(const struct folio *folio) { return false; }	/* kernel: same */
static inline bool PW_API(mapping_pmd_folio_support)(const struct address_space *m) { return false; }	/* kernel: no page cache here */
/* kernel: pfnmap_setup_cachemode_pfn() (PAT): no cache modes here */
static inline void PW_API(pfnmap_setup_cachemode_pfn)(unsigned long pfn, pgprot_t *prot) { }
/* kernel: mm_flags_test(): the mm's MMF_* bits */
static inline bool PW_API(mm_flags_test)(int flag, const struct mm_struct *mm) { return test_bit(flag, &mm->flags); }
/* kernel: vma_test()/vma_test_any() on the vma flag bitmap; ours is vm_flags */
static inline bool PW_API(vma_test)(const struct vm_area_struct *vma, int bit) { return (vma->vm_flags >> bit) & 1; }
#if PW_HAVE_vma_test_any
#define vma_test_any(vma, ...) pw_vma_test_any((vma), (int[]){ __VA_ARGS__, -1 })	/* kernel: vma_test_any() */
#endif
static inline bool pw_vma_test_any(const struct vm_area_struct *vma, const int *bits)
{
	for (; *bits >= 0; bits++)
		if ((vma->vm_flags >> *bits) & 1)
			return true;
	return false;
}
/* kernel: VMA_*_BIT (DECLARE_VMA_BIT()): the bit numbers of the VM_* flags */
#if PW_HAVE_VMA_SHARED_BIT
#define VMA_SHARED_BIT 3
#endif
#if PW_HAVE_VMA_MAYWRITE_BIT
#define VMA_MAYWRITE_BIT 5
#endif
#if PW_HAVE_VMA_GROWSDOWN_BIT
#define VMA_GROWSDOWN_BIT 8
#endif
/* kernel: vma_flags_test() & co on vma_flags_t (struct vm_area_struct's
 * flags, the same bits as vm_flags: shim/include/pywalk/mm.h) */
static inline bool PW_API(vma_flags_test)(const PW_API(vma_flags_t) *flags, int bit)
{
	return (flags->__vma_flags[0] >> bit) & 1;
}
static inline bool PW_API(vma_flags_test_single_mask)(const PW_API(vma_flags_t) *flags,
							     PW_API(vma_flags_t) mask)
{
	return flags->__vma_flags[0] & mask.__vma_flags[0];
}
#if PW_HAVE_EMPTY_VMA_FLAGS
#define EMPTY_VMA_FLAGS ((vma_flags_t){ })	/* kernel: EMPTY_VMA_FLAGS */
#endif
#if PW_HAVE_VMA_GROWSUP
#define VMA_GROWSUP EMPTY_VMA_FLAGS		/* kernel: VMA_GROWSUP (x86 stacks grow down) */
#endif
#if PW_HAVE_VMA_PFNMAP_BIT
#define VMA_PFNMAP_BIT 10
#endif
#if PW_HAVE_VMA_MIXEDMAP_BIT
#define VMA_MIXEDMAP_BIT 28
#endif
#if PW_HAVE_VMA_IO_BIT
#define VMA_IO_BIT 14
#endif
/* kernel: pmd_to_softleaf_folio(), softleaf_*(): no software leaves reach here */
#define PW_U(ret, name, args) static inline ret PW_API(name) args { PW_UNMODELLED(#name); }
PW_U(swp_entry_t, softleaf_from_pmd, (pmd_t pmd))
PW_U(struct folio *, softleaf_to_folio, (swp_entry_t e))
PW_U(struct page *, softleaf_to_page, (swp_entry_t e))
PW_U(bool, softleaf_is_migration_write, (swp_entry_t e))
PW_U(bool, softleaf_is_migration_read_exclusive, (swp_entry_t e))
PW_U(bool, softleaf_is_migration_young, (swp_entry_t e))
PW_U(bool, softleaf_is_migration_dirty, (swp_entry_t e))
PW_U(bool, softleaf_is_device_private_write, (swp_entry_t e))
PW_U(swp_entry_t, make_writable_device_private_entry, (unsigned long off))
PW_U(swp_entry_t, make_readable_device_private_entry, (unsigned long off))
PW_U(struct folio *, pmd_to_softleaf_folio, (pmd_t pmd))
PW_U(bool, pmd_swp_uffd, (pmd_t pmd))
PW_U(bool, pmd_uffd, (pmd_t pmd))
PW_U(pte_t, pte_swp_mkuffd, (pte_t pte))
PW_U(pte_t, pte_mkuffd, (pte_t pte))
PW_U(pte_t, pte_modify, (pte_t pte, pgprot_t prot))
PW_U(vm_fault_t, do_huge_pmd_device_private, (struct vm_fault *vmf))
PW_U(vm_fault_t, do_huge_pmd_uffd_rwp, (struct vm_fault *vmf))
/* folios: shim/include/pywalk/folio.h; the folio helpers are sliced */
/* kernel: the pte-level software-leaf API: zap_nonpresent_ptes() only, for
 * a pte that is not present, which our mappings never hold */
PW_U(swp_entry_t, softleaf_from_pte, (pte_t pte))
PW_U(bool, softleaf_is_device_private, (swp_entry_t e))
PW_U(bool, softleaf_is_device_exclusive, (swp_entry_t e))
PW_U(bool, softleaf_is_swap, (swp_entry_t e))
PW_U(bool, softleaf_is_migration, (swp_entry_t e))
PW_U(bool, softleaf_is_uffd_wp_marker, (swp_entry_t e))
PW_U(bool, softleaf_is_guard_marker, (swp_entry_t e))
PW_U(bool, softleaf_is_hwpoison, (swp_entry_t e))
PW_U(bool, softleaf_is_poison_marker, (swp_entry_t e))
PW_U(void, swap_put_entries_direct, (swp_entry_t e, int nr))
PW_U(bool, pte_uffd, (pte_t pte))
PW_U(bool, pte_swp_uffd_any, (pte_t pte))
PW_U(pte_t, make_pte_marker, (unsigned long marker))
PW_U(int, __pte_alloc, (struct mm_struct *mm, pmd_t *pmd))	/* install_pte walks only */
static inline bool PW_API(uffd_supports_wp_marker)(void) { return false; }	/* kernel: no uffd */
static inline bool PW_API(userfaultfd_wp)(struct vm_area_struct *vma) { return false; }	/* kernel: no uffd */
#if PW_HAVE_PTE_MARKER_UFFD_WP
#define PTE_MARKER_UFFD_WP 1UL			/* kernel: PTE_MARKER_UFFD_WP */
#endif
#undef PW_U
/* kernel: walk_kernel_page_table_range_lockless() (7.x linux/pagewalk.h):
 * defined in mm/pagewalk.c after its first use, so declared here */
int PW_API(walk_kernel_page_table_range_lockless)(unsigned long start, unsigned long end,
		const struct mm_walk_ops *ops, pgd_t *pgd, void *private);
/* kernel: mapping_rmap_tree_foreach() (7.x walk_page_mapping()): no file rmap here */
#if PW_HAVE_mapping_rmap_tree_foreach
#define mapping_rmap_tree_foreach(vma, mapping, start, last) \
	for ((vma) = pw_no_i_mmap(); (vma); (vma) = NULL)
#endif
/* kernel: print_bad_page_map() (7.x print_bad_pte()): a WARN finding */
#if PW_HAVE_print_bad_page_map
#define print_bad_page_map(vma, a, ...) \
	pw_warn(__FILE__, __LINE__, "BUG: Bad page map (print_bad_page_map)")
#endif
/* kernel: flush_tlb_fix_spurious_fault()/_pmd() (x86: nothing; no TLB here) */
#if PW_HAVE_flush_tlb_fix_spurious_fault
#define flush_tlb_fix_spurious_fault(vma, a, p) do { } while (0)
#endif
#if PW_HAVE_flush_tlb_fix_spurious_fault_pmd
#define flush_tlb_fix_spurious_fault_pmd(vma, a, p) do { } while (0)
#endif
/* kernel: pte_free_tlb(): a pte table freed after the flush; here at once */
#if PW_HAVE_pte_free_tlb
#define pte_free_tlb(tlb, pte, a) pte_free((tlb)->mm, (pte))
#endif
/* kernel: pmd_free_tlb()/pud_free_tlb() (free_pgd_range()): the same, at once */
#if PW_HAVE_pmd_free_tlb
#define pmd_free_tlb(tlb, pmd, a) pmd_free((tlb)->mm, (pmd))
#endif
#if PW_HAVE_pud_free_tlb
#define pud_free_tlb(tlb, pud, a) pud_free((tlb)->mm, (pud))
#endif
/* kernel: p4d_free_tlb() (pgtable-nop4d.h: the p4d level is folded, no table) */
#if PW_HAVE_p4d_free_tlb
#define p4d_free_tlb(tlb, p4d, a) do { (void)(p4d); } while (0)
#endif
/* kernel: IS_ANON_FILE(): our device inode is not an anonymous inode */
#if PW_HAVE_IS_ANON_FILE
#define IS_ANON_FILE(inode) ((void)(inode), 0)
#endif

#endif
