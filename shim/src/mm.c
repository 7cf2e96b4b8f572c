/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: mm-level pieces below the subject: the vma lookup, the
 * pte-level fault, mm set-up and tear-down.  Our own code.
 */

struct mm_struct init_mm;			/* kernel: init_mm */
/* kernel: transparent_hugepage_flags, as CONFIG_TRANSPARENT_HUGEPAGE_MADVISE
 * sets them: THP "madvise".  DAX faults ask nothing of them; a special huge
 * (non-DAX VM_MIXEDMAP) mapping needs MADV_HUGEPAGE under it (7.x). */
unsigned long transparent_hugepage_flags = 1UL << TRANSPARENT_HUGEPAGE_REQ_MADV_FLAG;
unsigned long huge_anon_orders_always, huge_anon_orders_madvise, huge_anon_orders_inherit;	/* kernel: same (no anonymous THP here) */

struct vm_area_struct *find_vma(struct mm_struct *mm, unsigned long addr)	/* kernel: find_vma() */
{
	for (int i = 0; i < mm->nr_vmas; i++)
		if (mm->vmas[i]->vm_end > addr)
			return mm->vmas[i];
	return NULL;
}

/*
 * kernel: handle_pte_fault() for our device mapping, as a DAX ->fault does:
 * make sure a pte table exists (pte_alloc()/pmd_install()), give up when
 * the pmd is no table (a concurrent huge fault won: the access is retried),
 * then install the device pte under the pte lock.
 */
static vm_fault_t handle_pte_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mm_struct *mm = vma->vm_mm;
	pmd_t pmdval = pw_pmdp_get(vmf->pmd);
	spinlock_t *ptl;
	pte_t *pte, entry;
	unsigned long pfn;

	/* kernel: do_fault() -> __do_fault(): a mapping of the tree's drivers
	 * has a ->fault of its own (device-dax: SIGBUS below its alignment,
	 * which a fault meets when the THP policy forbids the huge one), and
	 * it decides, as in the kernel */
	if (vma->vm_ops && vma->vm_ops->fault)
		return vma->vm_ops->fault(vmf);
	if (pmd_none(pmdval)) {
		pgtable_t new = pte_alloc_one(mm);

		if (!new)
			return VM_FAULT_OOM;
		ptl = pmd_lock(mm, vmf->pmd);
		pw_stale_view(vmf->pmd, pmd_val(*vmf->pmd));	/* this stand-in's check */
		if (pmd_none(*vmf->pmd)) {	/* kernel: pmd_install() */
			mm_inc_nr_ptes(mm);
			smp_wmb();
			pmd_populate(mm, vmf->pmd, new);
			new = NULL;
		}
		spin_unlock(ptl);
		if (new)
			pte_free(mm, new);
		pmdval = pw_pmdp_get(vmf->pmd);
	}
	if (pmd_none(pmdval) || pmd_leaf(pmdval) || pw_pmd_devmap(pmdval) || !pmd_present(pmdval))
		return 0;	/* kernel: pmd_devmap_trans_unstable(): retry the access */

	pte = pte_offset_map(vmf->pmd, vmf->address);
	if (!pte)		/* the tree's pte_offset_map() may find no table */
		return 0;	/* retry the access */
	ptl = pte_lockptr(mm, vmf->pmd);
	spin_lock(ptl);
	if (pte_none(pw_ptep_get(pte))) {
		pfn = pw_bar_pfn(vmf->pgoff << PAGE_SHIFT);
		entry = pw_pte_mkdevice(pfn_pte(pfn, vma->vm_page_prot));
		if ((vmf->flags & FAULT_FLAG_WRITE) && (vma->vm_flags & VM_WRITE))
			entry = pte_mkdirty(pte_mkyoung(pw_pte_mkwrite(entry)));
		set_pte_at(mm, vmf->address, pte, entry);
	}
	spin_unlock(ptl);
	pte_unmap(pte);
	return VM_FAULT_NOPAGE;
}

static struct mm_struct *pw_mm_create(void)	/* kernel: mm_alloc() + pgd_alloc() */
{
	struct mm_struct *mm = calloc(1, sizeof(*mm));
	struct page *pgd;

	if (!mm)
		return NULL;
	pgd = pw_alloc_table(NULL, PW_LEVEL_PGD);
	if (!pgd) {
		free(mm);
		return NULL;
	}
	mm->pgd = (pgd_t *)page_address(pgd);
	spin_lock_init(&mm->page_table_lock);
	return mm;
}

/* kernel: free_pgtables() + mmdrop(): every table goes to the quarantine */
static void pw_free_pmd_table(pmd_t *pmd)
{
	for (int i = 0; i < PTRS_PER_PMD; i++)
		if (!pmd_none(pmd[i]) && !pmd_leaf(pmd[i]))
			pw_free_table_page(pmd_page(pmd[i]));
	pw_free_table_page(virt_to_page(pmd));
}

static void pw_free_pud_table(pud_t *pud)
{
	for (int i = 0; i < PTRS_PER_PUD; i++)
		if (!pud_none(pud[i]) && !pud_leaf(pud[i]))
			pw_free_pmd_table(pud_pgtable(pud[i]));
	pw_free_table_page(virt_to_page(pud));
}

static void pw_mm_destroy(struct mm_struct *mm)
{
	for (int i = 0; i < PTRS_PER_PGD; i++) {
		p4d_t *p4d = (p4d_t *)&mm->pgd[i];

		if (!p4d_none(*p4d))
			pw_free_pud_table(p4d_pgtable(*p4d));
	}
	pw_free_table_page(virt_to_page(mm->pgd));
	for (int i = 0; i < mm->nr_vmas; i++) {
		free(mm->vmas[i]->vm_file);
		free(mm->vmas[i]);
	}
	free(mm);
}
