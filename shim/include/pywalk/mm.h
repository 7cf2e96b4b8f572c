/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: mm and vma structures, page-table page metadata, locks per
 * page-table level, and the no-op parts of the mm (mmu notifiers, TLB
 * flushes, statistics).  Our own definitions; the counterparts are in
 * include/linux/mm_types.h, mm.h, mmu_notifier.h, asm/tlbflush.h.
 *
 * Types and helpers that the races are about (struct vm_fault, the walker's
 * ops, pud_trans_unstable(), pud_alloc(), split_huge_pud(), ...) are NOT
 * here: pywalk/variant/manifest.py lists what is sliced from the tree.
 */
#ifndef PYWALK_SHIM_MM_H
#define PYWALK_SHIM_MM_H

#include "pgtable.h"

/* kernel configuration the sliced code is compiled for (x86-64 defconfig-like) */
#define CONFIG_MMU 1
#define CONFIG_TRANSPARENT_HUGEPAGE 1
#define CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE 1
#define CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD 1
#define CONFIG_ARCH_HAS_PTE_DEVMAP 1
#define CONFIG_ARCH_HAS_PTE_SPECIAL 1
#define CONFIG_DEBUG_VM 1
#define CONFIG_X86_64 1
#define CONFIG_64BIT 1
#define CONFIG_PGTABLE_LEVELS 4
#define CONFIG_PGTABLE_HAS_HUGE_LEAVES 1	/* TRANSPARENT_HUGEPAGE || HUGETLB_PAGE (6.10+) */
/* x86: select ARCH_SUPPORTS_HUGE_PFNMAP if TRANSPARENT_HUGEPAGE (6.12+) */
#define CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP 1
#define CONFIG_ARCH_SUPPORTS_PMD_PFNMAP 1
#define CONFIG_ARCH_SUPPORTS_PUD_PFNMAP 1
#define USE_SPLIT_PTE_PTLOCKS 1
#define USE_SPLIT_PMD_PTLOCKS 1
/* Off: CONFIG_HIGHPTE (pte tables are always mapped), CONFIG_PER_VMA_LOCK
 * (for the tree's code: walkers say PGWALK_RDLOCK, for which
 * process_vma_walk_lock() does nothing either way; the harness's fault
 * entry takes per-VMA locks where the tree has them, vma_lock.h), CONFIG_HUGETLB_PAGE,
 * CONFIG_NUMA_BALANCING, CONFIG_ARCH_ENABLE_THP_MIGRATION, CONFIG_GUP_GET_PXX_LOW_HIGH
 * (64-bit entries are read in one access), CONFIG_READ_ONLY_THP_FOR_FS. */

/* kernel: struct page, what page-table pages and device-dax pages need; a
 * macro, so that struct folio (which overlays its head page) has the same
 * members by the same names, as the kernel's does (folio->mapping, ...) */
#define PW_PAGE_MEMBERS							\
	spinlock_t ptl;		/* kernel: page->ptl, the split page-table lock */	\
	pgtable_t pmd_huge_pte;	/* kernel: page->pmd_huge_pte (deposit; unused on x86) */	\
	unsigned long flags;	/* kernel: page->flags (PW_PG_*: shim/include/pywalk/folio.h) */	\
	atomic_t _mapcount;	/* kernel: page->_mapcount (anonymous split tail only) */	\
	int pw_level;		/* a table page's enum pw_level (set at allocation; lockdep.c), or PW_LEVEL_NONE */	\
	struct mm_struct *pw_mm;	/* the mm it was allocated to, NULL once freed (leaks.c) */	\
	struct address_space *mapping;	/* kernel: page->mapping (device-dax's dax_set_mapping()) */	\
	pgoff_t index;		/* kernel: page->index (same) */	\
	/* kernel: page->_refcount, kept as the references beyond the one a	\
	 * ZONE_DEVICE page has from its memmap init (so a zeroed memmap is	\
	 * right); on a folio's head page (folio.h) */			\
	int pw_extra_refs;						\
	/* kernel: folio->_entire_mapcount + 1: huge (PMD/PUD) mappings of	\
	 * the folio, on its head page */					\
	int pw_entire_maps;
struct page { PW_PAGE_MEMBERS };
#define PW_LEVEL_NONE -1	/* page->pw_level: not a table (free, or never one) */
/* kernel: struct folio: its head page, by that name and member by member */
struct folio {
	union {
		struct page page;
		struct { PW_PAGE_MEMBERS };
	};
};
struct anon_vma;		/* kernel: struct anon_vma (no anonymous huge PUDs) */
struct address_space {		/* kernel: struct address_space (walk_page_mapping) */
	struct rw_semaphore i_mmap_rwsem;
	void *i_mmap;
};
struct inode {			/* kernel: struct inode */
	unsigned int i_flags;
	unsigned int i_mode;	/* kernel: inode->i_mode (S_IFCHR: a device node) */
	atomic_t i_writecount;	/* kernel: inode->i_writecount */
	struct address_space *i_mapping;
};
struct file {			/* kernel: struct file */
	struct address_space *f_mapping;
	struct inode *f_inode;
	int dax;		/* our driver's mappings are DAX-like device memory */
	void *private_data;	/* kernel: file->private_data (device-dax: its struct dev_dax) */
};
struct mmu_gather {		/* kernel: struct mmu_gather (no batching, no TLB here) */
	struct mm_struct *mm;
	unsigned int fullmm;	/* kernel: tlb->fullmm (exit_mmap() only: always 0 here) */
};
struct mmu_notifier_range {	/* kernel: struct mmu_notifier_range (notifiers are no-ops) */
	unsigned long start, end;
	struct mm_struct *mm;
};
struct vm_fault;
struct mm_walk;		/* kernel: forward declaration in linux/pagewalk.h */
struct pw_mm;

#if PW_HAVE_MMF_DISABLE_THP
#define MMF_DISABLE_THP 24	/* kernel: MMF_DISABLE_THP */
#endif
#define PW_MAX_VMAS 64
struct mm_struct {		/* kernel: struct mm_struct */
	pgd_t *pgd;
	spinlock_t page_table_lock;
	struct rw_semaphore mmap_lock;
	unsigned long flags;	/* kernel: mm->flags (MMF_*) */
	long nr_ptes, nr_pmds, nr_puds;	/* kernel: mm counters (mm_inc_nr_pmds() & co) */
	long pw_rss[4];		/* kernel: mm->rss_stat[NR_MM_COUNTERS] (add_mm_counter()) */
	long pw_live_tables;	/* table pages allocated to this mm, not freed (leaks.c) */
	int pw_leak_reported;	/* leaks.c: each kind of finding once per mm */
	int nr_vmas;		/* kernel: the maple tree of vmas, here a sorted array */
	struct vm_area_struct *vmas[PW_MAX_VMAS];
	struct pw_mm *pw;	/* harness state: panic flag, reports */
	/* per-VMA locks (shim/include/pywalk/vma_lock.h) */
	int pw_mm_lock_seq;	/* kernel: mm->mm_lock_seq (vma_end_write_all() bumps it) */
	int pw_vma_readers;	/* VMA read locks held now, all vmas (lockdep.c) */
};

/* kernel: vma_flags_t (7.x): the vma flag bitmap, the same bits as vm_flags */
typedef struct { unsigned long __vma_flags[1]; } PW_API(vma_flags_t);
struct vm_area_struct {		/* kernel: struct vm_area_struct */
	unsigned long vm_start, vm_end;
	struct mm_struct *vm_mm;
	pgprot_t vm_page_prot;
#if PW_HAVE_vma_flags_t
	union {
		unsigned long vm_flags;
		vma_flags_t flags;	/* kernel: vma->flags (7.x) */
	};
#else
	unsigned long vm_flags;
#endif
	unsigned long vm_pgoff;
	struct file *vm_file;
	void *vm_private_data;
	struct anon_vma *anon_vma;
	const struct vm_operations_struct *vm_ops;
	/* kernel: vma->vm_lock (the per-VMA lock) and vma->vm_lock_seq, kept
	 * as mm_lock_seq + 1 when write-locked, so that a zeroed vma is not
	 * (shim/include/pywalk/vma_lock.h) */
	struct rw_semaphore pw_vm_lock;
	int pw_vm_lock_seq;
};

typedef unsigned long vm_flags_t;	/* kernel: vm_flags_t */

/* kernel: vm_flags bits (include/linux/mm.h) */
#define VM_NONE		0x00000000UL
#define VM_READ		0x00000001UL
#define VM_WRITE	0x00000002UL
#define VM_EXEC		0x00000004UL
#define VM_SHARED	0x00000008UL
#define VM_MAYREAD	0x00000010UL
#define VM_MAYWRITE	0x00000020UL
#define VM_MAYEXEC	0x00000040UL
#define VM_MAYSHARE	0x00000080UL
#define VM_PFNMAP	0x00000400UL
#define VM_IO		0x00004000UL
#define VM_DONTEXPAND	0x00040000UL
#define VM_HUGETLB	0x00400000UL
#define VM_HUGEPAGE	0x20000000UL
#define VM_NOHUGEPAGE	0x40000000UL
#define VM_MIXEDMAP	0x10000000UL
#define VM_DONTDUMP	0x04000000UL
#define VM_SPECIAL (VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP)	/* kernel: VM_SPECIAL */
#define VM_NO_KHUGEPAGED (VM_SPECIAL | VM_HUGETLB)			/* kernel: VM_NO_KHUGEPAGED */
#define VM_GROWSDOWN	0x00000100UL
#define VM_GROWSUP	VM_NONE		/* kernel: x86 stacks grow down */
#define VM_SEQ_READ	0x00008000UL
#define VM_RAND_READ	0x00010000UL
#define VM_STACK_EARLY	0UL		/* kernel: VM_STACK_EARLY (!CONFIG_STACK_GROWSUP) */
#define VM_STACK_INCOMPLETE_SETUP (VM_RAND_READ | VM_SEQ_READ | VM_STACK_EARLY)	/* kernel: same */
#define VM_UFFD_WP	0x00001000UL
#define VM_UFFD_MISSING	0x00000200UL

/* ---- the per-level page-table locks (x86: split PTE and PMD locks, PUD under page_table_lock) ---- */
static inline spinlock_t *ptlock_ptr(struct page *page) { return &page->ptl; }	/* kernel: ptlock_ptr() */
static inline spinlock_t *pte_lockptr(struct mm_struct *mm, pmd_t *pmd)	/* kernel: pte_lockptr() */
{
	return ptlock_ptr(pmd_page(*pmd));
}
static inline spinlock_t *pmd_lockptr(struct mm_struct *mm, pmd_t *pmd)	/* kernel: pmd_lockptr() */
{
	return ptlock_ptr(virt_to_page((void *)((unsigned long)pmd & PAGE_MASK)));
}
static inline spinlock_t *pud_lockptr(struct mm_struct *mm, pud_t *pud)	/* kernel: pud_lockptr() */
{
	return &mm->page_table_lock;
}

/* ---- mmap_lock (include/linux/mmap_lock.h) ---- */
static inline void mmap_read_lock(struct mm_struct *mm) { down_read(&mm->mmap_lock); }	/* kernel: mmap_read_lock() */
static inline void mmap_read_unlock(struct mm_struct *mm) { up_read(&mm->mmap_lock); }	/* kernel: mmap_read_unlock() */
static inline void mmap_write_lock(struct mm_struct *mm) { down_write(&mm->mmap_lock); }	/* kernel: mmap_write_lock() */
/* kernel: mmap_write_unlock(): with per-VMA locks, vma_end_write_all()
 * first: every vma write-locked under this mmap_lock is unlocked at once */
static inline void mmap_write_unlock(struct mm_struct *mm)
{
#if PW_TREE_PER_VMA_LOCK
	__atomic_fetch_add(&mm->pw_mm_lock_seq, 1, __ATOMIC_RELEASE);
#endif
	up_write(&mm->mmap_lock);
}
/* kernel: mmap_write_lock_killable(): no signals here, so never -EINTR */
static inline int mmap_write_lock_killable(struct mm_struct *mm) { mmap_write_lock(mm); return 0; }
/* kernel: mmap_assert_locked() / mmap_assert_write_locked() with CONFIG_DEBUG_VM */
#define mmap_assert_locked(mm) VM_BUG_ON(__atomic_load_n(&(mm)->mmap_lock.count, __ATOMIC_RELAXED) == 0)
#define mmap_assert_write_locked(mm) VM_BUG_ON(__atomic_load_n(&(mm)->mmap_lock.count, __ATOMIC_RELAXED) != -1)

/* ---- page-table page allocation (shim/src/physmem.c) ---- */
struct page *pw_alloc_table_page(void);		/* a zeroed page-table page */
void pw_free_table_page(struct page *page);	/* into the PROT_NONE quarantine */
void pw_gather_begin(void);	/* physmem.c: tables freed until pw_gather_end() */
void pw_gather_end(void);	/* are quarantined together, then */
void pw_gather_reset(void);
/* a table page of that level (enum pw_level) for mm (NULL: not counted, the pgd) */
static inline struct page *pw_alloc_table(struct mm_struct *mm, enum pw_level level)
{
	struct page *p = pw_alloc_table_page();

	if (p) {
		p->pw_level = level;
		p->pw_mm = mm;
		if (mm)
			__atomic_fetch_add(&mm->pw_live_tables, 1, __ATOMIC_RELAXED);
	}
	return p;
}
static inline pud_t *pud_alloc_one(struct mm_struct *mm, unsigned long a)	/* kernel: pud_alloc_one() */
{
	struct page *p = pw_alloc_table(mm, PW_LEVEL_PUD);
	return p ? (pud_t *)page_address(p) : NULL;
}
static inline pmd_t *pmd_alloc_one(struct mm_struct *mm, unsigned long a)	/* kernel: pmd_alloc_one() */
{
	struct page *p = pw_alloc_table(mm, PW_LEVEL_PMD);
	return p ? (pmd_t *)page_address(p) : NULL;
}
static inline pgtable_t pte_alloc_one(struct mm_struct *mm) { return pw_alloc_table(mm, PW_LEVEL_PTE); }	/* kernel: pte_alloc_one() */
static inline void pud_free(struct mm_struct *mm, pud_t *pud) { pw_free_table_page(virt_to_page(pud)); }	/* kernel: pud_free() */
static inline void pmd_free(struct mm_struct *mm, pmd_t *pmd) { pw_free_table_page(virt_to_page(pmd)); }	/* kernel: pmd_free() */
static inline void pte_free(struct mm_struct *mm, pgtable_t pte) { pw_free_table_page(pte); }	/* kernel: pte_free() */
static inline int __p4d_alloc(struct mm_struct *mm, pgd_t *pgd, unsigned long a) { return 0; }	/* kernel: __p4d_alloc() (folded) */

/* ---- counters and statistics: kept, never checked by kernel code here ---- */
#define mm_inc_nr_puds(mm) __atomic_fetch_add(&(mm)->nr_puds, 1, __ATOMIC_RELAXED)	/* kernel: mm_inc_nr_puds() */
#define mm_inc_nr_pmds(mm) __atomic_fetch_add(&(mm)->nr_pmds, 1, __ATOMIC_RELAXED)	/* kernel: mm_inc_nr_pmds() */
#define mm_inc_nr_ptes(mm) __atomic_fetch_add(&(mm)->nr_ptes, 1, __ATOMIC_RELAXED)	/* kernel: mm_inc_nr_ptes() */
#define mm_dec_nr_ptes(mm) __atomic_fetch_sub(&(mm)->nr_ptes, 1, __ATOMIC_RELAXED)	/* kernel: mm_dec_nr_ptes() */
#define mm_dec_nr_pmds(mm) __atomic_fetch_sub(&(mm)->nr_pmds, 1, __ATOMIC_RELAXED)	/* kernel: mm_dec_nr_pmds() */
#define mm_dec_nr_puds(mm) __atomic_fetch_sub(&(mm)->nr_puds, 1, __ATOMIC_RELAXED)	/* kernel: mm_dec_nr_puds() */
#define count_vm_event(e) do { } while (0)		/* kernel: count_vm_event() (vmstat off) */
#define count_vm_events(e, n) do { } while (0)		/* kernel: count_vm_events() */

/* ---- mmu notifiers and TLB flushes: no secondary MMUs, no TLB here ---- */
#if PW_TREE_MMU_RANGE_INIT_VMA
#define mmu_notifier_range_init(r, ev, fl, vma, m, s, e) \
	do { (r)->start = (s); (r)->end = (e); (r)->mm = (m); } while (0)	/* kernel: mmu_notifier_range_init() (with vma) */
#else
#define mmu_notifier_range_init(r, ev, fl, m, s, e) \
	do { (r)->start = (s); (r)->end = (e); (r)->mm = (m); } while (0)	/* kernel: mmu_notifier_range_init() */
#endif
#define mmu_notifier_invalidate_range_start(r) do { } while (0)	/* kernel: same (no notifiers) */
#define mmu_notifier_invalidate_range_end(r) do { } while (0)		/* kernel: same */
#if PW_HAVE_mmu_notifier_invalidate_range_only_end
#define mmu_notifier_invalidate_range_only_end(r) do { } while (0)	/* kernel: same */
#endif
#define MMU_NOTIFY_CLEAR 1						/* kernel: enum mmu_notifier_event */
#define flush_pud_tlb_range(vma, s, e) do { } while (0)	/* kernel: flush_pud_tlb_range() (no TLB) */
#define flush_pmd_tlb_range(vma, s, e) do { } while (0)	/* kernel: flush_pmd_tlb_range() */
#define flush_tlb_range(vma, s, e) do { } while (0)		/* kernel: flush_tlb_range() */
#define update_mmu_cache_pud(vma, a, p) do { } while (0)	/* kernel: update_mmu_cache_pud() (x86: nothing) */
#define update_mmu_cache_pmd(vma, a, p) do { } while (0)	/* kernel: update_mmu_cache_pmd() */
#define update_mmu_cache(vma, a, p) do { } while (0)		/* kernel: update_mmu_cache() */
#define tlb_remove_pud_tlb_entry(tlb, p, a) do { } while (0)	/* kernel: same (no TLB) */
#define tlb_remove_pmd_tlb_entry(tlb, p, a) do { } while (0)	/* kernel: same */

/*
 * ---- the mmu_gather API (include/asm-generic/tlb.h, mm/mmu_gather.c) ----
 * There is no TLB to flush and our device pfns have no struct page, so no
 * data page is ever gathered: what would free one is PW_UNMODELLED
 * (shim/include/pywalk/unmodelled.h).  Page tables freed inside a gather
 * are quarantined at its end (shim/src/physmem.c).
 */
static inline void tlb_gather_mmu(struct mmu_gather *tlb, struct mm_struct *mm)	/* kernel: tlb_gather_mmu() */
{
	tlb->mm = mm;
	tlb->fullmm = 0;
	pw_gather_begin();
}
/* kernel: tlb_finish_mmu(): the page tables freed since tlb_gather_mmu()
 * go to the quarantine now, as the kernel frees them after its flush */
static inline void tlb_finish_mmu(struct mmu_gather *tlb)
{
	pw_gather_end();
}
#define tlb_start_vma(tlb, vma) do { } while (0)		/* kernel: tlb_start_vma() (no cache/TLB) */
#define tlb_end_vma(tlb, vma) do { } while (0)			/* kernel: tlb_end_vma() */
#define tlb_change_page_size(tlb, size) do { } while (0)	/* kernel: tlb_change_page_size() (x86: nothing) */
#define tlb_remove_tlb_entry(tlb, ptep, a) do { } while (0)	/* kernel: tlb_remove_tlb_entry() (no TLB) */
#if PW_HAVE_tlb_remove_tlb_entries
#define tlb_remove_tlb_entries(tlb, ptep, nr, a) do { } while (0)	/* kernel: tlb_remove_tlb_entries() */
#endif
#define tlb_flush_mmu_tlbonly(tlb) do { } while (0)		/* kernel: tlb_flush_mmu_tlbonly() (no TLB) */
#define tlb_flush_mmu(tlb) do { } while (0)			/* kernel: tlb_flush_mmu() (nothing gathered) */
#define flush_tlb_batched_pending(mm) do { } while (0)		/* kernel: flush_tlb_batched_pending() (no reclaim batching) */
#define update_hiwater_rss(mm) do { } while (0)			/* kernel: update_hiwater_rss() (no rss statistics) */
#define lru_add_drain() do { } while (0)			/* kernel: lru_add_drain() (no LRU pages here) */
#define uprobe_munmap(vma, s, e) do { } while (0)		/* kernel: uprobe_munmap() (no uprobes registered) */
#if PW_HAVE_ksm_might_unmap_zero_page
#define ksm_might_unmap_zero_page(mm, pte) do { } while (0)	/* kernel: ksm_might_unmap_zero_page() (CONFIG_KSM off) */
#endif
#if PW_HAVE_arch_check_zapped_pte
#define arch_check_zapped_pte(vma, pte) do { (void)(vma); (void)(pte); } while (0)	/* kernel: same (x86: no shadow stacks) */
#endif
struct task_struct {		/* kernel: struct task_struct, the member we use */
	struct mm_struct *mm;
};
/* kernel: current: the calling thread, working on the mm of its guarded call */
static inline struct task_struct *pw_current(void)
{
	static __thread struct task_struct task;

	task.mm = pw_cur.mm ? pw_cur.mm->mm : NULL;
	return &task;
}
#define current (pw_current())
#if PW_HAVE_sync_mm_rss
#define sync_mm_rss(mm) do { } while (0)	/* kernel: sync_mm_rss() (no per-task rss cache here) */
#endif
/* kernel: need_resched()/cond_resched(): no preemption model here; the
 * zappers' "stop early and come back" branches are never taken */
static inline int need_resched(void) { return 0; }
static inline int cond_resched(void) { return 0; }
/* kernel: pudp_huge_clear_flush(): clear, then flush the (absent) TLB */
static inline pud_t pudp_huge_clear_flush(struct vm_area_struct *vma, unsigned long a, pud_t *pudp)
{
	pw_note_split(2, a & PUD_MASK);	/* the split path's clear: counted for pywalk bench */
	return pudp_huge_get_and_clear(vma->vm_mm, a, pudp);
}
#if PW_HAVE_pudp_huge_clear_flush_notify
#define pudp_huge_clear_flush_notify pudp_huge_clear_flush	/* kernel: same (no notifiers) */
#endif
/* kernel: pmdp_huge_clear_flush() */
static inline pmd_t pmdp_huge_clear_flush(struct vm_area_struct *vma, unsigned long a, pmd_t *pmdp)
{
	pw_note_split(3, a & PMD_MASK);	/* the split path's clear: counted for pywalk bench */
	return pmdp_huge_get_and_clear(vma->vm_mm, a, pmdp);
}
#if PW_HAVE_pmdp_huge_clear_flush_notify
#define pmdp_huge_clear_flush_notify pmdp_huge_clear_flush	/* kernel: same (no notifiers) */
#endif
/* kernel: pudp_set_access_flags() (x86): store the new flags when they changed */
static inline int pudp_set_access_flags(struct vm_area_struct *vma, unsigned long a,
					pud_t *pudp, pud_t entry, int dirty)
{
	int changed = !pud_same(*pudp, entry);

	if (changed && dirty)
		set_pud(pudp, entry);
	return changed;
}
/* kernel: pmdp_set_access_flags() (x86) */
static inline int pmdp_set_access_flags(struct vm_area_struct *vma, unsigned long a,
					pmd_t *pmdp, pmd_t entry, int dirty)
{
	int changed = !pmd_same(*pmdp, entry);

	if (changed && dirty)
		set_pmd(pmdp, entry);
	return changed;
}
#if PW_HAVE_track_pfn_insert
#define track_pfn_insert(vma, prot, pfn) do { } while (0)	/* kernel: track_pfn_insert() (no PAT) */
#endif
/* kernel: arch_check_zapped_pud() (x86, 6.6+): warns when a zapped entry looks
 * like a shadow-stack entry in a vma that is none; no shadow stacks here */
#if PW_HAVE_arch_check_zapped_pud
#define arch_check_zapped_pud(vma, pud) do { (void)(vma); (void)(pud); } while (0)
#endif
#if PW_HAVE_arch_check_zapped_pmd
#define arch_check_zapped_pmd(vma, pmd) do { (void)(vma); (void)(pmd); } while (0)	/* kernel: same */
#endif

/* ---- vma predicates ---- */
static inline bool vma_is_anonymous(struct vm_area_struct *vma) { return !vma->vm_ops; }	/* kernel: vma_is_anonymous() */
static inline bool vma_is_dax(const struct vm_area_struct *vma) { return vma->vm_file && vma->vm_file->dax; }	/* kernel: vma_is_dax() */
static inline struct inode *file_inode(const struct file *f) { return f->f_inode; }	/* kernel: file_inode() */
static inline bool inode_is_open_for_write(const struct inode *inode)	/* kernel: inode_is_open_for_write() */
{
	return __atomic_load_n(&inode->i_writecount.counter, __ATOMIC_RELAXED) > 0;
}
static inline bool vma_is_accessible(struct vm_area_struct *vma) { return vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC); }	/* kernel: vma_is_accessible() */
static inline bool PW_API(is_cow_mapping)(unsigned long flags) { return (flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE; }	/* kernel: is_cow_mapping() */
static inline bool is_vm_hugetlb_page(struct vm_area_struct *vma) { return false; }	/* kernel: is_vm_hugetlb_page() (no hugetlbfs) */
static inline unsigned long vma_pages(struct vm_area_struct *vma) { return (vma->vm_end - vma->vm_start) >> PAGE_SHIFT; }	/* kernel: vma_pages() */
static inline pgoff_t linear_page_index(struct vm_area_struct *vma, unsigned long a)	/* kernel: linear_page_index() */
{
	return ((a - vma->vm_start) >> PAGE_SHIFT) + vma->vm_pgoff;
}
static inline gfp_t __get_fault_gfp_mask(struct vm_area_struct *vma) { return 0; }	/* kernel: __get_fault_gfp_mask() (no allocation policy) */
struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr);	/* kernel: find_vma() (shim/src/mm.c) */
extern struct mm_struct init_mm;	/* kernel: init_mm (only asserted on by walk_page_range_novma) */
#define TASK_SIZE ((1UL << 47) - PAGE_SIZE)	/* kernel: TASK_SIZE (x86-64, 4-level: TASK_SIZE_MAX) */

/* ---- THP policy knobs read by hugepage_vma_check() and friends ---- */
extern unsigned long transparent_hugepage_flags;	/* kernel: transparent_hugepage_flags */
static inline int test_bit(long nr, const volatile unsigned long *addr)	/* kernel: test_bit() */
{
	return 1UL & (__atomic_load_n(addr + nr / 64, __ATOMIC_RELAXED) >> (nr % 64));
}
static inline void set_bit(long nr, volatile unsigned long *addr)	/* kernel: set_bit() (atomic) */
{
	__atomic_fetch_or(addr + nr / 64, 1UL << (nr % 64), __ATOMIC_RELAXED);
}
static inline void clear_bit(long nr, volatile unsigned long *addr)	/* kernel: clear_bit() (atomic) */
{
	__atomic_fetch_and(addr + nr / 64, ~(1UL << (nr % 64)), __ATOMIC_RELAXED);
}
/* kernel: mm_flags_set()/mm_flags_clear() (7.x): the mm's MMF_* bits, atomically */
static inline void PW_API(mm_flags_set)(int flag, struct mm_struct *mm) { set_bit(flag, &mm->flags); }
static inline void PW_API(mm_flags_clear)(int flag, struct mm_struct *mm) { clear_bit(flag, &mm->flags); }
#if PW_HAVE_PR_THP_DISABLE_EXCEPT_ADVISED
#define PR_THP_DISABLE_EXCEPT_ADVISED (1 << 1)	/* kernel: uapi linux/prctl.h */
#endif

#include "vma_lock.h"

/* ---- hooks into the harness (shim/src/mm.c) ---- */
int pw_handle_pte_fault(struct vm_fault *vmf);	/* stands in for handle_pte_fault() */

#endif
