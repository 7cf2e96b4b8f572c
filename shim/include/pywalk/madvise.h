/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: what the tree's MADV_DONTNEED code (mm/madvise.c's
 * madvise_dontneed_free() and below, sliced) refers to beyond the zap path.
 * There is no hugetlbfs, no userfaultfd context and no MADV_FREE here: the
 * hugetlb branch of madvise_dontneed_free_valid_vma() is never taken
 * (is_vm_hugetlb_page() is false), and reaching its helpers or the
 * MADV_FREE branch is reported as a BUG naming them (PW_UNMODELLED).
 */
#ifndef PYWALK_SHIM_MADVISE_H
#define PYWALK_SHIM_MADVISE_H

/* kernel: include/uapi/asm-generic/mman-common.h */
#define MADV_DONTNEED		4
#define MADV_FREE		8
#define MADV_DONTNEED_LOCKED	24

#ifndef VM_LOCKED
#define VM_LOCKED	0x00002000UL	/* kernel: VM_LOCKED (mlock()ed) */
#endif

/* kernel: vma_lookup(): the vma that contains addr, or NULL */
static inline struct vm_area_struct *PW_API(vma_lookup)(struct mm_struct *mm, unsigned long addr)
{
	struct vm_area_struct *vma = find_vma(mm, addr);

	return vma && addr >= vma->vm_start ? vma : NULL;
}

/* kernel: userfaultfd_remove() (fs/userfaultfd.c): no vma here has a
 * userfaultfd context, so there is no one to tell and mmap_lock stays held */
static inline bool PW_API(userfaultfd_remove)(struct vm_area_struct *vma, unsigned long start,
					      unsigned long end)
{
	return true;
}

/* hugetlbfs (include/linux/hugetlb.h): never reached */
struct hstate;
#undef PW_U
#define PW_U(ret, name, args) static inline ret PW_API(name) args { PW_UNMODELLED(#name); }
PW_U(struct hstate *, hstate_vma, (struct vm_area_struct *vma))
PW_U(unsigned long, huge_page_mask, (struct hstate *h))
PW_U(unsigned long, huge_page_size, (struct hstate *h))
#undef PW_U

/* kernel: madvise_free_single_vma() (mm/madvise.c, static; its argument
 * list differs between trees): MADV_FREE, which the harness never asks */
#if PW_HAVE_madvise_free_single_vma
#define madvise_free_single_vma(...) ({ PW_UNMODELLED("madvise_free_single_vma"); 0L; })
#endif

#endif
