/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: checker.
 * pywalk shim: page-table accounting and leaks, checked whenever the
 * harness holds mmap_lock for write (the reaper's teardown passes), when
 * no fault, walk or zap of the mm is under way.
 *
 * - check_mm() (kernel/fork.c): the mm's counters, which the tree's code
 *   keeps (mm_inc_nr_pmds() in __pmd_alloc(), ...), must count the tables
 *   reachable from the pgd ("BUG: non-zero pgtables_bytes on freeing mm"
 *   is the same check at the very end).
 * - kmemleak: every table page allocated to the mm (pud/pmd/pte_alloc_one())
 *   and not freed must be reachable from the pgd; one that is not was
 *   leaked, e.g. overwritten by a populate that did not look.
 * - a reachable table must not have been freed (or handed to another mm):
 *   a table freed while still linked.
 * The reaper's teardown is the tree's own (zap, then free_pgd_range():
 * csrc/scenarios.c), so the tree's free_pmd_range()/free_pte_range() keep
 * the counters as they free.
 * No kernel counterpart beyond those named.
 */

static void pw_leak_report(struct mm_struct *mm, int bit, const char *msg)
{
	if (__atomic_fetch_or(&mm->pw_leak_reported, bit, __ATOMIC_RELAXED) & bit)
		return;		/* a leak stays: once per mm */
	pw_warn_kind(PW_OOPS_LEAK, NULL, 0, msg);
}

static int pw_leak_table_ok(struct mm_struct *mm, void *table, int level, const char *what)
{
	struct page *pg = virt_to_page(table);
	char msg[160];

	if (pg->pw_mm == mm && pg->pw_level == level)
		return 1;
	snprintf(msg, sizeof(msg), "page table freed while reachable: a %s table at %#lx is %s",
		 what, __pa(table), pg->pw_mm ? "another mm's" : "free");
	pw_leak_report(mm, 4, msg);
	return 0;
}

/* pages a huge leaf counts in the mm's rss: a folio mapping (7.x device-dax:
 * insert_pud()/insert_pmd() with a folio, add_mm_counter()); not a special
 * (pfnmap) or devmap (6.x DAX) leaf, nor one without a struct page */
static long pw_leaf_rss(unsigned long val, unsigned long pfn, long nr)
{
	if (val & (_PAGE_SPECIAL | _PAGE_DEVMAP) || !pw_pfn_has_memmap(pfn))
		return 0;
	return pw_page_zone_device(pfn_to_page(pfn)) ? nr : 0;
}

/* kernel: check_mm()'s "Bad rss-counter state": the counters must be what
 * is mapped (when is_final, nothing) */
static void pw_check_rss(struct mm_struct *mm, long file_pages)
{
	char msg[160];

	for (int i = 0; i < NR_MM_COUNTERS; i++) {
		long v = __atomic_load_n(&mm->pw_rss[i], __ATOMIC_RELAXED);
		long want = i == MM_FILEPAGES ? file_pages : 0;

		if (v == want)
			continue;
		snprintf(msg, sizeof(msg), "BUG: Bad rss-counter state mm:%p type:%s val:%ld "
			 "(mapped: %ld)", (void *)mm,
			 (const char *[]){ "MM_FILEPAGES", "MM_ANONPAGES", "MM_SWAPENTS",
					   "MM_SHMEMPAGES" }[i], v, want);
		pw_leak_report(mm, 8, msg);
		return;
	}
}

/* Under mmap_lock for write: counters and reachability (see above). */
void pw_check_tables(struct mm_struct *mm)
{
	long puds = 0, pmds = 0, ptes = 0, live, rss = 0;
	char msg[200];

	for (int i = 0; i < PTRS_PER_PGD; i++) {
		p4d_t p4d = *(p4d_t *)&mm->pgd[i];
		pud_t *pud;

		if (p4d_none(p4d))
			continue;
		pud = p4d_pgtable(p4d);
		if (!pw_leak_table_ok(mm, pud, PW_LEVEL_PUD, "pud"))
			continue;
		puds++;
		for (int j = 0; j < PTRS_PER_PUD; j++) {
			pud_t u = pw_pudp_get(&pud[j]);
			pmd_t *pmd;

			if (pud_leaf(u))
				rss += pw_leaf_rss(pud_val(u), pud_pfn(u), 1L << (PUD_SHIFT - PAGE_SHIFT));
			if (pud_none(u) || pud_leaf(u))
				continue;
			pmd = pud_pgtable(u);
			if (!pw_leak_table_ok(mm, pmd, PW_LEVEL_PMD, "pmd"))
				continue;
			pmds++;
			for (int k = 0; k < PTRS_PER_PMD; k++) {
				pmd_t d = pw_pmdp_get(&pmd[k]);

				if (pmd_leaf(d))
					rss += pw_leaf_rss(pmd_val(d), pmd_pfn(d), 1L << (PMD_SHIFT - PAGE_SHIFT));
				if (pmd_none(d) || pmd_leaf(d))
					continue;
				if (pw_leak_table_ok(mm, page_address(pmd_page(d)), PW_LEVEL_PTE, "pte"))
					ptes++;
			}
		}
	}
	if (mm->nr_puds != puds || mm->nr_pmds != pmds || mm->nr_ptes != ptes) {
		snprintf(msg, sizeof(msg), "check_mm: counters nr_puds %ld nr_pmds %ld nr_ptes %ld, "
			 "reachable tables %ld pud %ld pmd %ld pte", mm->nr_puds, mm->nr_pmds,
			 mm->nr_ptes, puds, pmds, ptes);
		pw_leak_report(mm, 1, msg);
	}
	live = __atomic_load_n(&mm->pw_live_tables, __ATOMIC_RELAXED);
	if (live != puds + pmds + ptes) {
		snprintf(msg, sizeof(msg), "kmemleak: %ld page-table page(s) allocated to this mm "
			 "are neither reachable nor freed (%ld allocated, %ld reachable)",
			 live - (puds + pmds + ptes), live, puds + pmds + ptes);
		pw_leak_report(mm, 2, msg);
	}
	pw_check_rss(mm, rss);
}

/* kernel: check_mm() (kernel/fork.c), after the tree's exit_mmap()-like
 * teardown (csrc/api.c pw_mm_teardown()): no table may still be counted,
 * none allocated and not freed, none still linked. */
void pw_check_mm(struct mm_struct *mm)
{
	long bytes = (mm->nr_ptes + mm->nr_pmds + mm->nr_puds) * (long)PAGE_SIZE;
	char msg[120];

	if (bytes) {
		snprintf(msg, sizeof(msg), "non-zero pgtables_bytes on freeing mm: %ld", bytes);
		pw_leak_report(mm, 1, msg);
	}
	pw_check_tables(mm);
}
