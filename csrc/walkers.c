/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * Built-in walkers for the tree's walk_page_range().  Each is modelled on a
 * real user of the page walker; the callbacks only count.
 */

struct pw_walk_priv {
	struct pw_walk_counts *c;
	void *pyhandle;
	struct pw_split_watch watch;	/* splits and retries (shim: pw_note_split()) */
};

#define PW_COUNTS(walk) (((struct pw_walk_priv *)(walk)->private)->c)
/* the walk's next step, for telling retries after a split (no TLS here) */
#define pw_walk_seen(level, a) \
	pw_watch_step(&((struct pw_walk_priv *)walk->private)->watch, (level), (a))

/* Count this thread's splits into priv's watch during a walk. */
static inline void pw_watch_begin(struct pw_walk_priv *priv)
{
	memset(&priv->watch, 0, sizeof(priv->watch));
	pw_cur.watch = &priv->watch;
}

static inline void pw_watch_end(struct pw_walk_priv *priv, struct pw_walk_counts *c)
{
	pw_cur.watch = NULL;
	c->pud_splits += priv->watch.splits[0];
	c->pmd_splits += priv->watch.splits[1];
	c->retries += priv->watch.retries;
	priv->watch.splits[0] = priv->watch.splits[1] = priv->watch.retries = 0;
	priv->watch.level = 0;
}

static int pw_cnt_pgd(pgd_t *pgd, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	PW_COUNTS(walk)->pgd_entry++;
	pw_walk_seen(0, a);
	return 0;
}

static int pw_cnt_p4d(p4d_t *p4d, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	PW_COUNTS(walk)->p4d_entry++;
	pw_walk_seen(1, a);
	return 0;
}

static int pw_cnt_pud(pud_t *pud, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	pud_t v = pw_pudp_get(pud);

	PW_COUNTS(walk)->pud_entry++;
	pw_walk_seen(2, a);
	if (pud_leaf(v))
		PW_COUNTS(walk)->pud_leaf++;
	return 0;
}

static int pw_cnt_pmd(pmd_t *pmd, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	pmd_t v = pw_pmdp_get(pmd);

	PW_COUNTS(walk)->pmd_entry++;
	pw_walk_seen(3, a);
	if (pmd_leaf(v))
		PW_COUNTS(walk)->pmd_leaf++;
	return 0;
}

static int pw_cnt_pte(pte_t *pte, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	PW_COUNTS(walk)->pte_entry++;	/* (a pte is never a split's next step: not watched) */
	if (pte_present(pw_ptep_get(pte)))
		PW_COUNTS(walk)->pte_present++;
	return 0;
}

static int pw_cnt_hole(unsigned long a, unsigned long n, int depth, struct mm_walk *walk)
{
	PW_COUNTS(walk)->pte_hole++;
	pw_walk_seen(depth, a);
	return 0;
}

/*
 * numa_maps-like (fs/proc/task_mmu.c gather_pte_stats()): a pmd_entry that
 * handles a huge pmd under pmd_trans_huge_lock() and no pud_entry, so a
 * huge PUD is split by walk_pud_range() before the pmd level is walked.
 */
static int pw_numa_pmd(pmd_t *pmd, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	spinlock_t *ptl = pmd_trans_huge_lock(pmd, walk->vma);

	PW_COUNTS(walk)->pmd_entry++;
	pw_walk_seen(3, a);
	if (ptl) {
		PW_COUNTS(walk)->pmd_leaf++;
		spin_unlock(ptl);
		walk->action = ACTION_CONTINUE;
	}
	return 0;
}

/*
 * dirty-tracking-like (mm/mapping_dirty_helpers.c): a pud_entry and
 * pmd_entry that leave huge entries alone with ACTION_CONTINUE.  It never
 * reaches a split, so its callbacks (the static benchmark's) do not watch
 * for retries.
 */
static int pw_dirty_pud(pud_t *pud, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	pud_t v = pw_pudp_get(pud);

	PW_COUNTS(walk)->pud_entry++;	/* (never splits: not watched) */
	if (pud_trans_huge(v) || pw_pud_devmap(v)) {
		PW_COUNTS(walk)->pud_leaf++;
		walk->action = ACTION_CONTINUE;
	}
	return 0;
}

static int pw_dirty_pmd(pmd_t *pmd, unsigned long a, unsigned long n, struct mm_walk *walk)
{
	pmd_t v = pw_pmdp_get(pmd);

	PW_COUNTS(walk)->pmd_entry++;
	if (pmd_trans_huge(v) || pw_pmd_devmap(v)) {
		PW_COUNTS(walk)->pmd_leaf++;
		walk->action = ACTION_CONTINUE;
	}
	return 0;
}

/* ---- Python callables (pywalk.api.Walker) ---- */
static int pw_py_callback(void *handle, int kind, unsigned long addr, unsigned long end,
			  unsigned long val, int depth);

static int pw_py_call(struct mm_walk *walk, int kind, unsigned long a, unsigned long n,
		      unsigned long val, int depth)
{
	struct pw_walk_priv *priv = walk->private;
	int r;

	pw_watch_step(&priv->watch, depth, a);
	pw_cur.active = 0;	/* Python code is not kernel code */
	r = pw_py_callback(priv->pyhandle, kind, a, n, val, depth);
	pw_cur.active = 1;
	pw_check_panic();
	if (r & PW_PY_ACTION) {
		walk->action = r & ~PW_PY_ACTION;
		return 0;
	}
	return r;
}

static int pw_py_pgd(pgd_t *e, unsigned long a, unsigned long n, struct mm_walk *w)
{ return pw_py_call(w, PW_CB_PGD_ENTRY, a, n, pgd_val(*e), 0); }
static int pw_py_p4d(p4d_t *e, unsigned long a, unsigned long n, struct mm_walk *w)
{ return pw_py_call(w, PW_CB_P4D_ENTRY, a, n, p4d_val(*e), 1); }
static int pw_py_pud(pud_t *e, unsigned long a, unsigned long n, struct mm_walk *w)
{ return pw_py_call(w, PW_CB_PUD_ENTRY, a, n, pud_val(pw_pudp_get(e)), 2); }
static int pw_py_pmd(pmd_t *e, unsigned long a, unsigned long n, struct mm_walk *w)
{ return pw_py_call(w, PW_CB_PMD_ENTRY, a, n, pmd_val(pw_pmdp_get(e)), 3); }
static int pw_py_pte(pte_t *e, unsigned long a, unsigned long n, struct mm_walk *w)
{ return pw_py_call(w, PW_CB_PTE_ENTRY, a, n, pte_val(pw_ptep_get(e)), 4); }
static int pw_py_hole(unsigned long a, unsigned long n, int depth, struct mm_walk *w)
{ return pw_py_call(w, PW_CB_PTE_HOLE, a, n, 0, depth); }

/* Fill ops for a walker kind (and, for COUNT/PYTHON, a callback mask). */
static void pw_walker_ops(struct mm_walk_ops *ops, int walker, int mask)
{
	memset(ops, 0, sizeof(*ops));
#if PW_TREE_WALK_LOCK
	ops->walk_lock = PGWALK_RDLOCK;
#endif
	switch (walker) {
	case PW_WALK_NUMA_MAPS:
		ops->pmd_entry = pw_numa_pmd;
		ops->pte_entry = pw_cnt_pte;
		ops->pte_hole = pw_cnt_hole;
		return;
	case PW_WALK_DIRTY:
		ops->pud_entry = pw_dirty_pud;
		ops->pmd_entry = pw_dirty_pmd;
		ops->pte_entry = pw_cnt_pte;
		return;
	case PW_WALK_PMD_PTE:
		mask = PW_CB_PMD_ENTRY | PW_CB_PTE_ENTRY | PW_CB_PTE_HOLE;
		walker = PW_WALK_COUNT;
		break;
	}
	if (walker == PW_WALK_PYTHON) {
		if (mask & PW_CB_PGD_ENTRY) ops->pgd_entry = pw_py_pgd;
		if (mask & PW_CB_P4D_ENTRY) ops->p4d_entry = pw_py_p4d;
		if (mask & PW_CB_PUD_ENTRY) ops->pud_entry = pw_py_pud;
		if (mask & PW_CB_PMD_ENTRY) ops->pmd_entry = pw_py_pmd;
		if (mask & PW_CB_PTE_ENTRY) ops->pte_entry = pw_py_pte;
		if (mask & PW_CB_PTE_HOLE) ops->pte_hole = pw_py_hole;
		return;
	}
	if (mask & PW_CB_PGD_ENTRY) ops->pgd_entry = pw_cnt_pgd;
	if (mask & PW_CB_P4D_ENTRY) ops->p4d_entry = pw_cnt_p4d;
	if (mask & PW_CB_PUD_ENTRY) ops->pud_entry = pw_cnt_pud;
	if (mask & PW_CB_PMD_ENTRY) ops->pmd_entry = pw_cnt_pmd;
	if (mask & PW_CB_PTE_ENTRY) ops->pte_entry = pw_cnt_pte;
	if (mask & PW_CB_PTE_HOLE) ops->pte_hole = pw_cnt_hole;
}
