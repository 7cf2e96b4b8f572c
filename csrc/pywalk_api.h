/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: harness.
 * The C API that Python sees (cffi cdef is read from this file: keep it to
 * plain declarations).  Every call that runs kernel code is guarded: an oops
 * inside it returns PW_ERR_OOPS and leaves a report in the mm.
 *
 * The one definition of every constant the harness shares with Python:
 * Python reads the #define PW_* and enum lines of this file at import
 * (pywalk/variant/consts.py documents how names derive from them), and the
 * shim includes it (shim/include/pywalk/runtime.h).  Keep values decimal
 * integer literals.
 */
#ifndef PYWALK_API_H
#define PYWALK_API_H

#define PW_ERR_OOPS -1000	/* this call oopsed: see pw_mm_oops() */
#define PW_ERR_PANIC -1001	/* stopped by another thread's oops */
#define PW_ERR_TAINTED -1002	/* the mm had oopsed before this call */
#define PW_ERR_NOVMA -1003	/* no mapping at that address */

/*
 * A page-table level, named and numbered as the kernel's enum pgtable_level
 * (include/linux/pgtable.h since 6.18; not given to older trees, so ours has
 * its own names).  pw_lookup()'s level, pw_map()'s huge_level (the largest
 * leaf a mapping allows: PW_LEVEL_PTE, no huge leaves) and a table page's
 * level in the shim.  The walk's depth (pgd 0 .. pte 4, pte_hole()'s depth)
 * is the kernel's own convention and stays.
 */
enum pw_level {
	PW_LEVEL_PTE = 0,
	PW_LEVEL_PMD = 1,
	PW_LEVEL_PUD = 2,
	PW_LEVEL_P4D = 3,
	PW_LEVEL_PGD = 4,
};

/* pw_lookup()'s state of the deepest entry for an address */
enum pw_state {
	PW_STATE_NONE = 0,	/* pte_none() and the like: nothing there */
	PW_STATE_TABLE = 1,	/* a table below (not returned: the lookup goes down) */
	PW_STATE_LEAF = 2,	/* a huge leaf */
	PW_STATE_PRESENT = 3,	/* a pte that is not none */
	PW_STATE_BAD = 4,	/* an entry no accessor accepts */
};

/* Where a shim hook sits (pw_hook(), shim/include/pywalk/runtime.h): the
 * order is the bit of a site in pw_sched_params.site_mask and its index in
 * pw_mm_set_delays()'s arrays. */
enum pw_site {
	PW_SITE_LOCK = 0,		/* before taking a spinlock or mmap_lock */
	PW_SITE_UNLOCK = 1,		/* after releasing one */
	PW_SITE_LOAD = 2,		/* before a page-table entry load by the shim */
	PW_SITE_STORE = 3,		/* after a page-table entry store */
	PW_SITE_FAULT_RETURN = 4,	/* the fake driver's huge_fault returning */
	/* instrumented builds (shim/src/tsan.c): before each access the tree's
	 * compiled code makes, by kind (KCSAN's plain / marked / atomic) */
	PW_SITE_READ = 5,		/* a plain load */
	PW_SITE_WRITE = 6,		/* a plain store */
	PW_SITE_MARKED_READ = 7,	/* a volatile load: READ_ONCE() and the like */
	PW_SITE_MARKED_WRITE = 8,	/* a volatile store: WRITE_ONCE() */
	PW_SITE_ATOMIC = 9,		/* an __atomic builtin (any operation) */
	PW_NR_SITES = 10,
};

/* walkers (csrc/walkers.c) */
#define PW_WALK_COUNT 0		/* counts every callback, has all of them */
#define PW_WALK_NUMA_MAPS 1	/* pmd_entry + pte_entry, no pud_entry (fs/proc numa_maps) */
#define PW_WALK_DIRTY 2		/* pud_entry leaves huge PUDs alone (ACTION_CONTINUE) + pmd/pte */
#define PW_WALK_PYTHON 3	/* callbacks into Python */
#define PW_WALK_PMD_PTE 4	/* counting, pmd_entry + pte_entry + pte_hole only */
#define PW_WALK_TREE_NUMA_MAPS 5	/* the tree's show_numa_ops (fs/proc/task_mmu.c) */
#define PW_WALK_TREE_DIRTY 6	/* the tree's wp_walk_ops (mm/mapping_dirty_helpers.c) */
#define PW_WALK_TREE_CLEAN 7	/* the tree's clean_walk_ops (same) */
#define PW_WALK_TREE_SMAPS 8	/* the tree's smaps_walk_ops (fs/proc/task_mmu.c) */
#define PW_WALK_TREE_PAGEMAP 9	/* the tree's pagemap_ops (same) */
#define PW_WALK_TREE_MINCORE 10	/* the tree's mincore_walk_ops, by do_mincore() (mm/mincore.c) */

/* huge-fault drivers (csrc/driver.c, csrc/clients.c) */
#define PW_DRIVER_WRITE_NOTIFY 0	/* ours: a DAX-like device, write faults may fall back */
#define PW_DRIVER_DAX 1		/* the tree's dev_dax_huge_fault() */
#define PW_DRIVER_VFIO 2	/* the tree's vfio_pci_mmap_huge_fault() */

/* callback mask for PW_WALK_COUNT / PW_WALK_PYTHON: a bit per struct mm_walk_ops member */
#define PW_CB_PGD_ENTRY 1
#define PW_CB_P4D_ENTRY 2
#define PW_CB_PUD_ENTRY 4
#define PW_CB_PMD_ENTRY 8
#define PW_CB_PTE_ENTRY 16
#define PW_CB_PTE_HOLE 32
/* a PW_WALK_PYTHON callback returns PW_PY_ACTION | enum page_walk_action to
 * set walk->action (1 << 20: above any errno, below any count) */
#define PW_PY_ACTION 1048576

struct pw_walk_counts {
	long pgd_entry, p4d_entry, pud_entry, pmd_entry, pte_entry, pte_hole;
	long pud_leaf, pmd_leaf, pte_present;
	/* the split path (shim: pw_note_split()): entries a split cleared, at the
	 * PUD and PMD level, and splits after which the walk went back to the
	 * same entry (goto again / ACTION_AGAIN) */
	long pud_splits, pmd_splits, retries;
};

struct pw_mm;
#define PW_MAX_WARNS 8		/* an mm keeps its first 8 WARN reports */

int pw_init(void);
int pw_install_signal_handlers(void);
struct pw_mm *pw_mm_new(void);
void pw_mm_free(struct pw_mm *m);
int pw_mm_panicked(struct pw_mm *m);
int pw_mm_nwarns(struct pw_mm *m);
struct pw_report *pw_mm_oops(struct pw_mm *m);
struct pw_report *pw_mm_warn(struct pw_mm *m, int i);
/* KCSAN-style data races (shim/checkers/kcsan.c; instrumented builds only report) */
void pw_kcsan_setup(int enabled, unsigned int interval, unsigned int spins);
int pw_kcsan_nreports(void);
struct pw_report *pw_kcsan_report(int i);
#define PW_MAP_HALF_WRITE_NOTIFY 2	/* pw_map(): first half write-notify, second writable */
/* huge_level: the largest leaf a mapping allows (enum pw_level; PW_LEVEL_PTE: none) */
int pw_map(struct pw_mm *m, unsigned long size, int huge_level, int write_notify, unsigned long *start);
int pw_map_driver(struct pw_mm *m, unsigned long size, int driver, int huge_level,
		  unsigned long *start);
int pw_driver_has(int driver);
long pw_dax_folio_refs(void);
int pw_thp_disable(struct pw_mm *m, int disable);	/* prctl(PR_SET_THP_DISABLE, disable) */
int pw_mmap_write_hold(struct pw_mm *m, int *state, long timeout_ms);	/* tests: a writer of mm->flags */	/* references the tree holds on device-dax folios, all mms */
int pw_client_has(int walker);
int pw_fault(struct pw_mm *m, unsigned long addr, int write);
int pw_lookup(struct pw_mm *m, unsigned long addr, int *level, int *state);
int pw_walk(struct pw_mm *m, unsigned long start, unsigned long end, int walker, int cbmask,
	    struct pw_walk_counts *counts, void *pyhandle);
int pw_zap(struct pw_mm *m, unsigned long start, unsigned long end);
int pw_mm_teardown(struct pw_mm *m);	/* exit_mmap()'s teardown by the tree, then check_mm() */
int pw_poke_leaf(struct pw_mm *m, unsigned long addr);
/* pw_selftest()'s what: exercise the oops machinery */
#define PW_SELFTEST_BUG 0
#define PW_SELFTEST_WARN 1
#define PW_SELFTEST_USE_AFTER_FREE 2
int pw_selftest(struct pw_mm *m, int what);
void pw_set_thread(int tid, int role);	/* who the calling thread is, in reports */
long pw_table_pages_in_use(void);

/* scenarios (csrc/scenarios.c) */
#define PW_ROLE_WALKER 1
#define PW_ROLE_READER 2
#define PW_ROLE_WRITER 3
#define PW_ROLE_ZAPPER 4
#define PW_ROLE_REAPER 5
#define PW_ROLE_ABBA 6		/* tests only: harness locks in the wrong order (a deadlock to find) */
#define PW_ROLE_FLIPPER 7	/* prctl(PR_SET_THP_DISABLE) on and off (csrc/scenarios.c) */

struct pw_stress_cfg {
	int role;
	int walker;
	int tid;
	unsigned long long seed;
	unsigned long start, size;
	int pause_us;
	long lockup_ms;		/* soft-lockup watchdog: no op completed for this long (0: off) */
	long madvise_einval;	/* out: ZAPPER madvise() calls refused with -EINVAL */
};
/* pywalk bench: stores on m keep no history and meet no lock check (0: they do) */
void pw_mm_set_untracked(struct pw_mm *m, int untracked);
void pw_mm_set_delays(struct pw_mm *m, int enabled, unsigned int *prob,
		      unsigned int *max_spins, unsigned int yield_permille);
int pw_delays_in_use(void);	/* mms with delays on (in this variant) */
long pw_stress_run(struct pw_mm *m, struct pw_stress_cfg *c, long batch, int *stop,
		   long *ops_done);
void pw_stress_reseed(unsigned long long seed, int tid);
void pw_watchdog_set_lockup(long ms);	/* the calling thread's lockup time (0: off) */
int pw_watchdog_kick(void);	/* unwind every thread inside kernel code (shim/checkers/watchdog.c) */

/* benchmarks (csrc/bench.c) */
#define PW_BENCH_ERR_FAULT -1100	/* a fault returned OOM/SIGBUS/SIGSEGV */
struct pw_bench_seg {		/* populated addresses start, start + step, ... < end */
	unsigned long start, end, step;
	unsigned long first;	/* filled by pw_bench_refault() */
};
long pw_bench_populate(struct pw_mm *m, unsigned long start, unsigned long end,
		       unsigned long step, int write, unsigned long *bad_addr);
/* counts: summed over the iters walks */
int pw_bench_walk(struct pw_mm *m, unsigned long start, unsigned long end, int walker,
		  int cbmask, long iters, long long *ns_out, struct pw_walk_counts *counts);
#define PW_BENCH_FLOOR_SHIM 0	/* entry loads through the shim's accessors (and hook) */
#define PW_BENCH_FLOOR_RAW 1	/* plain loads, no hook */
#define PW_BENCH_FLOOR_CB 2	/* plain loads + the walker's callbacks */
int pw_bench_floor(struct pw_mm *m, unsigned long start, unsigned long end, int mode,
		   int walker, long iters, long long *ns_out, long *entries,
		   struct pw_walk_counts *counts);
int pw_bench_fingerprint(struct pw_mm *m, unsigned long start, unsigned long end,
			 unsigned long long *hash, long *entries, long *present);
/* pw_bench_refault()'s *stop */
#define PW_STOP_RUN 0
#define PW_STOP_EXIT 1		/* return */
#define PW_STOP_PAUSE 2		/* poll, holding nothing */
long pw_bench_refault(struct pw_mm *m, struct pw_bench_seg *segs, int nsegs,
		      unsigned long long seed, int tid, int *stop, long *ops);
/* paced refault and census walks (csrc/bench_paced.c) */
struct pw_bench_pace;
struct pw_bench_pace *pw_bench_pace_new(int nfaulters);
void pw_bench_pace_free(struct pw_bench_pace *p);
void pw_bench_pace_stop(struct pw_bench_pace *p);
long pw_bench_pace_faults(struct pw_bench_pace *p);
long pw_bench_pace_refault(struct pw_bench_pace *p);	/* one round; 0 or an error */
long pw_bench_pace_faulter(struct pw_mm *m, struct pw_bench_pace *p, struct pw_bench_seg *segs,
			   int nsegs, int k);
int pw_bench_walk_paced(struct pw_mm *m, struct pw_bench_pace *p, unsigned long start,
			unsigned long end, int walker, long iters, long long *ns_out,
			struct pw_walk_counts *counts);
int pw_bench_census(struct pw_mm *m, unsigned long start, unsigned long end, int walker,
		    struct pw_walk_counts *counts);
int pw_bench_census_paced(struct pw_mm *m, struct pw_bench_pace *p, unsigned long start,
			  unsigned long end, int walker, struct pw_walk_counts *counts);

/* controlled schedules (csrc/sched.c, csrc/sched_run.c) */
#define PW_MAX_SCHED_THREADS 16	/* threads of one scheduled run */
#define PW_TRACE_WAITS 255	/* pw_sched_trace.site: a lock waiter handed over (no hook site) */
#define PW_SCHED_PCT 1		/* PCT: random priorities, depth-1 change points */
#define PW_SCHED_RANDOM 2	/* a uniformly random runnable thread at every point */
#define PW_SCHED_REPLAY 3	/* run on; switch only where `switches` says */
struct pw_sched_params {
	int kind;
	unsigned long long seed;
	int depth;			/* PCT depth d: d-1 change points */
	long expect_steps;		/* PCT: change points drawn from 1..expect_steps */
	unsigned int site_mask;		/* bit per hook site that is a scheduling point */
	long max_steps;			/* a run longer than this is cut short */
	int nswitch;			/* replay: at step switch_step[i] run switch_tid[i] */
	long *switch_step;
	int *switch_tid;
	int *switch_by;			/* or, if not NULL: when thread switch_by[i] makes its */
	long *switch_local;		/* switch_local[i]-th decision (-1: the first decision) */
};
struct pw_sched_result {
	long steps;			/* scheduling decisions made */
	long finding_step;		/* decisions up to the first oops/WARN, or -1 */
	int deadlock;			/* every live thread was blocked on a lock */
	int truncated;			/* max_steps reached */
	int nrec;			/* switches made that differ from run-on (first rec_cap kept) */
	int rec_cap;
	long *rec_step;
	int *rec_tid;
	int *rec_by;			/* the thread that was deciding (-1 at the start) */
	long *rec_local;		/* and its own decision count */
	long choices_cap;		/* per step (first choices_cap): runnable mask << 8 | pick */
	long *choices;
	long ops[PW_MAX_SCHED_THREADS];			/* per thread: operations done */
	long ret[PW_MAX_SCHED_THREADS];			/* per thread: the scenario loop's return */
	int blocked[PW_MAX_SCHED_THREADS];		/* per thread: blocked at the end (deadlock) */
	struct pw_report stacks[PW_MAX_SCHED_THREADS];	/* per thread: where it blocked (deadlock) */
};
struct pw_sched_trace {			/* one scheduling point, for replay --trace */
	long step;
	int tid;
	int site;
	int has_val;
	unsigned long val;		/* entry value loaded or stored */
	int nframes;
	void *frames[6];
};
long pw_sched_run(struct pw_mm *m, struct pw_stress_cfg *cfgs, long *ops,
		  unsigned long long *skip, int n, struct pw_sched_params *p, struct pw_sched_result *res,
		  struct pw_sched_trace *trace, long trace_cap);

#endif
