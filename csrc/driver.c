/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * The fake huge-page driver: a DAX-like device whose ->huge_fault inserts
 * PUD and PMD leaves with the tree's vmf_insert_pfn_pud()/_pmd(), as
 * drivers/dax does (before 7.x; since, DAX maps folios and this is a
 * "special huge" VM_MIXEDMAP device, vma_is_special_huge()).  Policy:
 *   - a read fault gets a huge leaf at the largest level the mapping allows;
 *   - a write fault on a write-notify (dirty-tracking) mapping returns
 *     VM_FAULT_FALLBACK, so the fault goes on at a lower level
 *     (the situation of the 2019 thread).
 */

struct pw_dev_mapping {
	int huge_level;		/* the largest leaf: PW_LEVEL_PUD, _PMD or _PTE (no huge leaves) */
	int write_notify;	/* writes fall back (dirty tracking) */
};

static vm_fault_t pw_dev_huge_fault(struct vm_fault *vmf, PW_HUGE_FAULT_ARG)
{
	struct vm_area_struct *vma = vmf->vma;
	struct pw_dev_mapping *dev = vma->vm_private_data;
	bool write = vmf->flags & FAULT_FLAG_WRITE;
#if PW_TREE_HUGE_FAULT_ORDER
	int level = order == PUD_SHIFT - PAGE_SHIFT ? PW_LEVEL_PUD :
		    order == PMD_SHIFT - PAGE_SHIFT ? PW_LEVEL_PMD : PW_LEVEL_PTE;
#else
	int level = pe_size == PE_SIZE_PUD ? PW_LEVEL_PUD :
		    pe_size == PE_SIZE_PMD ? PW_LEVEL_PMD : PW_LEVEL_PTE;
#endif
	unsigned long size = level == PW_LEVEL_PUD ? PUD_SIZE : PMD_SIZE;
	unsigned long start = vmf->address & ~(size - 1);
	unsigned long offset = (start - vma->vm_start) + (vma->vm_pgoff << PAGE_SHIFT);
	unsigned long pfn;
	vm_fault_t ret;

	if (level == PW_LEVEL_PTE || level > dev->huge_level || (write && dev->write_notify) ||
	    start < vma->vm_start || start + size > vma->vm_end)
		ret = VM_FAULT_FALLBACK;
	else {
		pfn = pw_bar_pfn(offset);
#if PW_TREE_INSERT_PFN_T
		/* a pfn_t of device memory with a memmap, as drivers/dax passes it */
		if (level == PW_LEVEL_PUD)
			ret = vmf_insert_pfn_pud(vmf, __pfn_to_pfn_t(pfn, PFN_DEV | PFN_MAP), write);
		else
			ret = vmf_insert_pfn_pmd(vmf, __pfn_to_pfn_t(pfn, PFN_DEV | PFN_MAP), write);
#else
		if (level == PW_LEVEL_PUD)
			ret = vmf_insert_pfn_pud(vmf, pfn, write);
		else
			ret = vmf_insert_pfn_pmd(vmf, pfn, write);
#endif
	}
	pw_hook(PW_SITE_FAULT_RETURN);
	return ret;
}

static const struct vm_operations_struct pw_dev_vm_ops = {
	.huge_fault = pw_dev_huge_fault,
};

/* mmap() of the device: a DAX-like VM_MIXEDMAP|VM_HUGEPAGE shared mapping */
static struct vm_area_struct *pw_dev_mmap(struct mm_struct *mm, unsigned long start,
					  unsigned long size, int huge_level, int write_notify)
{
	struct vm_area_struct *vma = calloc(1, sizeof(*vma) + sizeof(struct pw_dev_mapping));
	struct pw_dev_mapping *dev;
	/* the device file and its inode (a character device, like /dev/daxN.M),
	 * one allocation: freed with vm_file */
	struct file *file = calloc(1, sizeof(*file) + sizeof(struct inode));

	if (!vma || !file) {
		free(vma);
		free(file);
		return NULL;
	}
	dev = (struct pw_dev_mapping *)(vma + 1);
	dev->huge_level = huge_level;
	dev->write_notify = write_notify;
	/* where DAX maps folios (PW_TREE_DAX_FOLIOS), a device whose huge
	 * faults insert bare pfns into a VM_MIXEDMAP mapping is not DAX but
	 * what the tree's vma_is_special_huge() calls special; before, DAX
	 * did exactly this.  (Not VM_PFNMAP: walk_page_range() skips those.) */
	file->dax = !PW_TREE_DAX_FOLIOS;
	file->f_inode = (struct inode *)(file + 1);
	file->f_inode->i_mode = S_IFCHR | 0600;
	vma->vm_start = start;
	vma->vm_end = start + size;
	vma->vm_mm = mm;
	/* VM_HUGEPAGE: MADV_HUGEPAGE, which a non-DAX device needs for huge
	 * faults under THP "madvise" (shim/src/mm.c) */
	vma->vm_flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE |
			VM_MAYSHARE | VM_MIXEDMAP | VM_HUGEPAGE;
	/* write-notify: the ptes start write-protected (vma_wants_writenotify()) */
	vma->vm_page_prot = write_notify ? PAGE_READONLY : PAGE_SHARED;
	vma->vm_file = file;
	vma->vm_private_data = dev;
	vma->vm_ops = &pw_dev_vm_ops;
	return vma;
}
