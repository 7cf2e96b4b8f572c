/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Harness for the tree's own walk clients and huge-fault drivers
 * (pywalk/variant/clients.py slices them; PW_CLIENT_<name> says which this
 * tree has).
 *
 * Clients: the tree's mm_walk_ops run by the tree's walk_page_range()
 * under mmap_lock for read, with the private data their kernel callers
 * give them:
 *   numa_maps    show_numa_ops (show_numa_map(): walk_page_vma() of each vma
 *                the range meets, whole)
 *   dirty        wp_walk_ops (wp_shared_mapping_range())
 *   dirty-clean  clean_walk_ops (clean_record_shared_mapping_range())
 *   smaps, pagemap, mincore: csrc/proc_walkers.c
 * The dirty helpers' kernel callers walk with walk_page_mapping() under
 * i_mmap_rwsem; there is no file rmap here, so they walk the vma with
 * walk_page_range() under mmap_lock for read, which excludes no fault either.
 *
 * Drivers: pw_map_driver() makes a vma the way the driver's mmap does and
 * points its ->huge_fault at the tree's handler.
 */


#ifndef PW_CLIENT_NUMA_MAPS
#define PW_CLIENT_NUMA_MAPS 0
#endif
#ifndef PW_CLIENT_DIRTY
#define PW_CLIENT_DIRTY 0
#endif
#ifndef PW_CLIENT_VFIO
#define PW_CLIENT_VFIO 0
#endif
#ifndef PW_CLIENT_DAX
#define PW_CLIENT_DAX 0
#endif
#ifndef PW_CLIENT_DIRTY_CLEAN
#define PW_CLIENT_DIRTY_CLEAN 0
#endif

static int pw_is_client(int walker)
{
	return (walker >= PW_WALK_TREE_NUMA_MAPS && walker <= PW_WALK_TREE_CLEAN) ||
	       pw_is_proc_walker(walker);
}

/* A client's mm_walk_ops as the tree has them (NULL: not in this tree). */
static const struct mm_walk_ops *pw_client_ops(int walker)
{
	switch (walker) {
#if PW_CLIENT_NUMA_MAPS
	case PW_WALK_TREE_NUMA_MAPS:
		return pw_tree_show_numa_ops;
#endif
#if PW_CLIENT_DIRTY
	case PW_WALK_TREE_DIRTY:
		return pw_tree_wp_walk_ops;
#endif
#if PW_CLIENT_DIRTY_CLEAN
	case PW_WALK_TREE_CLEAN:
		return pw_tree_clean_walk_ops;
#endif
	}
	return pw_proc_ops(walker);	/* smaps, pagemap, mincore (proc_walkers.c) */
}

/*
 * Run a tree client over [start, end); mmap_lock is taken here.  ops: the
 * client's own (NULL), or pywalk bench's census copy of them
 * (csrc/bench_paced.c: the same callbacks, called through counters).
 */
static int pw_client_walk(struct mm_struct *mm, unsigned long start, unsigned long end,
			  int walker, const struct mm_walk_ops *ops, struct pw_walk_counts *counts)
{
	int r = -ENOSYS;

	if (pw_is_proc_walker(walker))	/* smaps, pagemap, mincore (proc_walkers.c) */
		return pw_proc_walk(mm, start, end, walker, ops, counts);
	if (!ops)
		ops = pw_client_ops(walker);
	if (!ops)
		return r;
	switch (walker) {
#if PW_CLIENT_NUMA_MAPS
	case PW_WALK_TREE_NUMA_MAPS: {
		/* show_numa_map(), called by seq_file for each vma under mmap_lock
		 * for read (m_start()): walk_page_vma() of the whole vma, which
		 * (unlike walk_page_range()) does not skip VM_PFNMAP vmas */
		struct numa_maps md;	/* kernel: numa_priv->md, zeroed per vma */
		unsigned long addr = start;
		struct vm_area_struct *vma;

		r = 0;
		mmap_read_lock(mm);
		while (!r && addr < end && (vma = find_vma(mm, addr)) && vma->vm_start < end) {
			memset(&md, 0, sizeof(md));
			r = walk_page_vma(vma, ops, &md);
			if (counts)
				counts->pte_present += md.pages;
			addr = vma->vm_end;
		}
		mmap_read_unlock(mm);
		break;
	}
#endif
#if PW_CLIENT_DIRTY
	case PW_WALK_TREE_DIRTY: {
		struct wp_walk wpwalk = { .total = 0 };	/* as wp_shared_mapping_range() */

		mmap_read_lock(mm);
		r = walk_page_range(mm, start, end, ops, &wpwalk);
		mmap_read_unlock(mm);
		if (counts)
			counts->pte_present += wpwalk.total;
		break;
	}
#endif
#if PW_CLIENT_DIRTY_CLEAN
	case PW_WALK_TREE_CLEAN: {
		/* as clean_record_shared_mapping_range() with an empty range */
		static __thread unsigned long *bitmap;
		static __thread unsigned long bitmap_pages;
		unsigned long nr = (end - start) >> PAGE_SHIFT;
		struct vm_area_struct *vma = find_vma(mm, start);
		struct clean_walk cwalk = { .base = { .total = 0 } };

		if (!vma)
			return PW_ERR_NOVMA;
		if (bitmap_pages < nr) {
			free(bitmap);
			bitmap = calloc((nr + 63) / 64, sizeof(long));
			bitmap_pages = bitmap ? nr : 0;
			if (!bitmap)
				return -ENOMEM;
		}
		cwalk.bitmap_pgoff = linear_page_index(vma, start);
		cwalk.bitmap = bitmap;
		cwalk.start = nr;
		cwalk.end = 0;
		mmap_read_lock(mm);
		r = walk_page_range(mm, start, end, ops, &cwalk.base);
		mmap_read_unlock(mm);
		if (counts)
			counts->pte_present += cwalk.base.total;
		break;
	}
#endif
	}
	return r;
}

/*
 * A census walk of a client: its own callbacks, each called through an
 * observer that counts it and tells the split watch (pw_note_split()) the
 * walk's step, so that retries show; where the client has no pte_hole, an
 * observer one that returns 0.  Every call site in mm/pagewalk.c reads
 * "if (ops->pte_hole) err = ops->pte_hole(...)", and walk_page_test() takes
 * a 0 as it takes no pte_hole (skip the vma), so the walk goes where it
 * would go: it only shows more.  pywalk bench times the client as it runs
 * and counts with census walks (pywalk/bench/refault.py checks that they
 * split what the timed walks split).
 */
static __thread struct {
	const struct mm_walk_ops *own;
	struct pw_walk_counts *c;
} pw_census;

#define PW_CENSUS_STEP(level, a)					\
	do {								\
		if (pw_cur.watch)					\
			pw_watch_step(pw_cur.watch, (level), (a));	\
	} while (0)

/* pw_census_pgd() .. pw_census_pmd(): count, tell the watch, call the client's own */
#define PW_CENSUS_ENTRY(lvl, type, level)						\
static int pw_census_##lvl(type *e, unsigned long a, unsigned long n, struct mm_walk *w)	\
{											\
	pw_census.c->lvl##_entry++;							\
	PW_CENSUS_STEP(level, a);							\
	return pw_census.own->lvl##_entry(e, a, n, w);					\
}
PW_CENSUS_ENTRY(pgd, pgd_t, 0)
PW_CENSUS_ENTRY(p4d, p4d_t, 1)
PW_CENSUS_ENTRY(pud, pud_t, 2)
PW_CENSUS_ENTRY(pmd, pmd_t, 3)
#undef PW_CENSUS_ENTRY

static int pw_census_pte(pte_t *e, unsigned long a, unsigned long n, struct mm_walk *w)
{
	pw_census.c->pte_entry++;	/* (a pte is never a split's next step) */
	return pw_census.own->pte_entry(e, a, n, w);
}

static int pw_census_hole(unsigned long a, unsigned long n, int depth, struct mm_walk *w)
{
	PW_CENSUS_STEP(depth, a);
	if (!pw_census.own->pte_hole)
		return 0;	/* the observer's own: not the client's callback */
	pw_census.c->pte_hole++;
	return pw_census.own->pte_hole(a, n, depth, w);
}

/* A census walk of a client over [start, end) into counts (callbacks, and
 * pte_present as the client counts pages); the caller watches splits. */
static int pw_client_census(struct mm_struct *mm, unsigned long start, unsigned long end,
			    int walker, struct pw_walk_counts *counts)
{
	const struct mm_walk_ops *own = pw_client_ops(walker);
	struct mm_walk_ops ops;
	int r;

	if (!own)
		return -ENOSYS;
	ops = *own;
	if (own->pgd_entry)
		ops.pgd_entry = pw_census_pgd;
	if (own->p4d_entry)
		ops.p4d_entry = pw_census_p4d;
	if (own->pud_entry)
		ops.pud_entry = pw_census_pud;
	if (own->pmd_entry)
		ops.pmd_entry = pw_census_pmd;
	if (own->pte_entry)
		ops.pte_entry = pw_census_pte;
	/* smaps_pte_hole_lookup() asks walk->ops->pte_hole itself: there an
	 * observer would change what the walk does */
	if (own->pte_hole || walker != PW_WALK_TREE_SMAPS)
		ops.pte_hole = pw_census_hole;
	pw_census.own = own;
	pw_census.c = counts;
	r = pw_client_walk(mm, start, end, walker, &ops, counts);
	pw_census.own = NULL;
	pw_census.c = NULL;
	return r;
}

/* ---- drivers ---- */

#if PW_CLIENT_VFIO
/* kernel: vfio_pci_mmap_ops (its members as the tree's table has them with
 * CONFIG_ARCH_SUPPORTS_HUGE_PFNMAP; 4 KiB faults go to the shim's
 * handle_pte_fault() stand-in, which does not call ->fault) */
static struct vm_operations_struct pw_vfio_vm_ops;	/* set by pw_clients_init() */

/*
 * vfio_pci_core_mmap() of BAR 0 of a device whose BAR is as large as the
 * mapping and naturally aligned (pw_bar_pfn(0) is 1 GiB aligned): a
 * VM_PFNMAP|VM_IO shared mapping of the device file, vm_pgoff encoding the
 * region index.  One allocation: the vma, the device, its pci_dev.
 */
static struct vm_area_struct *pw_vfio_mmap(struct mm_struct *mm, unsigned long start,
					   unsigned long size)
{
	struct vm_area_struct *vma = calloc(1, sizeof(*vma) + sizeof(struct vfio_pci_core_device) +
					    sizeof(struct pci_dev));
	struct file *file = calloc(1, sizeof(*file) + sizeof(struct inode));
	struct vfio_pci_core_device *vdev;
	struct pci_dev *pdev;

	if (!vma || !file) {
		free(vma);
		free(file);
		return NULL;
	}
	vdev = (struct vfio_pci_core_device *)(vma + 1);
	pdev = (struct pci_dev *)(vdev + 1);
	pdev->bar_start[0] = (phys_addr_t)pw_bar_pfn(0) << PAGE_SHIFT;
	pdev->bar_len[0] = size;
	vdev->pdev = pdev;
	vdev->memory_enabled = true;
	file->f_inode = (struct inode *)(file + 1);
	file->f_inode->i_mode = S_IFCHR | 0600;
	file->private_data = vdev;
	vma->vm_start = start;
	vma->vm_end = start + size;
	vma->vm_mm = mm;
	vma->vm_flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE |
			VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP;
	vma->vm_page_prot = PAGE_SHARED;
	vma->vm_pgoff = 0;	/* BAR 0: index 0 << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT) */
	vma->vm_file = file;
	vma->vm_private_data = vdev;
	vma->vm_ops = &pw_vfio_vm_ops;
	return vma;
}
#endif


#if PW_CLIENT_DAX
/* kernel: dax_vm_ops (its fault members; ->may_split and ->pagesize are not
 * asked by anything compiled here) */
static struct vm_operations_struct pw_dax_vm_ops;	/* set by pw_clients_init() */

/*
 * dax_mmap() of a device-dax instance (/dev/daxN.M) of one range as large as
 * the mapping, with the given alignment (1 GiB: PUD faults only; 2 MiB: PMD).
 * Its memory is ZONE_DEVICE: it has struct pages (pw_dax_memmap_init()),
 * compound per alignment (pgmap->vmemmap_shift), which dax_set_mapping()
 * writes.  One allocation: the vma, dev_dax, its range, pgmap, dax_device.
 */
struct pw_dax_dev {
	struct dev_dax dev_dax;
	struct dev_dax_range range;
	struct dev_pagemap pgmap;
	struct dax_device dax_dev;
};

static struct vm_area_struct *pw_dax_mmap(struct mm_struct *mm, unsigned long start,
					  unsigned long size, unsigned long align)
{
	struct vm_area_struct *vma;
	struct file *file;
	struct pw_dax_dev *d;

	if (pw_dax_memmap_init())
		return NULL;
	vma = calloc(1, sizeof(*vma) + sizeof(*d));
	file = calloc(1, sizeof(*file) + sizeof(struct inode) + sizeof(struct address_space));
	if (!vma || !file) {
		free(vma);
		free(file);
		return NULL;
	}
	d = (struct pw_dax_dev *)(vma + 1);
	d->dax_dev.alive = 1;
	d->pgmap.vmemmap_shift = __builtin_ctzl(align) - PAGE_SHIFT;
	d->range.pgoff = 0;
	d->range.range.start = (phys_addr_t)pw_dax_pfn(0, align) << PAGE_SHIFT;
	d->range.range.end = d->range.range.start + size - 1;
	d->dev_dax.dax_dev = &d->dax_dev;
	d->dev_dax.align = align;
	d->dev_dax.pgmap = &d->pgmap;
	d->dev_dax.nr_range = 1;
	d->dev_dax.ranges = &d->range;
	file->f_inode = (struct inode *)(file + 1);
	file->f_inode->i_mode = S_IFCHR | 0600;
	file->f_mapping = (struct address_space *)(file->f_inode + 1);
	file->f_inode->i_mapping = file->f_mapping;
	file->dax = 1;		/* kernel: IS_DAX(inode) (S_DAX on the device inode) */
	file->private_data = &d->dev_dax;
	vma->vm_start = start;
	vma->vm_end = start + size;
	vma->vm_mm = mm;
	vma->vm_flags = VM_READ | VM_WRITE | VM_SHARED | VM_MAYREAD | VM_MAYWRITE | VM_MAYSHARE |
			VM_HUGEPAGE;
	vma->vm_page_prot = PAGE_SHARED;
	vma->vm_file = file;
	vma->vm_private_data = NULL;
	vma->vm_ops = &pw_dax_vm_ops;
	return vma;
}
#endif

/* The drivers' vm_ops point at the tree's handlers, reached through the
 * pw_tree_ pointers (pywalk/variant/clients.py): not constant expressions,
 * so filled in once, when the variant is loaded. */
__attribute__((constructor)) static void pw_clients_init(void)
{
#if PW_CLIENT_VFIO
	pw_vfio_vm_ops.fault = pw_tree_vfio_pci_mmap_page_fault;
	pw_vfio_vm_ops.huge_fault = pw_tree_vfio_pci_mmap_huge_fault;
#endif
#if PW_CLIENT_DAX
	pw_dax_vm_ops.fault = pw_tree_dev_dax_fault;
	pw_dax_vm_ops.huge_fault = pw_tree_dev_dax_huge_fault;
#endif
}

/* References the tree's code holds on device-dax folios (7.x folio inserts:
 * folio_get() per mapping, dropped when it is zapped or split), all mms
 * together (shim/include/pywalk/folio.h): 0 when nothing is mapped. */
long pw_dax_folio_refs(void)
{
	return __atomic_load_n(&pw_dax_refs, __ATOMIC_RELAXED);
}

static int pw_driver_available(int driver)
{
	switch (driver) {
	case PW_DRIVER_WRITE_NOTIFY:
		return 1;
	case PW_DRIVER_VFIO:
		return PW_CLIENT_VFIO + 0;
	case PW_DRIVER_DAX:
		return PW_CLIENT_DAX + 0;
	}
	return 0;
}
