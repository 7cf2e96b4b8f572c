/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C API that Python sees (cffi cdef is read from this file: keep it to
 * plain declarations).  Every call that runs kernel code is guarded: an oops
 * inside it returns PW_ERR_OOPS and leaves a report in the mm.
 */

#define PW_ERR_OOPS -1000	/* this call oopsed: see pw_mm_oops() */
#define PW_ERR_PANIC -1001	/* stopped by another thread's oops */
#define PW_ERR_TAINTED -1002	/* the mm had oopsed before this call */
#define PW_ERR_NOVMA -1003	/* no mapping at that address */

/* walkers (csrc/walkers.c) */
#define PW_WALK_COUNT 0		/* counts every callback, has all of them */
#define PW_WALK_NUMA_MAPS 1	/* pmd_entry + pte_entry, no pud_entry (fs/proc numa_maps) */
#define PW_WALK_DIRTY 2		/* pud_entry leaves huge PUDs alone (ACTION_CONTINUE) + pmd/pte */
#define PW_WALK_PYTHON 3	/* callbacks into Python */
#define PW_WALK_PMD_PTE 4	/* counting, pmd_entry + pte_entry + pte_hole only */
#define PW_WALK_TREE_NUMA_MAPS 5	/* the tree's show_numa_ops (fs/proc/task_mmu.c) */
#define PW_WALK_TREE_DIRTY 6	/* the tree's wp_walk_ops (mm/mapping_dirty_helpers.c) */
#define PW_WALK_TREE_CLEAN 7	/* the tree's clean_walk_ops (same) */

/* huge-fault drivers (csrc/driver.c, csrc/clients.c) */
#define PW_DRIVER_WRITE_NOTIFY 0	/* ours: a DAX-like device, write faults may fall back */
#define PW_DRIVER_DAX 1		/* the tree's dev_dax_huge_fault() */
#define PW_DRIVER_VFIO 2	/* the tree's vfio_pci_mmap_huge_fault() */

/* callback mask for PW_WALK_COUNT / PW_WALK_PYTHON */
#define PW_CB_PGD 1
#define PW_CB_P4D 2
#define PW_CB_PUD 4
#define PW_CB_PMD 8
#define PW_CB_PTE 16
#define PW_CB_HOLE 32

struct pw_walk_counts {
	long pgd_entry, p4d_entry, pud_entry, pmd_entry, pte_entry, pte_hole;
	long pud_leaf, pmd_leaf, pte_present;
};

struct pw_mm;

int pw_init(void);
int pw_install_signal_handlers(void);
struct pw_mm *pw_mm_new(void);
void pw_mm_free(struct pw_mm *m);
int pw_mm_panicked(struct pw_mm *m);
int pw_mm_nwarns(struct pw_mm *m);
struct pw_report *pw_mm_oops(struct pw_mm *m);
struct pw_report *pw_mm_warn(struct pw_mm *m, int i);
int pw_map(struct pw_mm *m, unsigned long size, int huge_level, int write_notify, unsigned long *start);
int pw_map_driver(struct pw_mm *m, unsigned long size, int driver, int huge_level,
		  unsigned long *start);
int pw_driver_has(int driver);
int pw_client_has(int walker);
int pw_fault(struct pw_mm *m, unsigned long addr, int write);
int pw_lookup(struct pw_mm *m, unsigned long addr, int *level, int *state);
int pw_walk(struct pw_mm *m, unsigned long start, unsigned long end, int walker, int cbmask,
	    struct pw_walk_counts *counts, void *pyhandle);
int pw_zap(struct pw_mm *m, unsigned long start, unsigned long end);
int pw_poke_leaf(struct pw_mm *m, unsigned long addr);
int pw_selftest(struct pw_mm *m, int what);
long pw_table_pages_in_use(void);

/* scenarios (csrc/scenarios.c) */
#define PW_ROLE_WALKER 1
#define PW_ROLE_READER 2
#define PW_ROLE_WRITER 3
#define PW_ROLE_ZAPPER 4
#define PW_ROLE_REAPER 5
#define PW_NR_DELAY_SITES 5

struct pw_stress_cfg {
	int role;
	int walker;
	int tid;
	unsigned long long seed;
	unsigned long start, size;
	int pause_us;
};
void pw_set_delays(int enabled, unsigned int *prob, unsigned int *max_spins,
		   unsigned int yield_permille);
long pw_stress_run(struct pw_mm *m, struct pw_stress_cfg *c, long batch, int *stop,
		   long *ops_done);
void pw_stress_reseed(unsigned long long seed, int tid);

/* benchmarks (csrc/bench.c) */
#define PW_BENCH_ERR_FAULT -1100	/* a fault returned OOM/SIGBUS/SIGSEGV */
struct pw_bench_seg {		/* populated addresses start, start + step, ... < end */
	unsigned long start, end, step;
	unsigned long first;	/* filled by pw_bench_refault() */
};
long pw_bench_populate(struct pw_mm *m, unsigned long start, unsigned long end,
		       unsigned long step, int write, unsigned long *bad_addr);
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
long pw_bench_refault(struct pw_mm *m, struct pw_bench_seg *segs, int nsegs,
		      unsigned long long seed, int tid, int *stop, long *ops);
