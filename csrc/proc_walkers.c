/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Harness for the tree's smaps, pagemap and mincore walks
 * (pywalk/variant/clients.py slices them; PW_CLIENT_<name> says which this
 * tree has).  Each is run with the locking and private data its kernel
 * caller gives it:
 *   smaps    read of /proc/PID/smaps: show_smap() for each vma, under
 *            mmap_lock for read (seq_file's m_start()), gathers with
 *            smap_gather_stats(vma, mss, 0), which for a vma that is not
 *            shmem (none here is) is walk_page_vma(vma, &smaps_walk_ops, mss).
 *            7.x's smap_gather_stats() picks the ops by how the reader
 *            locked (get_smaps_walk_ops()); the shim has CONFIG_PER_VMA_LOCK
 *            off, so 7.x's m_start() takes mmap_lock, as here.
 *   pagemap  read of /proc/PID/pagemap covering [start, end): pagemap_read()
 *            with a buffer of PAGEMAP_WALK_SIZE >> PAGE_SHIFT entries, one
 *            walk_page_range(pagemap_ops) per PAGEMAP_WALK_SIZE window, each
 *            under mmap_lock for read; show_pfn as for CAP_SYS_ADMIN.
 *   mincore  mincore(2) of [start, end): the syscall's loop, the tree's
 *            do_mincore() of at most PAGE_SIZE pages (one page of vec) at a
 *            time, each under mmap_lock for read (do_mincore() looks the vma
 *            up and walks it with mincore_walk_ops).
 * ops: the client's own (NULL), or a census copy of them (csrc/clients.c);
 * mincore's census walks as do_mincore() does, with those ops.
 */

#ifndef PW_CLIENT_SMAPS
#define PW_CLIENT_SMAPS 0
#endif
#ifndef PW_CLIENT_PAGEMAP
#define PW_CLIENT_PAGEMAP 0
#endif
#ifndef PW_CLIENT_MINCORE
#define PW_CLIENT_MINCORE 0
#endif

static int pw_is_proc_walker(int walker)
{
	return walker >= PW_WALK_TREE_SMAPS && walker <= PW_WALK_TREE_MINCORE;
}

static int pw_proc_has(int walker)
{
	switch (walker) {
	case PW_WALK_TREE_SMAPS:
		return PW_CLIENT_SMAPS + 0;
	case PW_WALK_TREE_PAGEMAP:
		return PW_CLIENT_PAGEMAP + 0;
	case PW_WALK_TREE_MINCORE:
		return PW_CLIENT_MINCORE + 0;
	}
	return 0;
}

static const struct mm_walk_ops *pw_proc_ops(int walker)
{
	switch (walker) {
#if PW_CLIENT_SMAPS
	case PW_WALK_TREE_SMAPS:
		return pw_tree_smaps_walk_ops;
#endif
#if PW_CLIENT_PAGEMAP
	case PW_WALK_TREE_PAGEMAP:
		return pw_tree_pagemap_ops;
#endif
#if PW_CLIENT_MINCORE
	case PW_WALK_TREE_MINCORE:
		return pw_tree_mincore_walk_ops;
#endif
	}
	return NULL;
}

#if PW_CLIENT_MINCORE
/* do_mincore() of a census walk: its vma lookup and range, the census ops */
static long pw_mincore_census(struct mm_struct *mm, unsigned long addr, unsigned long pages,
			      unsigned char *vec, const struct mm_walk_ops *ops)
{
	struct vm_area_struct *vma = find_vma(mm, addr);
	unsigned long end;
	int err;

	if (!vma || addr < vma->vm_start)
		return -ENOMEM;
	end = min(vma->vm_end, addr + (pages << PAGE_SHIFT));
	err = walk_page_range(mm, addr, end, ops, vec);
	return err < 0 ? err : (long)((end - addr) >> PAGE_SHIFT);
}
#endif

static int pw_proc_walk(struct mm_struct *mm, unsigned long start, unsigned long end,
			int walker, const struct mm_walk_ops *ops, struct pw_walk_counts *counts)
{
	const struct mm_walk_ops *own = pw_proc_ops(walker);
	int r = -ENOSYS;

	if (!own)
		return r;
	if (!ops)
		ops = own;
	switch (walker) {
#if PW_CLIENT_SMAPS
	case PW_WALK_TREE_SMAPS: {
		struct mem_size_stats mss;	/* kernel: show_smap()'s, zeroed per vma */
		unsigned long addr = start;
		struct vm_area_struct *vma;

		r = 0;
		mmap_read_lock(mm);
		while (addr < end && (vma = find_vma(mm, addr)) && vma->vm_start < end) {
			memset(&mss, 0, sizeof(mss));
			walk_page_vma(vma, ops, &mss);	/* smap_gather_stats() ignores its result */
			if (counts)
				counts->pte_present += mss.resident >> PAGE_SHIFT;
			addr = vma->vm_end;
		}
		mmap_read_unlock(mm);
		break;
	}
#endif
#if PW_CLIENT_PAGEMAP
	case PW_WALK_TREE_PAGEMAP: {
		/* kernel: pm.buffer, kmalloc'ed per read(); one per thread here */
		static __thread pagemap_entry_t *buffer;
		unsigned long count = ((end - start) >> PAGE_SHIFT) * PM_ENTRY_BYTES;
		unsigned long addr = start, next, len;
		struct pagemapread pm;

		pm.show_pfn = true;	/* file_ns_capable(CAP_SYS_ADMIN): root */
		pm.len = (PAGEMAP_WALK_SIZE >> PAGE_SHIFT);
		if (!buffer)
			buffer = calloc(pm.len, PM_ENTRY_BYTES);
		if (!buffer)
			return -ENOMEM;
		pm.buffer = buffer;
		r = 0;
		while (count && addr < end) {
			pm.pos = 0;
			next = (addr + PAGEMAP_WALK_SIZE) & PAGEMAP_WALK_MASK;
			if (next < addr || next > end)
				next = end;
			mmap_read_lock(mm);
			r = walk_page_range(mm, addr, next, ops, &pm);
			mmap_read_unlock(mm);
			addr = next;
			len = min(count, PM_ENTRY_BYTES * pm.pos);
			count -= len;	/* kernel: copy_to_user() of len bytes */
			for (int i = 0; counts && i < pm.pos; i++)
				counts->pte_present += !!(pm.buffer[i].pme & PM_PRESENT);
		}
		if (r == PM_END_OF_BUFFER)	/* pagemap_read(): a full buffer is no error */
			r = 0;
		break;
	}
#endif
#if PW_CLIENT_MINCORE
	case PW_WALK_TREE_MINCORE: {
		static __thread unsigned char vec[PAGE_SIZE];	/* kernel: sys_mincore()'s tmp page */
		unsigned long pages = (end - start) >> PAGE_SHIFT, addr = start;
		long done;

		if (current->mm != mm)	/* do_mincore() looks the vma up in current->mm */
			return -EINVAL;
		r = 0;
		while (pages) {
			mmap_read_lock(mm);
			if (ops == own)
				done = pw_tree_do_mincore(addr, min(pages, PAGE_SIZE), vec);
			else
				done = pw_mincore_census(mm, addr, min(pages, PAGE_SIZE), vec, ops);
			mmap_read_unlock(mm);
			if (done <= 0) {
				r = done;
				break;
			}
			for (long i = 0; counts && i < done; i++)
				counts->pte_present += vec[i] & 1;
			pages -= done;
			addr += done << PAGE_SHIFT;
		}
		break;
	}
#endif
	}
	return r;
}
