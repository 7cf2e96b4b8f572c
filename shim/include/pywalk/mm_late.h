/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: the parts of the mm that need the tree's own types
 * (vm_fault_t, struct vm_fault, enum fault_flag), so they come after the
 * type slices.  PW_TREE_* macros are detected from the tree by
 * pywalk/tree/facts.py (e.g. huge_fault taking an order since 6.6).
 */
#ifndef PYWALK_SHIM_MM_LATE_H
#define PYWALK_SHIM_MM_LATE_H

#if PW_TREE_HUGE_FAULT_ORDER
#define PW_HUGE_FAULT_ARG unsigned int order
#else
#define PW_HUGE_FAULT_ARG enum page_entry_size pe_size
#endif

struct vm_operations_struct {	/* kernel: struct vm_operations_struct, the members we use */
	vm_fault_t (*fault)(struct vm_fault *vmf);
	vm_fault_t (*huge_fault)(struct vm_fault *vmf, PW_HUGE_FAULT_ARG);
	/* kernel: ->find_special_page() (asked by vm_normal_page(); ours is NULL) */
	struct page *(*find_special_page)(struct vm_area_struct *vma, unsigned long addr);
};

/*
 * What the tree's THP policy (hugepage_vma_check() before 6.8,
 * __thp_vma_allowable_orders() since, both sliced from mm/huge_memory.c)
 * asks about files.  Our mappings are of a DAX-like device: never shmem,
 * never secretmem; the policy returns for DAX before it looks further.
 */
static inline bool shmem_file(struct file *file) { return false; }	/* kernel: shmem_file(): not a shmem file */
static inline bool PW_API(secretmem_mapping)(struct address_space *mapping) { return false; }	/* kernel: secretmem_mapping() */
extern unsigned long huge_anon_orders_always, huge_anon_orders_madvise, huge_anon_orders_inherit;	/* kernel: mTHP sysfs knobs (anonymous only) */
#if PW_HAVE_MAX_PAGECACHE_ORDER
#define MAX_PAGECACHE_ORDER HPAGE_PMD_ORDER	/* kernel: MAX_PAGECACHE_ORDER on x86-64 (min(MAX_XAS_ORDER, PMD order)) */
#endif

/* kernel: huge zero pages exist only for anonymous THP: never here */
static inline bool PW_API(is_huge_zero_pmd)(pmd_t pmd) { return false; }
static inline bool PW_API(is_huge_zero_pud)(pud_t pud) { return false; }
/* kernel: THP migration (CONFIG_ARCH_ENABLE_THP_MIGRATION) is off */
static inline bool PW_API(thp_migration_supported)(void) { return false; }
static inline int PW_API(is_pmd_migration_entry)(pmd_t pmd) { return 0; }	/* kernel: is_pmd_migration_entry() */
static inline int PW_API(pmd_uffd_wp)(pmd_t pmd) { return 0; }			/* kernel: pmd_uffd_wp() (no uffd-wp) */

/*
 * Paths only anonymous memory, NUMA balancing, migration or userfaultfd
 * reach.  Our mappings are DAX-like device memory, so reaching one of these
 * means the harness drove the kernel somewhere it does not model: that is
 * reported as a BUG naming the function, never silently skipped.
 */
#define PW_UNMODELLED(name) pw_oops(PW_OOPS_BUG, __FILE__, __LINE__, \
	"pywalk: reached " name "(), which the shim does not model", 0, NULL)
static inline vm_fault_t do_huge_pmd_anonymous_page(struct vm_fault *vmf) { PW_UNMODELLED("do_huge_pmd_anonymous_page"); }
static inline vm_fault_t do_huge_pmd_wp_page(struct vm_fault *vmf) { PW_UNMODELLED("do_huge_pmd_wp_page"); }
static inline vm_fault_t do_huge_pmd_numa_page(struct vm_fault *vmf) { PW_UNMODELLED("do_huge_pmd_numa_page"); }
static inline void pmd_migration_entry_wait(struct mm_struct *mm, pmd_t *pmd) { PW_UNMODELLED("pmd_migration_entry_wait"); }
static inline bool PW_API(userfaultfd_huge_pmd_wp)(struct vm_area_struct *vma, pmd_t pmd) { return false; }	/* kernel: no uffd */
static inline vm_fault_t handle_userfault(struct vm_fault *vmf, unsigned long reason) { PW_UNMODELLED("handle_userfault"); }
static inline bool PW_API(shmem_huge_enabled)(struct vm_area_struct *vma, bool shmem_huge_force) { PW_UNMODELLED("shmem_huge_enabled"); }
static inline unsigned long PW_API(shmem_allowable_huge_orders)(struct inode *inode, struct vm_area_struct *vma,
		pgoff_t index, loff_t write_end, bool shmem_huge_force) { PW_UNMODELLED("shmem_allowable_huge_orders"); }

/* kernel: handle_pte_fault() (static in mm/memory.c): the shim's stand-in,
 * shim/src/mm.c, maps one device pte the way a DAX ->fault would. */
static vm_fault_t handle_pte_fault(struct vm_fault *vmf);

#endif
