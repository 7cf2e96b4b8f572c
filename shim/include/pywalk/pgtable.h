/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: x86-64 4-level page-table entry encoding (P4D folded) over
 * fake physical memory.  Written from the x86 documentation of the entry
 * bits; arch/x86/include/asm/pgtable*.h are the counterparts.
 *
 * Fake physical memory: __va(pa) = pw_physbase + pa.  Page-table pages are
 * ordinary read/write memory; pfn 0, the frames behind huge leaf entries and
 * freed (quarantined) page-table pages are PROT_NONE, so code that
 * dereferences through a leaf or an empty entry faults as on a real machine.
 */
#ifndef PYWALK_SHIM_PGTABLE_H
#define PYWALK_SHIM_PGTABLE_H

#include "locks.h"

#define PAGE_SHIFT 12					/* kernel: PAGE_SHIFT */
#define PAGE_SIZE (1UL << PAGE_SHIFT)			/* kernel: PAGE_SIZE */
#define PAGE_MASK (~(PAGE_SIZE - 1))			/* kernel: PAGE_MASK */
#define PMD_SHIFT 21					/* kernel: PMD_SHIFT */
#define PUD_SHIFT 30					/* kernel: PUD_SHIFT */
#define P4D_SHIFT 39					/* kernel: P4D_SHIFT (folded) */
#define PGDIR_SHIFT 39					/* kernel: PGDIR_SHIFT */
#define PMD_SIZE (1UL << PMD_SHIFT)			/* kernel: PMD_SIZE */
#define PUD_SIZE (1UL << PUD_SHIFT)			/* kernel: PUD_SIZE */
#define P4D_SIZE (1UL << P4D_SHIFT)			/* kernel: P4D_SIZE */
#define PGDIR_SIZE (1UL << PGDIR_SHIFT)			/* kernel: PGDIR_SIZE */
#define PMD_MASK (~(PMD_SIZE - 1))			/* kernel: PMD_MASK */
#define PUD_MASK (~(PUD_SIZE - 1))			/* kernel: PUD_MASK */
#define P4D_MASK (~(P4D_SIZE - 1))			/* kernel: P4D_MASK */
#define PGDIR_MASK (~(PGDIR_SIZE - 1))			/* kernel: PGDIR_MASK */
#define PTRS_PER_PTE 512				/* kernel: PTRS_PER_PTE */
#define PTRS_PER_PMD 512				/* kernel: PTRS_PER_PMD */
#define PTRS_PER_PUD 512				/* kernel: PTRS_PER_PUD */
#define PTRS_PER_P4D 1					/* kernel: PTRS_PER_P4D (folded) */
#define PTRS_PER_PGD 512				/* kernel: PTRS_PER_PGD */
#define __PAGETABLE_P4D_FOLDED 1			/* kernel: pgtable-nop4d.h */
#define HPAGE_PMD_SHIFT PMD_SHIFT			/* kernel: HPAGE_PMD_SHIFT */
#define HPAGE_PMD_SIZE PMD_SIZE				/* kernel: HPAGE_PMD_SIZE */
#define HPAGE_PMD_MASK PMD_MASK				/* kernel: HPAGE_PMD_MASK */
#define HPAGE_PMD_ORDER (PMD_SHIFT - PAGE_SHIFT)	/* kernel: HPAGE_PMD_ORDER */
#define HPAGE_PMD_NR (1 << HPAGE_PMD_ORDER)		/* kernel: HPAGE_PMD_NR */
#define HPAGE_PUD_SHIFT PUD_SHIFT			/* kernel: HPAGE_PUD_SHIFT */
#define HPAGE_PUD_SIZE PUD_SIZE				/* kernel: HPAGE_PUD_SIZE */
#define HPAGE_PUD_MASK PUD_MASK				/* kernel: HPAGE_PUD_MASK */
#if PW_HAVE_HPAGE_PUD_ORDER
#define HPAGE_PUD_ORDER (PUD_SHIFT - PAGE_SHIFT)	/* kernel: HPAGE_PUD_ORDER */
#endif
#if PW_HAVE_HPAGE_PUD_NR
#define HPAGE_PUD_NR (1 << (PUD_SHIFT - PAGE_SHIFT))	/* kernel: HPAGE_PUD_NR */
#endif

/* entry bits, as arch/x86/include/asm/pgtable_types.h documents them */
#define _PAGE_PRESENT	(1UL << 0)	/* kernel: _PAGE_PRESENT */
#define _PAGE_RW	(1UL << 1)	/* kernel: _PAGE_RW */
#define _PAGE_USER	(1UL << 2)	/* kernel: _PAGE_USER */
#define _PAGE_ACCESSED	(1UL << 5)	/* kernel: _PAGE_ACCESSED */
#define _PAGE_DIRTY	(1UL << 6)	/* kernel: _PAGE_DIRTY */
#define _PAGE_PSE	(1UL << 7)	/* kernel: _PAGE_PSE (huge leaf) */
#define _PAGE_GLOBAL	(1UL << 8)	/* kernel: _PAGE_GLOBAL */
#define _PAGE_PROTNONE	_PAGE_GLOBAL	/* kernel: _PAGE_PROTNONE (when !present) */
#define _PAGE_SPECIAL	(1UL << 9)	/* kernel: _PAGE_SPECIAL (software bit 1) */
#define _PAGE_SOFT_DIRTY (1UL << 11)	/* kernel: _PAGE_SOFT_DIRTY */
#define _PAGE_DEVMAP	(1UL << 58)	/* kernel: _PAGE_DEVMAP (software bit 4) */
#define _PAGE_NX	(1UL << 63)	/* kernel: _PAGE_NX */
#define __PHYSICAL_MASK_SHIFT 52
#define PTE_PFN_MASK (((1UL << __PHYSICAL_MASK_SHIFT) - 1) & PAGE_MASK)	/* kernel: PTE_PFN_MASK */
#define PTE_FLAGS_MASK (~PTE_PFN_MASK)					/* kernel: PTE_FLAGS_MASK */
#define PHYSICAL_PMD_PAGE_MASK (((1UL << __PHYSICAL_MASK_SHIFT) - 1) & PMD_MASK) /* kernel: same */
#define PHYSICAL_PUD_PAGE_MASK (((1UL << __PHYSICAL_MASK_SHIFT) - 1) & PUD_MASK) /* kernel: same */
#define _PAGE_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY) /* kernel: _PAGE_TABLE */
#define _KERNPG_TABLE (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)	/* kernel: _KERNPG_TABLE */

typedef unsigned long pteval_t, pmdval_t, pudval_t, p4dval_t, pgdval_t, pgprotval_t;
typedef struct { pteval_t pte; } pte_t;		/* kernel: pte_t */
typedef struct { pmdval_t pmd; } pmd_t;		/* kernel: pmd_t */
typedef struct { pudval_t pud; } pud_t;		/* kernel: pud_t */
typedef struct { p4dval_t p4d; } p4d_t;		/* kernel: p4d_t (folded into pgd) */
typedef struct { pgdval_t pgd; } pgd_t;		/* kernel: pgd_t */
typedef struct { pgprotval_t pgprot; } pgprot_t;	/* kernel: pgprot_t */
typedef struct { unsigned long pd; } hugepd_t;	/* kernel: hugepd_t (unused on x86) */
typedef struct { u64 val; } PW_API(pfn_t);	/* kernel: pfn_t */
typedef struct page *pgtable_t;			/* kernel: pgtable_t (x86) */

/*
 * The build model (pywalk/variant/builder.py MODELS).  native (the default):
 * x86 without PARAVIRT_XXL, where pud_val() & co are plain field reads, so
 * gcc may merge two plain loads of an entry across a READ_ONCE() of it.
 * xxl (-DPW_MODEL_XXL=1): Debian's x86 build (PARAVIRT_XXL=y), where they are
 * pv calls (PVOP_ALT_CALLEE1: an indirect call with a "memory" clobber), so
 * a later dereference of the entry must reload it.  The faithful stand-in: an
 * accessor gcc may not inline or analyse, with a compiler barrier inside.
 */
#if PW_MODEL_XXL
static noinline __attribute__((noipa)) unsigned long pw_pv_val(unsigned long v)
{
	__asm__ __volatile__("" : : : "memory");
	return v;
}
#define pte_val(x) pw_pv_val((x).pte)		/* kernel: pte_val() (pv call) */
#define pmd_val(x) pw_pv_val((x).pmd)		/* kernel: pmd_val() (pv call) */
#define pud_val(x) pw_pv_val((x).pud)		/* kernel: pud_val() (pv call) */
#define p4d_val(x) pw_pv_val((x).p4d)		/* kernel: p4d_val() (pv call) */
#define pgd_val(x) pw_pv_val((x).pgd)		/* kernel: pgd_val() (pv call) */
#else
#define pte_val(x) ((x).pte)			/* kernel: pte_val() */
#define pmd_val(x) ((x).pmd)			/* kernel: pmd_val() */
#define pud_val(x) ((x).pud)			/* kernel: pud_val() */
#define p4d_val(x) ((x).p4d)			/* kernel: p4d_val() */
#define pgd_val(x) ((x).pgd)			/* kernel: pgd_val() */
#endif
#define pgprot_val(x) ((x).pgprot)		/* kernel: pgprot_val() */
#define __pte(x) ((pte_t){ (x) })		/* kernel: __pte() */
#define __pmd(x) ((pmd_t){ (x) })		/* kernel: __pmd() */
#define __pud(x) ((pud_t){ (x) })		/* kernel: __pud() */
#define __p4d(x) ((p4d_t){ (x) })		/* kernel: __p4d() */
#define __pgd(x) ((pgd_t){ (x) })		/* kernel: __pgd() */
#define __pgprot(x) ((pgprot_t){ (x) })		/* kernel: __pgprot() */
#if PW_HAVE___hugepd
#define __hugepd(x) ((hugepd_t){ (x) })		/* kernel: __hugepd() */
#endif
#if PW_HAVE_is_hugepd
#define is_hugepd(hpd) (0)			/* kernel: is_hugepd(): no hugepd on x86 */
#endif

#define PAGE_NONE __pgprot(_PAGE_PROTNONE | _PAGE_ACCESSED)	/* kernel: PAGE_NONE */
#define PAGE_SHARED __pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)
#define PAGE_READONLY __pgprot(_PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX)

/* ---- fake physical memory (shim/src/physmem.c) ---- */
extern char *pw_physbase;
#define __va(pa) ((void *)(pw_physbase + (unsigned long)(pa)))	/* kernel: __va() */
#define __pa(va) ((unsigned long)((char *)(va) - pw_physbase))	/* kernel: __pa() */
struct page *pw_pfn_to_page(unsigned long pfn);
unsigned long pw_page_to_pfn(const struct page *page);
#define pfn_to_page(pfn) pw_pfn_to_page(pfn)		/* kernel: pfn_to_page() */
#define page_to_pfn(page) pw_page_to_pfn(page)		/* kernel: page_to_pfn() */
#define virt_to_page(va) pfn_to_page(__pa(va) >> PAGE_SHIFT)	/* kernel: virt_to_page() */
#define page_address(page) __va(page_to_pfn(page) << PAGE_SHIFT)	/* kernel: page_address() */

/* ---- hooked entry access: every shared load/store of the shim ---- */
#include "history.h"
/* a load is also a view of the entry for the stale-view oracle (shim/checkers/stale.c;
 * on in instrumented builds only) */
extern int pw_stale_on;
void pw_stale_view(void *p, unsigned long v);
#define PW_LOAD(p) ({ pw_hook_at(PW_SITE_LOAD, &(p)); \
		      __typeof__(p) __v = __atomic_load_n(&(p), __ATOMIC_RELAXED); \
		      if (unlikely(__atomic_load_n(&pw_stale_on, __ATOMIC_RELAXED))) pw_stale_view(&(p), __v); __v; })
#define PW_STORE(p, v) do { __typeof__(p) __o = __atomic_load_n(&(p), __ATOMIC_RELAXED); \
			    __atomic_store_n(&(p), (v), __ATOMIC_RELEASE); \
			    pw_history_store(&(p), __o, (v)); pw_hook_at(PW_SITE_STORE, &(p)); } while (0)
#define PW_XCHG(p, v) ({ __typeof__(p) __o = __atomic_exchange_n(&(p), (v), __ATOMIC_ACQ_REL); \
			 pw_history_store(&(p), __o, (v)); pw_hook_at(PW_SITE_STORE, &(p)); __o; })

/* ---- flags and pfns ---- */
static inline unsigned long pud_pfn_mask(pud_t pud)	/* kernel: pud_pfn_mask() */
{
	return (pud_val(pud) & _PAGE_PSE) ? PHYSICAL_PUD_PAGE_MASK : PTE_PFN_MASK;
}
static inline unsigned long pmd_pfn_mask(pmd_t pmd)	/* kernel: pmd_pfn_mask() */
{
	return (pmd_val(pmd) & _PAGE_PSE) ? PHYSICAL_PMD_PAGE_MASK : PTE_PFN_MASK;
}
static inline unsigned long pud_flags(pud_t pud) { return pud_val(pud) & ~pud_pfn_mask(pud); }	/* kernel: pud_flags() */
static inline unsigned long pmd_flags(pmd_t pmd) { return pmd_val(pmd) & ~pmd_pfn_mask(pmd); }	/* kernel: pmd_flags() */
static inline unsigned long pte_flags(pte_t pte) { return pte_val(pte) & PTE_FLAGS_MASK; }	/* kernel: pte_flags() */
static inline unsigned long p4d_flags(p4d_t p4d) { return p4d_val(p4d) & PTE_FLAGS_MASK; }	/* kernel: p4d_flags() */
static inline unsigned long pud_pfn(pud_t pud) { return (pud_val(pud) & pud_pfn_mask(pud)) >> PAGE_SHIFT; }	/* kernel: pud_pfn() */
static inline unsigned long pmd_pfn(pmd_t pmd) { return (pmd_val(pmd) & pmd_pfn_mask(pmd)) >> PAGE_SHIFT; }	/* kernel: pmd_pfn() */
static inline unsigned long pte_pfn(pte_t pte) { return (pte_val(pte) & PTE_PFN_MASK) >> PAGE_SHIFT; }	/* kernel: pte_pfn() */

/* ---- pgd/p4d: P4D folded into the pgd (pgtable-nop4d.h) ---- */
static inline int pgd_none(pgd_t pgd) { return 0; }		/* kernel: pgd_none() (folded) */
static inline int pgd_bad(pgd_t pgd) { return 0; }		/* kernel: pgd_bad() (folded) */
static inline int pgd_present(pgd_t pgd) { return 1; }		/* kernel: pgd_present() (folded) */
static inline void pgd_clear(pgd_t *pgd) { }			/* kernel: pgd_clear() (folded) */
static inline void pgd_clear_bad(pgd_t *pgd) { BUG(); }		/* kernel: pgd_clear_bad() */
#define pgd_index(a) (((a) >> PGDIR_SHIFT) & (PTRS_PER_PGD - 1))	/* kernel: pgd_index() */
#define pgd_offset(mm, a) ((mm)->pgd + pgd_index(a))			/* kernel: pgd_offset() */
static inline p4d_t *p4d_offset(pgd_t *pgd, unsigned long a) { return (p4d_t *)pgd; }	/* kernel: p4d_offset() (folded) */
static inline int p4d_none(p4d_t p4d) { return p4d_val(p4d) == 0; }	/* kernel: p4d_none() */
static inline int p4d_present(p4d_t p4d) { return p4d_flags(p4d) & _PAGE_PRESENT; }	/* kernel: p4d_present() */
static inline int p4d_bad(p4d_t p4d)	/* kernel: p4d_bad(): anything but a table */
{
	return (p4d_flags(p4d) & ~(_KERNPG_TABLE | _PAGE_USER)) != 0;
}
/* kernel: p4d_clear() (x86 4-level: the p4d is the folded pgd entry) */
static inline void p4d_clear(p4d_t *p4d) { PW_STORE(p4d->p4d, 0UL); }
void pw_report_bad_entry(const char *level, unsigned long val);	/* kernel: pgd_ERROR() & co */
static inline void p4d_clear_bad(p4d_t *p4d)	/* kernel: p4d_clear_bad() */
{
	pw_report_bad_entry("p4d", p4d_val(*p4d));
	PW_STORE(p4d->p4d, 0UL);
}
#define pud_index(a) (((a) >> PUD_SHIFT) & (PTRS_PER_PUD - 1))		/* kernel: pud_index() */
#define pmd_index(a) (((a) >> PMD_SHIFT) & (PTRS_PER_PMD - 1))		/* kernel: pmd_index() */
#define pte_index(a) (((a) >> PAGE_SHIFT) & (PTRS_PER_PTE - 1))		/* kernel: pte_index() */
static inline pud_t *p4d_pgtable(p4d_t p4d) { return (pud_t *)__va(p4d_val(p4d) & PTE_PFN_MASK); }	/* kernel: p4d_pgtable() */
static inline pud_t *pud_offset(p4d_t *p4d, unsigned long a) { return p4d_pgtable(*p4d) + pud_index(a); }	/* kernel: pud_offset() */
/* kernel: pud_pgtable(): note the mask follows the PSE bit, as on x86 */
static inline pmd_t *pud_pgtable(pud_t pud) { return (pmd_t *)__va(pud_val(pud) & pud_pfn_mask(pud)); }
static inline pmd_t *pmd_offset(pud_t *pud, unsigned long a) { return pud_pgtable(*pud) + pmd_index(a); }	/* kernel: pmd_offset() */
static inline unsigned long pmd_page_vaddr(pmd_t pmd) { return (unsigned long)__va(pmd_val(pmd) & pmd_pfn_mask(pmd)); }	/* kernel: pmd_page_vaddr() */
static inline pte_t *pte_offset_kernel(pmd_t *pmd, unsigned long a) { return (pte_t *)pmd_page_vaddr(*pmd) + pte_index(a); }	/* kernel: pte_offset_kernel() */

/* ---- pud ---- */
static inline int pud_none(pud_t pud) { return pud_val(pud) == 0; }		/* kernel: pud_none() */
static inline int pud_present(pud_t pud) { return pud_flags(pud) & _PAGE_PRESENT; }	/* kernel: pud_present() */
static inline int pud_bad(pud_t pud) { return (pud_flags(pud) & ~(_KERNPG_TABLE | _PAGE_USER)) != 0; }	/* kernel: pud_bad() */
static inline int pud_leaf(pud_t pud) { return pud_val(pud) & _PAGE_PSE; }	/* kernel: pud_leaf()/pud_large() */
#if PW_HAVE_pud_large
#define pud_large pud_leaf	/* kernel: pud_large() (x86, before 6.9) */
#endif
#if PW_HAVE_pud_huge
#define pud_huge pud_leaf	/* kernel: pud_huge() (before 6.10) */
#endif
static inline int pud_trans_huge(pud_t pud) { return (pud_val(pud) & (_PAGE_PSE | _PAGE_DEVMAP)) == _PAGE_PSE; }	/* kernel: pud_trans_huge() */
static inline int pw_pud_devmap(pud_t pud) { return !!(pud_val(pud) & _PAGE_DEVMAP); }
static inline int PW_API(pud_devmap)(pud_t pud) { return pw_pud_devmap(pud); }	/* kernel: pud_devmap() */
static inline int pud_write(pud_t pud) { return !!(pud_val(pud) & _PAGE_RW); }	/* kernel: pud_write() */
static inline int pud_dirty(pud_t pud) { return !!(pud_val(pud) & _PAGE_DIRTY); }	/* kernel: pud_dirty() */
static inline int pud_young(pud_t pud) { return !!(pud_val(pud) & _PAGE_ACCESSED); }	/* kernel: pud_young() */
static inline pud_t pud_mkhuge(pud_t pud) { return __pud(pud_val(pud) | _PAGE_PSE); }	/* kernel: pud_mkhuge() */
static inline pud_t PW_API(pud_mkdevmap)(pud_t pud) { return __pud(pud_val(pud) | _PAGE_DEVMAP); }	/* kernel: pud_mkdevmap() */
static inline pud_t pud_mkyoung(pud_t pud) { return __pud(pud_val(pud) | _PAGE_ACCESSED); }	/* kernel: pud_mkyoung() */
static inline pud_t pud_mkold(pud_t pud) { return __pud(pud_val(pud) & ~_PAGE_ACCESSED); }	/* kernel: pud_mkold() */
static inline pud_t pud_mkdirty(pud_t pud) { return __pud(pud_val(pud) | _PAGE_DIRTY | _PAGE_SOFT_DIRTY); }	/* kernel: pud_mkdirty() */
static inline pud_t pud_mkwrite(pud_t pud) { return __pud(pud_val(pud) | _PAGE_RW); }	/* kernel: pud_mkwrite() */
static inline pud_t pud_wrprotect(pud_t pud) { return __pud(pud_val(pud) & ~_PAGE_RW); }	/* kernel: pud_wrprotect() */
static inline int pud_same(pud_t a, pud_t b) { return pud_val(a) == pud_val(b); }	/* kernel: pud_same() */
static inline pud_t pfn_pud(unsigned long pfn, pgprot_t prot) { return __pud((pfn << PAGE_SHIFT) | pgprot_val(prot)); }	/* kernel: pfn_pud() */
/* the shim's own entry loads (hooked); pudp_get() & co stand for the tree's */
static inline pud_t pw_pudp_get(pud_t *pudp) { return __pud(PW_LOAD(pudp->pud)); }
static inline pud_t PW_API(pudp_get)(pud_t *pudp) { return pw_pudp_get(pudp); }	/* kernel: pudp_get() */
static inline void set_pud(pud_t *pudp, pud_t pud) { PW_STORE(pudp->pud, pud_val(pud)); }	/* kernel: set_pud() */
static inline void set_pud_at(struct mm_struct *mm, unsigned long a, pud_t *pudp, pud_t pud) { set_pud(pudp, pud); }	/* kernel: set_pud_at() */
static inline void pud_clear(pud_t *pudp) { set_pud(pudp, __pud(0)); }	/* kernel: pud_clear() */
/* pud_clear_bad(), pmd_clear_bad(): the tree's (mm/pgtable-generic.c, sliced),
 * reporting with the tree's pud_ERROR()/pmd_ERROR() through the shim's pr_err() */
void pud_clear_bad(pud_t *pud);
static inline pud_t pudp_huge_get_and_clear(struct mm_struct *mm, unsigned long a, pud_t *pudp)	/* kernel: same */
{
	return __pud(PW_XCHG(pudp->pud, 0UL));
}
static inline void p4d_populate(struct mm_struct *mm, p4d_t *p4d, pud_t *pud)	/* kernel: p4d_populate() */
{
	PW_STORE(p4d->p4d, _PAGE_TABLE | __pa(pud));
}
static inline void pud_populate(struct mm_struct *mm, pud_t *pud, pmd_t *pmd)	/* kernel: pud_populate() */
{
	PW_STORE(pud->pud, _PAGE_TABLE | __pa(pmd));
}

/* ---- pmd ---- */
static inline int pmd_none(pmd_t pmd) { return pmd_val(pmd) == 0; }		/* kernel: pmd_none() */
static inline int pmd_present(pmd_t pmd)	/* kernel: pmd_present(): PSE counts, as during a split */
{
	return pmd_flags(pmd) & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE);
}
static inline int pmd_bad(pmd_t pmd)	/* kernel: pmd_bad() */
{
	return (pmd_flags(pmd) & ~(_PAGE_USER | _PAGE_ACCESSED)) != (_KERNPG_TABLE & ~_PAGE_ACCESSED);
}
static inline int pmd_leaf(pmd_t pmd) { return pmd_val(pmd) & _PAGE_PSE; }	/* kernel: pmd_leaf()/pmd_large() */
#if PW_HAVE_pmd_large
#define pmd_large pmd_leaf	/* kernel: pmd_large() (x86, before 6.9) */
#endif
#if PW_HAVE_pmd_huge
#define pmd_huge pmd_leaf	/* kernel: pmd_huge() (before 6.10) */
#endif
static inline int pmd_trans_huge(pmd_t pmd) { return (pmd_val(pmd) & (_PAGE_PSE | _PAGE_DEVMAP)) == _PAGE_PSE; }	/* kernel: pmd_trans_huge() */
static inline int pw_pmd_devmap(pmd_t pmd) { return !!(pmd_val(pmd) & _PAGE_DEVMAP); }
static inline int PW_API(pmd_devmap)(pmd_t pmd) { return pw_pmd_devmap(pmd); }	/* kernel: pmd_devmap() */
static inline int pmd_write(pmd_t pmd) { return !!(pmd_val(pmd) & _PAGE_RW); }	/* kernel: pmd_write() */
static inline int pmd_dirty(pmd_t pmd) { return !!(pmd_val(pmd) & _PAGE_DIRTY); }	/* kernel: pmd_dirty() */
static inline int pmd_young(pmd_t pmd) { return !!(pmd_val(pmd) & _PAGE_ACCESSED); }	/* kernel: pmd_young() */
static inline int pmd_protnone(pmd_t pmd)	/* kernel: pmd_protnone() */
{
	return (pmd_flags(pmd) & (_PAGE_PROTNONE | _PAGE_PRESENT)) == _PAGE_PROTNONE;
}
static inline pmd_t pmd_mkhuge(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_PSE); }	/* kernel: pmd_mkhuge() */
static inline pmd_t PW_API(pmd_mkdevmap)(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_DEVMAP); }	/* kernel: pmd_mkdevmap() */
static inline pmd_t pmd_mkyoung(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_ACCESSED); }	/* kernel: pmd_mkyoung() */
static inline pmd_t pmd_mkold(pmd_t pmd) { return __pmd(pmd_val(pmd) & ~_PAGE_ACCESSED); }	/* kernel: pmd_mkold() */
static inline pmd_t pmd_mkdirty(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_DIRTY | _PAGE_SOFT_DIRTY); }	/* kernel: pmd_mkdirty() */
static inline pmd_t pw_pmd_mkwrite(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_RW); }
static inline pmd_t PW_API(pmd_mkwrite_novma)(pmd_t pmd) { return pw_pmd_mkwrite(pmd); }	/* kernel: pmd_mkwrite_novma() (pmd_mkwrite() before 6.6) */
static inline pmd_t pmd_wrprotect(pmd_t pmd) { return __pmd(pmd_val(pmd) & ~_PAGE_RW); }	/* kernel: pmd_wrprotect() */
static inline int pmd_same(pmd_t a, pmd_t b) { return pmd_val(a) == pmd_val(b); }	/* kernel: pmd_same() */
static inline pmd_t pfn_pmd(unsigned long pfn, pgprot_t prot) { return __pmd((pfn << PAGE_SHIFT) | pgprot_val(prot)); }	/* kernel: pfn_pmd() */
static inline pmd_t pw_pmdp_get(pmd_t *pmdp) { return __pmd(PW_LOAD(pmdp->pmd)); }
static inline pmd_t PW_API(pmdp_get)(pmd_t *pmdp) { return pw_pmdp_get(pmdp); }	/* kernel: pmdp_get() */
static inline void set_pmd(pmd_t *pmdp, pmd_t pmd) { PW_STORE(pmdp->pmd, pmd_val(pmd)); }	/* kernel: set_pmd() */
static inline void set_pmd_at(struct mm_struct *mm, unsigned long a, pmd_t *pmdp, pmd_t pmd) { set_pmd(pmdp, pmd); }	/* kernel: set_pmd_at() */
static inline void pmd_clear(pmd_t *pmdp) { set_pmd(pmdp, __pmd(0)); }	/* kernel: pmd_clear() */
void pmd_clear_bad(pmd_t *pmd);	/* the tree's (above) */
static inline pmd_t pmdp_huge_get_and_clear(struct mm_struct *mm, unsigned long a, pmd_t *pmdp)	/* kernel: same */
{
	return __pmd(PW_XCHG(pmdp->pmd, 0UL));
}
static inline void pmd_populate(struct mm_struct *mm, pmd_t *pmd, pgtable_t pte)	/* kernel: pmd_populate() */
{
	PW_STORE(pmd->pmd, _PAGE_TABLE | (page_to_pfn(pte) << PAGE_SHIFT));
}
#define pmd_page(pmd) pfn_to_page(pmd_pfn(pmd))		/* kernel: pmd_page() */
#define pud_page(pud) pfn_to_page(pud_pfn(pud))		/* kernel: pud_page() */

/* ---- pte ---- */
static inline int pte_none(pte_t pte) { return pte_val(pte) == 0; }		/* kernel: pte_none() */
static inline int pte_present(pte_t pte) { return pte_flags(pte) & (_PAGE_PRESENT | _PAGE_PROTNONE); }	/* kernel: pte_present() */
static inline int pte_write(pte_t pte) { return !!(pte_val(pte) & _PAGE_RW); }	/* kernel: pte_write() */
static inline int pte_young(pte_t pte) { return !!(pte_val(pte) & _PAGE_ACCESSED); }	/* kernel: pte_young() */
static inline int pte_dirty(pte_t pte) { return !!(pte_val(pte) & _PAGE_DIRTY); }	/* kernel: pte_dirty() */
static inline int pte_special(pte_t pte) { return !!(pte_val(pte) & _PAGE_SPECIAL); }	/* kernel: pte_special() */
static inline int PW_API(pte_devmap)(pte_t pte) { return !!(pte_val(pte) & _PAGE_DEVMAP); }	/* kernel: pte_devmap() */
static inline pte_t pte_mkspecial(pte_t pte) { return __pte(pte_val(pte) | _PAGE_SPECIAL); }	/* kernel: pte_mkspecial() */
/* what the shim's stand-in fault handler maps: special, and devmap where the tree has it */
#if PW_HAVE_pte_devmap
#define PW_PTE_DEVMAP _PAGE_DEVMAP
#else
#define PW_PTE_DEVMAP 0UL
#endif
static inline pte_t pw_pte_mkdevice(pte_t pte) { return __pte(pte_val(pte) | _PAGE_SPECIAL | PW_PTE_DEVMAP); }
static inline pte_t PW_API(pte_mkdevmap)(pte_t pte) { return __pte(pte_val(pte) | _PAGE_SPECIAL | _PAGE_DEVMAP); }	/* kernel: pte_mkdevmap() */
static inline pte_t pte_mkyoung(pte_t pte) { return __pte(pte_val(pte) | _PAGE_ACCESSED); }	/* kernel: pte_mkyoung() */
static inline pte_t pte_mkold(pte_t pte) { return __pte(pte_val(pte) & ~_PAGE_ACCESSED); }	/* kernel: pte_mkold() */
static inline pte_t pte_mkdirty(pte_t pte) { return __pte(pte_val(pte) | _PAGE_DIRTY | _PAGE_SOFT_DIRTY); }	/* kernel: pte_mkdirty() */
static inline pte_t pw_pte_mkwrite(pte_t pte) { return __pte(pte_val(pte) | _PAGE_RW); }
static inline pte_t PW_API(pte_mkwrite_novma)(pte_t pte) { return pw_pte_mkwrite(pte); }	/* kernel: pte_mkwrite_novma() (pte_mkwrite() before 6.6) */
static inline pte_t pte_wrprotect(pte_t pte) { return __pte(pte_val(pte) & ~_PAGE_RW); }	/* kernel: pte_wrprotect() */
static inline pte_t pfn_pte(unsigned long pfn, pgprot_t prot) { return __pte((pfn << PAGE_SHIFT) | pgprot_val(prot)); }	/* kernel: pfn_pte() */
static inline pte_t pw_ptep_get(pte_t *ptep) { return __pte(PW_LOAD(ptep->pte)); }
static inline pte_t PW_API(ptep_get)(pte_t *ptep) { return pw_ptep_get(ptep); }	/* kernel: ptep_get() */
static inline void set_pte(pte_t *ptep, pte_t pte) { PW_STORE(ptep->pte, pte_val(pte)); }	/* kernel: set_pte() */
static inline void set_pte_at(struct mm_struct *mm, unsigned long a, pte_t *ptep, pte_t pte) { set_pte(ptep, pte); }	/* kernel: set_pte_at() */
static inline void pte_clear(struct mm_struct *mm, unsigned long a, pte_t *ptep) { set_pte(ptep, __pte(0)); }	/* kernel: pte_clear() */
static inline pte_t ptep_get_and_clear(struct mm_struct *mm, unsigned long a, pte_t *ptep)	/* kernel: same */
{
	return __pte(PW_XCHG(ptep->pte, 0UL));
}
/* pte_offset_map(), pte_unmap() and pte_offset_map_lock() come from the tree */

/*
 * kernel: pte_mkwrite()/pmd_mkwrite(): take the vma when the tree's
 * include/linux/pgtable.h says so (PW_TREE_MKWRITE_VMA); x86 then also
 * handles shadow-stack vmas, which do not exist here.
 */
#if PW_TREE_MKWRITE_VMA
struct vm_area_struct;
static inline pte_t pte_mkwrite(pte_t pte, struct vm_area_struct *vma) { return pw_pte_mkwrite(pte); }	/* kernel: pte_mkwrite() */
static inline pmd_t pmd_mkwrite(pmd_t pmd, struct vm_area_struct *vma) { return pw_pmd_mkwrite(pmd); }	/* kernel: pmd_mkwrite() */
#define pte_mkwrite pte_mkwrite
#define pmd_mkwrite pmd_mkwrite
#else
#define pte_mkwrite(pte) pw_pte_mkwrite(pte)		/* kernel: pte_mkwrite() (one argument) */
#define pmd_mkwrite(pmd) pw_pmd_mkwrite(pmd)		/* kernel: pmd_mkwrite() (one argument) */
#endif

/* kernel: the "special" bit on huge leaves (pmd_mkspecial() & co, x86 since
 * 6.12 for huge pfnmaps): the same software bit as pte_special() */
static inline pud_t PW_API(pud_mkspecial)(pud_t pud) { return __pud(pud_val(pud) | _PAGE_SPECIAL); }	/* kernel: pud_mkspecial() */
static inline pmd_t PW_API(pmd_mkspecial)(pmd_t pmd) { return __pmd(pmd_val(pmd) | _PAGE_SPECIAL); }	/* kernel: pmd_mkspecial() */
static inline int PW_API(pud_special)(pud_t pud) { return !!(pud_val(pud) & _PAGE_SPECIAL); }	/* kernel: pud_special() */
static inline int PW_API(pmd_special)(pmd_t pmd) { return !!(pmd_val(pmd) & _PAGE_SPECIAL); }	/* kernel: pmd_special() */

/* ---- pfn_t (include/linux/pfn_t.h): device memory is PFN_DEV|PFN_MAP ---- */
#if PW_HAVE_pfn_t
#define PFN_FLAGS_MASK (((u64)~PAGE_MASK) << (64 - PAGE_SHIFT))	/* kernel: PFN_FLAGS_MASK */
#define PFN_SG_CHAIN (1ULL << 63)				/* kernel: PFN_SG_CHAIN */
#define PFN_SG_LAST (1ULL << 62)				/* kernel: PFN_SG_LAST */
#define PFN_DEV (1ULL << 61)					/* kernel: PFN_DEV */
#define PFN_MAP (1ULL << 60)					/* kernel: PFN_MAP */
#define PFN_SPECIAL (1ULL << 59)				/* kernel: PFN_SPECIAL */
static inline pfn_t __pfn_to_pfn_t(unsigned long pfn, u64 flags) { return (pfn_t){ pfn | (flags & PFN_FLAGS_MASK) }; }	/* kernel: same */
static inline unsigned long pfn_t_to_pfn(pfn_t pfn) { return pfn.val & ~PFN_FLAGS_MASK; }	/* kernel: pfn_t_to_pfn() */
static inline bool pfn_t_devmap(pfn_t pfn) { return (pfn.val & (PFN_DEV | PFN_MAP)) == (PFN_DEV | PFN_MAP); }	/* kernel: pfn_t_devmap() */
static inline pud_t pfn_t_pud(pfn_t pfn, pgprot_t prot) { return pfn_pud(pfn_t_to_pfn(pfn), prot); }	/* kernel: pfn_t_pud() */
static inline pmd_t pfn_t_pmd(pfn_t pfn, pgprot_t prot) { return pfn_pmd(pfn_t_to_pfn(pfn), prot); }	/* kernel: pfn_t_pmd() */
static inline pte_t pfn_t_pte(pfn_t pfn, pgprot_t prot) { return pfn_pte(pfn_t_to_pfn(pfn), prot); }	/* kernel: pfn_t_pte() */
#endif

#endif
