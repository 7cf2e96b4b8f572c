# SPDX-License-Identifier: GPL-2.0-only
"""Facts about a kernel tree's API that the shim adapts to.

Each fact is read from the tree's own headers and sources (never from the
version number) and becomes a ``PW_TREE_*`` macro at the top of the
generated translation unit, before the shim: shim/include/pywalk/*.h and
csrc/*.c test them with ``#if``.  pywalk/variant/manifest.py's ``REQUIRED_IF`` uses
them too, to decide which symbols the tree must supply.
"""

from __future__ import annotations

import re
from typing import Callable

from pywalk.tree import csyntax

# files the facts are read from (builder reads them too)
READS = ("include/linux/mm.h", "include/linux/pagewalk.h", "include/linux/pgtable.h",
         "include/linux/huge_mm.h", "include/linux/mmu_notifier.h", "mm/pgtable-generic.c",
         "mm/madvise.c")
# headers whose definitions tell which kernel API names the tree has (PW_HAVE_*);
# a tree may lack some of them
API_HEADERS = (
    "include/linux/mm_types.h", "include/linux/pfn_t.h", "include/linux/rmap.h",
    "include/linux/page-flags.h", "include/linux/page_ref.h", "include/linux/swapops.h",
    "include/linux/leafops.h", "include/linux/mm_inline.h", "include/linux/userfaultfd_k.h",
    "include/linux/swap.h", "include/linux/hugetlb.h", "include/linux/pagemap.h",
    "include/linux/sched/coredump.h", "include/linux/memcontrol.h", "include/linux/ksm.h",
    "include/linux/uprobes.h", "include/linux/shmem_fs.h", "include/linux/secretmem.h",
    "include/linux/mmzone.h", "include/linux/vmstat.h", "include/linux/pgalloc_tag.h", "include/linux/mmap_lock.h",
    "include/asm-generic/tlb.h", "include/asm-generic/pgtable_uffd.h",
    "fs/proc/internal.h",   # the numa_maps client's mapcount helpers (clients.h)
    # the smaps, pagemap and mincore clients' helpers (proc_walkers.h)
    "mm/swap.h", "include/linux/page_idle.h", "include/linux/bits.h", "include/linux/math.h",
    "include/linux/xarray.h",
    "arch/x86/include/asm/pgtable.h", "arch/x86/include/asm/pgtable_64.h",
    "arch/x86/include/asm/pgtable_types.h", "arch/x86/include/asm/pgtable_64_types.h",
    "arch/x86/include/asm/page_types.h", "arch/x86/include/asm/tlbflush.h",
    "arch/x86/include/asm/pgalloc.h", "include/vdso/page.h", "include/linux/align.h", "include/vdso/align.h", "include/linux/pfn.h", "include/linux/memremap.h", "include/linux/fs.h",
    "include/linux/kernel.h", "include/linux/err.h", "include/linux/minmax.h",
    "include/linux/compiler.h", "include/linux/compiler_types.h", "include/linux/types.h",
    "mm/internal.h", "mm/memory.c", "mm/huge_memory.c", "mm/pagewalk.c", "mm/madvise.c",
    # the drivers' lock assertions and guards (lockdep_assert_held_read(), scoped_guard())
    "include/linux/lockdep.h", "include/linux/cleanup.h",
    # prctl(PR_SET_THP_DISABLE)'s flag (the flipper role)
    "include/uapi/linux/prctl.h")
READS = READS + tuple(f for f in API_HEADERS if f not in READS) + ("mm/mmap_lock.c", "mm/Kconfig")


def _has(pattern: str, text: str) -> int:
    return 1 if re.search(pattern, text, re.S) else 0


def detect(read: Callable[[str], str | None]) -> dict[str, int]:
    """PW_TREE_* macro values for the (patched) tree behind read()."""
    mm_h = read("include/linux/mm.h") or ""
    pagewalk_h = read("include/linux/pagewalk.h") or ""
    pgtable_h = read("include/linux/pgtable.h") or ""
    huge_mm_h = read("include/linux/huge_mm.h") or ""
    mmu_notifier_h = read("include/linux/mmu_notifier.h") or ""
    pgtable_generic = read("mm/pgtable-generic.c") or ""
    return {
        # vm_operations_struct.huge_fault(vmf, unsigned int order) since 6.6,
        # (vmf, enum page_entry_size) before.
        "PW_TREE_HUGE_FAULT_ORDER": _has(r"\(\*huge_fault\)\s*\([^)]*unsigned int order", mm_h),
        # struct mm_walk_ops.walk_lock (6.6+): walkers must say how they lock.
        "PW_TREE_WALK_LOCK": _has(r"enum page_walk_lock\s+walk_lock", pagewalk_h),
        # __pte_offset_map_lock() in mm/pgtable-generic.c (6.5+): may return NULL.
        "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": _has(r"__pte_offset_map_lock\s*\(", pgtable_generic),
        # thp_vma_allowable_order(s)() / __thp_vma_allowable_orders() (6.8+)
        # instead of hugepage_vma_check().
        "PW_TREE_THP_ALLOWABLE_ORDERS": _has(r"\b__thp_vma_allowable_orders\s*\(", huge_mm_h),
        # pte_mkwrite(pte, vma) / pmd_mkwrite(pmd, vma) (6.6+), the old
        # one-argument form renamed pte_mkwrite_novma().
        "PW_TREE_MKWRITE_VMA": _has(
            r"\bpte_mkwrite\s*\(\s*pte_t\s+\w+\s*,\s*struct\s+vm_area_struct", pgtable_h),
        # mmu_notifier_range_init(range, event, flags, vma, mm, start, end)
        # before 6.3; (range, event, flags, mm, start, end) since.
        "PW_TREE_MMU_RANGE_INIT_VMA": _has(
            r"\bmmu_notifier_range_init\s*\([^)]*struct\s+vm_area_struct\s*\*", mmu_notifier_h),
        # __pte_offset_map() in mm/pgtable-generic.c (6.5+): pte_offset_map() wraps it.
        "PW_TREE_PTE_OFFSET_MAP_FN": _has(r"(?m)^pte_t\s*\*\s*__pte_offset_map\s*\(",
                                          pgtable_generic),
        # MADV_DONTNEED's zap is zap_vma_range(vma, addr, size) (7.x), not
        # zap_page_range_single(vma, addr, size, details).
        "PW_TREE_ZAP_VMA_RANGE": _has(r"\bvoid\s+zap_vma_range\s*\(", mm_h),
        # vmf_insert_pfn_pud/pmd() take a pfn_t (before 7.x) or an unsigned long pfn.
        "PW_TREE_INSERT_PFN_T": _has(r"\bvmf_insert_pfn_pud\s*\([^)]*\bpfn_t\b", huge_mm_h),
        # DAX maps folios (vmf_insert_folio_pud(), 7.x): a driver that inserts
        # bare pfns is then a huge-pfnmap driver (like vfio-pci), not DAX.
        "PW_TREE_DAX_FOLIOS": _has(r"\bvmf_insert_folio_pud\s*\(", huge_mm_h),
        # the THP policy's caller is an enum tva_type (7.x), not TVA_* flag bits.
        "PW_TREE_TVA_TYPE": _has(r"\benum\s+tva_type\s*\{", huge_mm_h),
        # __handle_mm_fault() rechecks the pud after pmd_alloc() ("Huge pud page
        # fault raced with pmd_alloc?", upstream soon after the 2019 thread): with
        # it, a fault into a huge page there is the recheck's own TOCTOU, not the
        # 2019 race (pywalk/hunt/races.py; not used by the shim)
        "PW_TREE_PMD_ALLOC_RECHECK": _has(
            r"pud_trans_unstable\s*\(\s*vmf\.pud\s*\)\s*\)\s*goto\s+retry_pud",
            read("mm/memory.c") or ""),
        # madvise_dontneed_free() takes a struct madvise_behavior (7.x), not
        # (vma, prev, start, end, behavior)
        "PW_TREE_MADVISE_BEHAVIOR": _has(
            r"\bmadvise_dontneed_free\s*\(\s*struct\s+madvise_behavior\s*\*",
            read("mm/madvise.c") or ""),
        # per-VMA locks: the tree has lock_vma_under_rcu() (mm/memory.c before
        # 6.15, mm/mmap_lock.c since) and CONFIG_PER_VMA_LOCK, which x86
        # selects (ARCH_SUPPORTS_PER_VMA_LOCK): a user fault then holds the
        # VMA read lock, not mmap_lock (x86 do_user_addr_fault()); csrc/api.c
        "PW_TREE_PER_VMA_LOCK": _has(r"(?m)^config PER_VMA_LOCK\b", read("mm/Kconfig") or "")
        and _has(r"(?m)^struct vm_area_struct \*lock_vma_under_rcu\s*\(",
                 (read("mm/memory.c") or "") + (read("mm/mmap_lock.c") or "")),
    }


def render(facts: dict[str, int]) -> str:
    return "".join(f"#define {k} {v}\n" for k, v in sorted(facts.items()))


_KEYWORDS = {"return", "if", "while", "for", "switch", "sizeof", "else", "case", "do",
             "typeof", "__typeof__", "defined", "goto"}
_DEF_PATTERNS = (
    re.compile(r"(?m)^\s*#\s*define\s+(\w+)"),                       # macros
    re.compile(r"\b(?:struct|union|enum)\s+(\w+)\s*\{"),              # tagged types
    re.compile(r"\btypedef\b[^;{}]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*;"),  # typedefs
    re.compile(r"\}\s*(\w+)\s*;"),                                     # typedef struct {...} NAME;
    re.compile(r"(?m)^\s*(\w+)\s*(?:=[^,}\n]*)?,?\s*$"),              # enumerators
)
_FUNC = re.compile(r"(\w+|\*)\s*\b(\w+)\s*\(")                       # a type, then NAME(


_INDEX: dict[str, tuple[str, frozenset[str]]] = {}


def _index(text: str) -> tuple[str, frozenset[str]]:
    """text without comments, and every name it defines or declares
    (memoised by content)."""
    hit = _INDEX.get(text)
    if hit is None:
        clean = csyntax.without_comments(text)
        names = set()
        for rx in _DEF_PATTERNS:
            names.update(rx.findall(clean))
        names.update(n for t, n in _FUNC.findall(clean) if t not in _KEYWORDS)
        hit = _INDEX[text] = (clean, frozenset(names))
    return hit


# struct page flag accessors are generated by macros (PAGEFLAG(Dirty, dirty, ...))
_PAGEFLAG = re.compile(r"^(?:Page|SetPage|ClearPage|TestSetPage|TestClearPage|__SetPage|"
                       r"__ClearPage)(\w+)$")
_FOLIOFLAG = re.compile(r"^folio_(?:test|set|clear|test_set|test_clear)_(\w+)$")


_VMABIT = re.compile(r"^VMA_(\w+)_BIT$")


def _generated_flag(clean: str, name: str) -> bool:
    m = _VMABIT.match(name)   # enum { DECLARE_VMA_BIT(PFNMAP, 10), ... } (7.x)
    if m and re.search(rf"\bDECLARE_VMA_BIT\(\s*{m.group(1)}\s*,", clean):
        return True
    m = _PAGEFLAG.match(name)
    if m and re.search(rf"\b[A-Z_]*FLAG\w*\(\s*{m.group(1)}\s*,", clean):
        return True
    m = _FOLIOFLAG.match(name)
    return bool(m and re.search(rf"\b[A-Z_]*FLAG\w*\(\s*(?:\w+\s*,\s*)?{m.group(1)}\s*[,)]", clean))


def _has_member(clean: str, name: str, member: str) -> bool:
    for m in re.finditer(rf"\b(?:struct|union)\s+{re.escape(name)}\s*\{{", clean):
        depth, i = 0, m.end() - 1
        for i in range(m.end() - 1, len(clean)):
            depth += {"{": 1, "}": -1}.get(clean[i], 0)
            if depth == 0:
                break
        if re.search(rf"\b{re.escape(member)}\b", clean[m.end():i]):
            return True
    return False


def tree_defines(files: dict[str, str], name: str, member: str | None = None) -> bool:
    """Does any of the tree's files define (or declare) name -- a function,
    macro, type, enumerator, a generated page-flag accessor -- or, with
    member, a struct/union name with that member?  Read from the (patched)
    text, comments ignored."""
    for text in files.values():
        clean, names = _index(text)
        if member is not None:
            if _has_member(clean, name, member):
                return True
        elif name in names or _generated_flag(clean, name):
            return True
    return False


# -- the kernel API the shim may expose ----------------------------------------
# The shim defines a kernel name only when the tree defines it too: a definition
# written PW_API(name) (a function, type or PW_UNMODELLED stub) or guarded by
# "#if PW_HAVE_name" (a macro) is compiled under that name when the tree has it
# and under a pw_absent_ name (never visible to the tree's code) when it does
# not.  Which names are probed is read from the shim itself.
_PROBE = re.compile(r"\bPW_API\((\w+)\)|\bPW_HAVE_(\w+)|\bPW_U\(\s*[^,]+,\s*(\w+)")


def probe_names(texts) -> list[str]:
    names: list[str] = []
    for t in texts:
        for m in _PROBE.finditer(t):
            n = m.group(1) or m.group(2) or m.group(3)
            if n not in names:
                names.append(n)
    return names


def api(files: dict[str, str], names: list[str]) -> dict[str, int]:
    """PW_HAVE_* macros: one (= 1) for each name the tree defines; none for
    the others (so that gcc cannot offer them as a spelling suggestion)."""
    return {f"PW_HAVE_{n}": 1 for n in names if tree_defines(files, n)}
