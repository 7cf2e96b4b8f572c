/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Kind: kernel stand-in.
 * pywalk shim: fake physical memory and the page-table page allocator.
 * Kernel counterparts: the direct map (__va), the memmap (struct page per
 * pfn), the page allocator behind pXd_alloc_one(), KFENCE-style quarantine.
 *
 * Layout of the fake physical address space (all of it reserved PROT_NONE):
 *   [0, 2 MiB)            never mapped: pfn 0 and friends fault
 *   [2 MiB, PT_END)        page-table pages, made read/write on allocation
 *   [BAR_BASE, DAX_BASE)   device memory behind huge leaves: never accessible
 *   [DAX_BASE, PHYS_SIZE)  device-dax memory: never accessible either, but it
 *                          has a memmap (ZONE_DEVICE struct pages), made on
 *                          first use by pw_dax_memmap_init(); two ranges,
 *                          one per compound geometry (a device's
 *                          pgmap->vmemmap_shift): 1 GiB folios in the
 *                          first half, 2 MiB folios in the second
 * A freed page-table page goes PROT_NONE into a FIFO quarantine and is only
 * reused after PW_QUARANTINE - PW_RELEASE later frees (released 64 at
 * a time), so a use after free faults.
 */
#include <sys/mman.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define PW_PHYS_SIZE	(1UL << 40)		/* 1 TiB of fake physical space */
#define PW_PT_BASE	(2UL << 20)
#define PW_PT_END	(128UL << 30)		/* up to 128 GiB of page tables */
#define PW_BAR_BASE	(256UL << 30)		/* device memory ("BAR") */
#define PW_DAX_BASE	(768UL << 30)		/* device-dax memory (drivers/dax) */
#define PW_BAR_SIZE	(PW_DAX_BASE - PW_BAR_BASE)
#define PW_DAX_SIZE	(PW_PHYS_SIZE - PW_DAX_BASE)
#define PW_CHUNK	(2UL << 20)		/* pool grows 2 MiB at a time */
#define PW_QUARANTINE	1024

char *pw_physbase;
static struct page *pw_memmap;		/* one struct page per pt-pool pfn */
static pthread_mutex_t pw_pool_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long pw_pool_top = PW_PT_BASE;	/* first never-used byte */
static unsigned long *pw_free_list;		/* pfns ready for reuse */
static unsigned long pw_nr_free, pw_free_cap;
static unsigned long pw_quarantine[PW_QUARANTINE];
static unsigned long pw_q_head, pw_q_len;
static long pw_pages_in_use;

static int pw_physmem_init(void)
{
	void *p;

	if (pw_physbase)
		return 0;
	p = mmap(NULL, PW_PHYS_SIZE, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	pw_memmap = mmap(NULL, (PW_PT_END >> PAGE_SHIFT) * sizeof(struct page),
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (pw_memmap == MAP_FAILED) {
		munmap(p, PW_PHYS_SIZE);
		pw_memmap = NULL;
		return -1;
	}
	pw_physbase = p;
	return 0;
}

static struct page *pw_dax_memmap;	/* one struct page per device-dax pfn */

/* kernel: the memmap of a ZONE_DEVICE range (memremap_pages()) */
int pw_dax_memmap_init(void)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	void *p;

	pthread_mutex_lock(&once);
	if (!pw_dax_memmap) {
		p = mmap(NULL, (PW_DAX_SIZE >> PAGE_SHIFT) * sizeof(struct page),
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p != MAP_FAILED)
			__atomic_store_n(&pw_dax_memmap, p, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&once);
	return pw_dax_memmap ? 0 : -1;
}

#define PW_DAX_HALF	(PW_DAX_SIZE / 2)

/* device-dax frame at offset into a range of that alignment (1 GiB or 2 MiB:
 * the range whose folios are that size) */
unsigned long pw_dax_pfn(unsigned long offset, unsigned long align)
{
	unsigned long base = align >= PUD_SIZE ? PW_DAX_BASE : PW_DAX_BASE + PW_DAX_HALF;

	return (base + (offset % PW_DAX_HALF)) >> PAGE_SHIFT;
}

/* the index into the device-dax memmap of page, or -1: not a ZONE_DEVICE page */
static long pw_dax_index(const struct page *page)
{
	struct page *dax = __atomic_load_n(&pw_dax_memmap, __ATOMIC_ACQUIRE);

	if (dax && page >= dax && page < dax + (PW_DAX_SIZE >> PAGE_SHIFT))
		return page - dax;
	return -1;
}

/* kernel: is_zone_device_page() */
bool pw_page_zone_device(const struct page *page)
{
	return pw_dax_index(page) >= 0;
}

/* kernel: folio_order(): device-dax pages are compound per their range
 * (memmap_init_compound()); every other page here is order 0 */
unsigned int pw_page_order(const struct page *page)
{
	long i = pw_dax_index(page);

	if (i < 0)
		return 0;
	return (unsigned long)i < (PW_DAX_HALF >> PAGE_SHIFT) ? PUD_SHIFT - PAGE_SHIFT
							      : PMD_SHIFT - PAGE_SHIFT;
}

/* kernel: compound_head() / page_folio(): the head page of page's folio */
struct page *pw_compound_head(const struct page *page)
{
	long i = pw_dax_index(page);

	if (i < 0)
		return (struct page *)page;
	return (struct page *)page - (i & ((1L << pw_page_order(page)) - 1));
}

/* references the tree's code holds on device-dax folios, all mms together
 * (folio_get() minus folio_put(): shim/include/pywalk/folio.h) */
long pw_dax_refs;

struct page *pw_pfn_to_page(unsigned long pfn)	/* kernel: pfn_to_page() */
{
	struct page *dax = __atomic_load_n(&pw_dax_memmap, __ATOMIC_ACQUIRE);

	if (dax && pfn >= (PW_DAX_BASE >> PAGE_SHIFT) && pfn < (PW_PHYS_SIZE >> PAGE_SHIFT))
		return &dax[pfn - (PW_DAX_BASE >> PAGE_SHIFT)];
	/* device and unmapped pfns have no struct page here: hand out an
	 * address in the never-accessible part, so a use faults */
	if (pfn >= (PW_PT_END >> PAGE_SHIFT))
		return (struct page *)(pw_physbase + PW_BAR_BASE);
	return &pw_memmap[pfn];
}

bool pw_pfn_has_memmap(unsigned long pfn)	/* kernel: pfn_valid() */
{
	return (pfn >= (PW_PT_BASE >> PAGE_SHIFT) && pfn < (PW_PT_END >> PAGE_SHIFT)) ||
	       (pfn >= (PW_DAX_BASE >> PAGE_SHIFT) && pfn < (PW_PHYS_SIZE >> PAGE_SHIFT) &&
		__atomic_load_n(&pw_dax_memmap, __ATOMIC_ACQUIRE));
}

unsigned long pw_page_to_pfn(const struct page *page)	/* kernel: page_to_pfn() */
{
	long i = pw_dax_index(page);

	if (i >= 0)
		return (PW_DAX_BASE >> PAGE_SHIFT) + (unsigned long)i;
	return (unsigned long)(page - pw_memmap);
}

/* kernel: highest_memmap_pfn (memory hotplug raises it for ZONE_DEVICE
 * ranges too, move_pfn_range_to_zone()) */
unsigned long pw_highest_memmap_pfn(void)
{
	return (PW_PHYS_SIZE >> PAGE_SHIFT) - 1;
}

unsigned long pw_bar_pfn(unsigned long offset)	/* device frame at offset into the BAR */
{
	return (PW_BAR_BASE + (offset % PW_BAR_SIZE)) >> PAGE_SHIFT;
}

struct page *pw_alloc_table_page(void)	/* kernel: the page allocator for page tables */
{
	unsigned long pa = 0;
	struct page *page;

	pthread_mutex_lock(&pw_pool_lock);
	if (pw_nr_free) {
		pa = pw_free_list[--pw_nr_free] << PAGE_SHIFT;
	} else if (pw_pool_top < PW_PT_END) {
		if ((pw_pool_top & (PW_CHUNK - 1)) == 0) {
			if (mprotect(pw_physbase + pw_pool_top, PW_CHUNK, PROT_READ | PROT_WRITE)) {
				pthread_mutex_unlock(&pw_pool_lock);
				return NULL;
			}
			/* the chunk's pages are no tables yet (stale.c asks) */
			for (unsigned long i = 0; i < PW_CHUNK >> PAGE_SHIFT; i++)
				pw_memmap[(pw_pool_top >> PAGE_SHIFT) + i].pw_level = PW_LEVEL_NONE;
		}
		pa = pw_pool_top;
		pw_pool_top += PAGE_SIZE;
	}
	if (pa)
		__atomic_fetch_add(&pw_pages_in_use, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&pw_pool_lock);
	if (!pa)
		return NULL;
	page = &pw_memmap[pa >> PAGE_SHIFT];
	memset(page, 0, sizeof(*page));
	page->pw_level = PW_LEVEL_NONE;
	return page;
}

static int pw_cmp_pfn(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

/* mprotect() pfns[0..n) (sorted here) in runs of adjacent pages: one call,
 * and one TLB shootdown of the process's other CPUs, per run */
static void pw_protect_runs(unsigned long *pfns, int n, int prot)
{
	int i, j;

	qsort(pfns, n, sizeof(pfns[0]), pw_cmp_pfn);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && pfns[j] == pfns[j - 1] + 1; j++)
			;
		mprotect(pw_physbase + (pfns[i] << PAGE_SHIFT), (unsigned long)(j - i) << PAGE_SHIFT,
			 prot);
	}
}

/*
 * Quarantine pfn (already PROT_NONE).  When the quarantine is full, its
 * oldest PW_RELEASE pages become reusable together (so a page stays
 * quarantined for at least PW_QUARANTINE - PW_RELEASE later frees).
 * Under pw_pool_lock.
 */
#define PW_RELEASE 64
static void pw_quarantine_locked(unsigned long pfn)
{
	if (pw_q_len == PW_QUARANTINE) {
		unsigned long old[PW_RELEASE];

		for (int i = 0; i < PW_RELEASE; i++) {
			old[i] = pw_quarantine[pw_q_head];
			pw_q_head = (pw_q_head + 1) % PW_QUARANTINE;
		}
		pw_q_len -= PW_RELEASE;
		pw_protect_runs(old, PW_RELEASE, PROT_READ | PROT_WRITE);
		if (pw_nr_free + PW_RELEASE > pw_free_cap) {
			pw_free_cap = pw_free_cap ? 2 * pw_free_cap : 1024;
			pw_free_list = realloc(pw_free_list, pw_free_cap * sizeof(*pw_free_list));
		}
		for (int i = 0; i < PW_RELEASE; i++) {
			memset(pw_physbase + (old[i] << PAGE_SHIFT), 0, PAGE_SIZE);
			pw_free_list[pw_nr_free++] = old[i];
		}
	}
	pw_quarantine[(pw_q_head + pw_q_len) % PW_QUARANTINE] = pfn;
	pw_q_len++;
}

/*
 * Tables freed inside an mmu_gather (tlb_gather_mmu() .. tlb_finish_mmu())
 * are protected and quarantined together at its end, as the kernel frees
 * them only after the gather's TLB flush: one mprotect() per run of
 * adjacent pages instead of one per page.  Each mprotect(PROT_NONE) of a
 * page the process's other threads may have in their TLBs is an IPI to
 * their CPUs; a reaper pass freeing its tables one by one spent more than
 * half of a "mixed" run in them.
 */
#define PW_GATHER_MAX 512
static __thread unsigned long pw_gathered[PW_GATHER_MAX];
static __thread int pw_ngathered, pw_gather_depth;

static void pw_gather_flush(void)
{
	int n = pw_ngathered, i;

	if (!n)
		return;
	pthread_mutex_lock(&pw_pool_lock);
	pw_protect_runs(pw_gathered, n, PROT_NONE);
	for (i = 0; i < n; i++)
		pw_quarantine_locked(pw_gathered[i]);
	pthread_mutex_unlock(&pw_pool_lock);
	pw_ngathered = 0;
}

void pw_gather_begin(void)	/* tlb_gather_mmu() */
{
	pw_gather_depth++;
}

void pw_gather_end(void)	/* tlb_finish_mmu() */
{
	if (pw_gather_depth > 0 && --pw_gather_depth == 0)
		pw_gather_flush();
}

/* A guarded call begins: a gather an oops cut short ends here. */
void pw_gather_reset(void)
{
	pw_gather_depth = 0;
	pw_gather_flush();
}

void pw_free_table_page(struct page *page)	/* kernel: freeing a page-table page */
{
	unsigned long pfn = pw_page_to_pfn(page);

	if (page->pw_mm)	/* leaks.c: no longer this mm's */
		__atomic_fetch_sub(&page->pw_mm->pw_live_tables, 1, __ATOMIC_RELAXED);
	page->pw_mm = NULL;
	page->pw_level = PW_LEVEL_NONE;
	__atomic_fetch_sub(&pw_pages_in_use, 1, __ATOMIC_RELAXED);
	if (pw_gather_depth > 0) {
		if (pw_ngathered == PW_GATHER_MAX)
			pw_gather_flush();
		pw_gathered[pw_ngathered++] = pfn;
		return;
	}
	pthread_mutex_lock(&pw_pool_lock);
	mprotect(pw_physbase + (pfn << PAGE_SHIFT), PAGE_SIZE, PROT_NONE);
	pw_quarantine_locked(pfn);
	pthread_mutex_unlock(&pw_pool_lock);
}

long pw_table_pages_in_use(void)
{
	return __atomic_load_n(&pw_pages_in_use, __ATOMIC_RELAXED);
}

/*
 * What a faulting address is, as KASAN/KFENCE reports say it (no locks:
 * called from the oops path; a racing free may make the answer stale).
 */
const char *pw_classify_address(unsigned long addr)
{
	unsigned long pa, pfn;

	if (!pw_physbase || addr < (unsigned long)pw_physbase ||
	    addr >= (unsigned long)pw_physbase + PW_PHYS_SIZE)
		return "not in fake physical memory";
	pa = addr - (unsigned long)pw_physbase;
	pfn = pa >> PAGE_SHIFT;
	if (pa < PW_PT_BASE)
		return "low physical memory (pfn 0 and friends)";
	if (pa >= PW_BAR_BASE)
		return "device memory: the frame behind a huge leaf";
	for (unsigned long i = 0; i < pw_q_len; i++)
		if (pw_quarantine[(pw_q_head + i) % PW_QUARANTINE] == pfn)
			return "a freed page-table page (use after free)";
	if (pa >= pw_pool_top)
		return "page-table memory never allocated";
	return "a page-table page";
}
