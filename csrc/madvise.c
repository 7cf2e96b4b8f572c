/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * The zapper's entry: madvise(MADV_DONTNEED) into the tree's mm/madvise.c
 * (pw_zap() in api.c and the ZAPPER role in scenarios.c call it).
 */

/*
 * madvise(start, end - start, MADV_DONTNEED), as do_madvise() runs it: the
 * lock madvise takes for it, then, vma by vma as madvise_walk_vmas() goes
 * (a hole: -ENOMEM at the end, the walk goes on), the tree's
 * madvise_dontneed_free(), which madvise_vma_behavior() calls for
 * MADV_DONTNEED: its VMA check (madvise_dontneed_free_valid_vma(): -EINVAL
 * for VM_PFNMAP, VM_LOCKED, ...; the walk stops there, as the kernel's) and
 * its zap (madvise_dontneed_single_vma()).  What is ours: the syscall's
 * range checks and the vma-list walk.
 *
 * The lock: mmap_lock for read (6.x: madvise_need_mmap_write() is 0 for
 * MADV_DONTNEED).  7.x takes a per-VMA read lock instead
 * (get_lock_mode(): MADVISE_VMA_READ_LOCK, lock_vma_under_rcu() in
 * madvise_walk_vmas(), mmap_lock only as the fallback); the shim does not
 * model per-VMA locks for madvise yet, so it takes mmap_lock for read
 * there too, and tells the tree so (lock_mode MADVISE_MMAP_READ_LOCK, as
 * try_vma_read_lock()'s fallback sets it).  Either way a fault (mmap_lock
 * or vma lock for read) runs beside it.
 */
static int pw_do_madvise_dontneed(struct mm_struct *mm, unsigned long start, unsigned long end)
{
	struct vm_area_struct *vma;
	unsigned long s = start;
	int unmapped_error = 0;
	long err = 0;
#if PW_TREE_MADVISE_BEHAVIOR
	struct mmu_gather tlb;
	struct madvise_behavior mb = {
		.mm = mm,
		.behavior = MADV_DONTNEED,
		.tlb = &tlb,
		.lock_mode = MADVISE_MMAP_READ_LOCK,
	};
#else
	struct vm_area_struct *prev;
#endif

	if ((start & ~PAGE_MASK) || end < start)
		return -EINVAL;
	mmap_read_lock(mm);
#if PW_TREE_MADVISE_BEHAVIOR
	tlb_gather_mmu(&tlb, mm);	/* madvise_init_tlb(): MADV_DONTNEED batches */
#endif
	while (s < end && (vma = find_vma(mm, s))) {
		unsigned long e = min(end, vma->vm_end);

		if (s < vma->vm_start) {
			unmapped_error = -ENOMEM;
			s = vma->vm_start;
			if (s >= end)
				break;
		}
#if PW_TREE_MADVISE_BEHAVIOR
		mb.vma = vma;
		mb.prev = NULL;
		mb.range.start = s;
		mb.range.end = e;
		err = madvise_dontneed_free(&mb);
#else
		err = madvise_dontneed_free(vma, &prev, s, e, MADV_DONTNEED);
#endif
		if (err)
			break;
		s = e;
	}
	if (!err && s < end)
		unmapped_error = -ENOMEM;
#if PW_TREE_MADVISE_BEHAVIOR
	tlb_finish_mmu(&tlb);		/* madvise_finish_tlb() */
#endif
	mmap_read_unlock(mm);
	return err ? err : unmapped_error;
}
