/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: what the tree's huge-fault drivers (drivers/dax/device.c,
 * drivers/vfio/pci/vfio_pci_core.c) are compiled against: a device-dax
 * instance with its ranges, a VFIO PCI device with one BAR of the mapping's
 * size.  Our own definitions, each naming its kernel counterpart.  The fault
 * handlers themselves (which level they insert, when they fall back) are the
 * tree's.
 */
#ifndef PYWALK_SHIM_DRIVERS_H
#define PYWALK_SHIM_DRIVERS_H

/* CONFIG_ARCH_SUPPORTS_{HUGE,PMD,PUD}_PFNMAP, which VFIO's huge_fault tests:
 * pywalk/mm.h (x86 selects them with TRANSPARENT_HUGEPAGE, 6.12+) */

struct device { int pw_unused; };		/* kernel: struct device (only printed) */
/* kernel: dev_dbg() and friends: no console here; arguments are not evaluated */
#define dev_dbg(dev, ...) do { } while (0)
#define dev_dbg_ratelimited(dev, ...) do { } while (0)
#define dev_info_ratelimited(dev, ...) do { } while (0)

/* ---- device-dax (drivers/dax/dax-private.h, bus.h, super.c) ---- */
struct range { u64 start, end; };		/* kernel: struct range */
static inline u64 range_len(const struct range *r) { return r->end - r->start + 1; }	/* kernel: range_len() */
#define PHYS_PFN(x) ((unsigned long)((x) >> PAGE_SHIFT))	/* kernel: PHYS_PFN() */
#define PFN_PHYS(x) ((phys_addr_t)(x) << PAGE_SHIFT)		/* kernel: PFN_PHYS() */
struct dax_device { int alive; };		/* kernel: struct dax_device (its alive flag) */
struct dev_pagemap { unsigned long vmemmap_shift; };	/* kernel: struct dev_pagemap (the member read) */
struct dax_mapping;				/* kernel: struct dax_mapping (sysfs only) */
struct dev_dax {				/* kernel: struct dev_dax, the members device.c reads */
	struct dax_device *dax_dev;
	unsigned int align;
	struct device dev;
	struct dev_pagemap *pgmap;
	int nr_range;
	struct dev_dax_range {			/* kernel: struct dev_dax_range */
		unsigned long pgoff;
		struct range range;
		struct dax_mapping *mapping;
	} *ranges;
};
static inline bool dax_alive(struct dax_device *d) { return d->alive; }	/* kernel: dax_alive() */
static inline int dax_read_lock(void) { return 0; }	/* kernel: dax_read_lock() (SRCU vs. kill_dax(); no kill here) */
static inline void dax_read_unlock(int id) { }		/* kernel: dax_read_unlock() */
/* pfn_t and what takes it: only for a tree that has pfn_t (7.x removed it) */
#if PW_HAVE_pfn_t
/* kernel: phys_to_pfn_t() */
static inline pfn_t phys_to_pfn_t(phys_addr_t addr, u64 flags) { return __pfn_to_pfn_t(addr >> PAGE_SHIFT, flags); }
/* kernel: vmf_insert_mixed(): 4 KiB device faults are served by the shim's
 * handle_pte_fault() stand-in, which never calls ->fault */
static inline vm_fault_t vmf_insert_mixed(struct vm_area_struct *vma, unsigned long a, pfn_t pfn)
{ PW_UNMODELLED("vmf_insert_mixed"); }
#endif
/* compound_head(): shim/include/pywalk/folio.h (device-dax folios are compound) */
/* kernel: vmf_insert_page_mkwrite() (7.x device-dax, 4 KiB alignment only):
 * our devices are 2 MiB or 1 GiB aligned, and 4 KiB faults are served by
 * the shim's handle_pte_fault() stand-in, which never calls ->fault */
static inline vm_fault_t PW_API(vmf_insert_page_mkwrite)(struct vm_fault *vmf, struct page *page,
							 bool write)
{ PW_UNMODELLED("vmf_insert_page_mkwrite"); }
/* kernel: file_is_dax(): IS_DAX() of the file's inode (S_DAX) */
static inline bool PW_API(file_is_dax)(const struct file *file) { return file && file->dax; }
/* kernel: in_range(): start <= val < start + len */
#if PW_HAVE_in_range
#define in_range(val, start, len) ((u64)(val) - (u64)(start) < (u64)(len))
#endif
/* kernel: vma_flags_test_any(&flags, BIT, ...) (7.x): any of the bits set */
#if PW_HAVE_vma_flags_test_any
#define vma_flags_test_any(flags, ...) pw_vma_flags_test_any((flags), (int[]){ __VA_ARGS__, -1 })
#endif
static inline bool pw_vma_flags_test_any(const PW_API(vma_flags_t) *flags, const int *bits)
{
	for (; *bits >= 0; bits++)
		if ((flags->__vma_flags[0] >> *bits) & 1)
			return true;
	return false;
}
#if PW_HAVE_VMA_MAYSHARE_BIT
#define VMA_MAYSHARE_BIT 7		/* kernel: VMA_MAYSHARE_BIT (VM_MAYSHARE) */
#endif
/* kernel: linear_page_delta() (7.x): the page offset of address in the vma */
static inline pgoff_t PW_API(linear_page_delta)(const struct vm_area_struct *vma, unsigned long a)
{
	return (a - vma->vm_start) >> PAGE_SHIFT;
}
/* kernel: lockdep_assert_held_read(): lockdep off (as lockdep_assert_held()) */
#if PW_HAVE_lockdep_assert_held_read
#define lockdep_assert_held_read(l) do { } while (0)
#endif
/* kernel: scoped_guard(rwsem_read, &sem) (include/linux/cleanup.h, rwsem.h):
 * the statement that follows runs with the semaphore held for read */
#if PW_HAVE_scoped_guard
#define scoped_guard(type, ...)						\
	for (int pw_guard_once = (pw_guard_lock_##type(__VA_ARGS__), 1); pw_guard_once;	\
	     pw_guard_once = (pw_guard_unlock_##type(__VA_ARGS__), 0))
#endif
static inline void pw_guard_lock_rwsem_read(struct rw_semaphore *sem) { down_read(sem); }
static inline void pw_guard_unlock_rwsem_read(struct rw_semaphore *sem) { up_read(sem); }
/* kernel: vmf_insert_pfn(): as vmf_insert_mixed() */
static inline vm_fault_t vmf_insert_pfn(struct vm_area_struct *vma, unsigned long a, unsigned long pfn)
{ PW_UNMODELLED("vmf_insert_pfn"); }

/* ---- VFIO PCI (include/linux/vfio_pci_core.h, drivers/vfio/pci/) ---- */
struct pci_dev {				/* kernel: struct pci_dev, its BARs and device */
	struct device dev;
	phys_addr_t bar_start[6], bar_len[6];
};
#define pci_resource_start(pdev, bar) ((pdev)->bar_start[(bar)])	/* kernel: pci_resource_start() */
struct vfio_pci_core_device {			/* kernel: struct vfio_pci_core_device, the members read */
	struct pci_dev *pdev;
	struct rw_semaphore memory_lock;	/* kernel: ->memory_lock (vs. BAR zap on reset) */
	bool pm_runtime_engaged;
	bool memory_enabled;			/* stands for PCI_COMMAND_MEMORY in config space */
};
/* kernel: __vfio_pci_memory_enabled(): the command register's memory enable */
static inline bool __vfio_pci_memory_enabled(struct vfio_pci_core_device *vdev) { return vdev->memory_enabled; }

#endif
