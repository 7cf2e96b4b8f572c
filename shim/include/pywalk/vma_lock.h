/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: per-VMA locks (CONFIG_PER_VMA_LOCK), for trees that have
 * them (PW_TREE_PER_VMA_LOCK, pywalk/tree/facts.py: lock_vma_under_rcu()
 * and the Kconfig option, which x86 selects).
 *
 * Written from the documented behaviour (include/linux/mmap_lock.h,
 * Documentation/mm/process_addrs.rst), not sliced: the tree's
 * lock_vma_under_rcu() walks the maple tree under RCU, and its
 * vma_start_read() differs between trees (6.12: vma->vm_lock, an rwsem;
 * 7.x: vma->vm_refcnt, a reference count with a writer bit), none of which
 * the shim has; the contract they implement is the same and is what the
 * harness needs:
 *   - a user fault first tries lock_vma_under_rcu(): the vma at the
 *     address, read-locked, or NULL (then it takes mmap_lock for read);
 *   - vma_start_read() fails while the vma is write-locked, i.e. while a
 *     writer that called vma_start_write() on it still holds mmap_lock for
 *     write (vm_lock_seq == mm_lock_seq), or while vma_start_write() is
 *     waiting for readers to leave;
 *   - taking mmap_lock for write does NOT exclude a VMA-locked fault: only
 *     vma_start_write() on the vma does (munmap(), mprotect(), ...); a writer
 *     of mm->flags (prctl()) calls none, so faults go on under it;
 *   - mmap_write_unlock() ends every vma write lock of that period
 *     (vma_end_write_all(): mm_lock_seq moves on).
 * The names are pw_ ones: they stand for the tree's, which the tree's own
 * code compiled here never calls (only the harness's fault entry,
 * csrc/api.c pw_do_fault(), and its munmap()-like reaper do).
 */
#ifndef PYWALK_SHIM_VMA_LOCK_H
#define PYWALK_SHIM_VMA_LOCK_H

/* kernel: __is_vma_write_locked(): vm_lock_seq == mm_lock_seq (ours + 1) */
static inline bool pw_vma_write_locked(struct vm_area_struct *vma)
{
	return __atomic_load_n(&vma->pw_vm_lock_seq, __ATOMIC_RELAXED) ==
	       __atomic_load_n(&vma->vm_mm->pw_mm_lock_seq, __ATOMIC_ACQUIRE) + 1;
}

/* kernel: vma_start_read(): try to read-lock the vma; false (no wait) when a
 * writer has it or is taking it */
static inline bool pw_vma_start_read(struct vm_area_struct *vma)
{
	if (pw_vma_write_locked(vma))
		return false;
	if (!down_read_trylock(&vma->pw_vm_lock))
		return false;
	/* a writer that locked it between the check and the trylock */
	if (pw_vma_write_locked(vma)) {
		up_read(&vma->pw_vm_lock);
		return false;
	}
	__atomic_fetch_add(&vma->vm_mm->pw_vma_readers, 1, __ATOMIC_ACQ_REL);
	return true;
}

/* kernel: vma_end_read() */
static inline void pw_vma_end_read(struct vm_area_struct *vma)
{
	__atomic_fetch_sub(&vma->vm_mm->pw_vma_readers, 1, __ATOMIC_ACQ_REL);
	up_read(&vma->pw_vm_lock);
}

/* kernel: vma_start_write(), under mmap_lock for write: wait for the vma's
 * readers to leave, then mark it write-locked until mmap_write_unlock() */
static inline void pw_vma_start_write(struct vm_area_struct *vma)
{
	mmap_assert_write_locked(vma->vm_mm);
	if (pw_vma_write_locked(vma))
		return;
	down_write(&vma->pw_vm_lock);
	__atomic_store_n(&vma->pw_vm_lock_seq,
			 __atomic_load_n(&vma->vm_mm->pw_mm_lock_seq, __ATOMIC_RELAXED) + 1,
			 __ATOMIC_RELEASE);
	up_write(&vma->pw_vm_lock);
}

/* kernel: lock_vma_under_rcu(): the vma at address, read-locked, or NULL.
 * The vma array only grows while the mm lives (csrc/api.c publishes a new
 * entry after filling it in) and a vma is freed only with the mm, so a
 * lookup without mmap_lock sees whole vmas, as the kernel's RCU walk of its
 * maple tree does. */
static inline struct vm_area_struct *pw_lock_vma_under_rcu(struct mm_struct *mm,
							   unsigned long address)
{
	int n = __atomic_load_n(&mm->nr_vmas, __ATOMIC_ACQUIRE);
	struct vm_area_struct *vma = NULL;

	for (int i = 0; i < n; i++) {
		struct vm_area_struct *v = __atomic_load_n(&mm->vmas[i], __ATOMIC_ACQUIRE);

		if (v->vm_end > address) {
			vma = v;
			break;
		}
	}
	if (!vma || !pw_vma_start_read(vma))
		return NULL;
	/* kernel: "Check since vm_start/vm_end might change before we lock the VMA" */
	if (address < vma->vm_start || address >= vma->vm_end) {
		pw_vma_end_read(vma);
		return NULL;
	}
	return vma;
}

/* Write-lock every vma of mm (under mmap_lock for write), as munmap() does
 * the vmas it detaches before freeing their page tables: no VMA-locked
 * fault is then under way in them (harness: reaper and teardown). */
static inline void pw_vma_start_write_all(struct mm_struct *mm)
{
#if PW_TREE_PER_VMA_LOCK
	for (int i = 0; i < mm->nr_vmas; i++)
		pw_vma_start_write(mm->vmas[i]);
#endif
}

#endif
