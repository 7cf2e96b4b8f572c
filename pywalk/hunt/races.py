# SPDX-License-Identifier: GPL-2.0-only
"""Known races, recognised by where a finding faults and on what.

A finding's signature names the innermost kernel frames; its message says
what the faulting address is (shim/src/physmem.c pw_classify_address()).
Together they tell one known race from another, so a hunt can say "the
2019 race is gone" while still showing anything else it met.
"""

from __future__ import annotations

from dataclasses import dataclass

from pywalk.variant import oops


@dataclass(frozen=True)
class Race:
    name: str
    kind: str                # SEGV, WARN, ...
    function: str            # a kernel function among the innermost frames
    message: str | tuple[str, ...]   # a part of the finding's message (or one of several)
    note: str = ""
    # a fault into device memory names this race only on a tree that has (True)
    # or lacks (False) the "raced with pmd_alloc?" recheck; None: either.  A
    # finding whose tree is not known (pmd_alloc_recheck None) matches either.
    recheck: bool | None = None

    def matches(self, finding) -> bool:
        frames = finding.signature.split(" ", 1)[-1].split("<")
        msgs = (self.message,) if isinstance(self.message, str) else self.message
        if not (finding.kind == self.kind and self.function in frames
                and any(m in finding.message for m in msgs)):
            return False
        have = getattr(finding, "pmd_alloc_recheck", None)
        if self.recheck is None or have is None or "device memory" not in finding.message:
            return True
        return have == self.recheck


WALKER_RACE = Race(
    "walker race", "SEGV", "walk_pmd_range", "device memory",
    "CVE-2026-31456: walk_pud_range() splits a huge PUD, a fault reinstalls a PUD leaf, "
    "walk_pmd_range() reads the leaf's frame as a PMD table")
FAULT_RACE = Race(
    "2019 fault race", "SEGV", "__handle_mm_fault", "device memory",
    "pmd_alloc() returns a pmd_offset() into another thread's huge PUD (the 2019 mail).  "
    "With the upstream recheck the same symptom still shows, very rarely, through the "
    "recheck's own TOCTOU (PMD_ALLOC_TOCTOU's note)", recheck=False)
PMD_ALLOC_TOCTOU = Race(
    "pmd_alloc TOCTOU", "SEGV", "__handle_mm_fault", ("low physical memory", "device memory"),
    "pmd_alloc() reads the pud once (gcc merges pud_none(*pud) with pmd_offset()'s read): "
    "it sees another thread's huge leaf, and that thread's write fault splits the leaf "
    "(wp_huge_pud() -> __split_huge_pud()) and installs a PMD table (__pmd_alloc()) before "
    "the 'raced with pmd_alloc?' recheck reads the pud again; the recheck sees a table and "
    "the fault uses a pointer into the huge page: the 2019 symptom itself, so on a tree "
    "with the recheck a device-memory fault here is this race.  Rarer: pmd_alloc() saw "
    "none, __pmd_alloc() found a leaf, the leaf was split before pmd_offset()'s re-read "
    "(none: a pointer into physical page 0) and a table installed before the recheck",
    recheck=True)
BAD_PMD = Race(
    "bad pmd", "ERR", "pmd_trans_unstable", "bad pmd",
    "6.1 walk_pmd_range(): pmd_trans_unstable() after split_huge_pmd() sees a refaulted "
    "devmap PMD as pmd_bad() and pmd_clear_bad() wipes it (pmd_ERROR(): "
    "'mm/pgtable-generic.c:NN: bad pmd ...')")

ZAP_BAD_PUD = Race(
    "zap bad pud", "ERR", "zap_pud_range", "bad pud",
    "MADV_DONTNEED's zap_pud_range() (mmap_lock or the vma lock for read, beside faults) "
    "reads the pud twice: pud_trans_huge(*pud) sees none (or the partial range's "
    "split_huge_pud() makes it none), a fault installs a huge PUD, and "
    "pud_none_or_clear_bad() takes the leaf for a bad entry (x86 pud_bad() counts a PSE "
    "leaf): pud_clear_bad() prints 'mm/pgtable-generic.c:NN: bad pud ...' (pud_ERROR()) "
    "and clears the live leaf without zap_huge_pud() or a TLB flush.  6.1, 6.12, 7.3; "
    "docs/findings/zap-bad-pud.md")

# Not a race: the tree's dirty-tracking walk (mm/mapping_dirty_helpers.c)
# checks that a huge entry in a dirty-tracked range is neither writable nor
# dirty.  On a mapping that is not write-notify (vm_page_prot writable, as
# walk-vs-refault's and a VFIO BAR's) a read fault installs a writable leaf,
# and the tree WARNs, as it would in the kernel for that misuse.
DIRTY_WRITABLE_PUD = Race(
    "writable huge PUD under dirty tracking", "WARN", "wp_clean_pud_entry", "pud_write",
    "wp_clean_pud_entry() WARNs on a writable/dirty huge PUD: dirty tracking needs a "
    "write-notify mapping (vmwgfx's are); not a race")
DIRTY_WRITABLE_PMD = Race(
    "writable huge PMD under dirty tracking", "WARN", "wp_clean_pmd_entry", "pmd_write",
    "the same at PMD level (wp_clean_pmd_entry())")

KNOWN = (WALKER_RACE, FAULT_RACE, PMD_ALLOC_TOCTOU, BAD_PMD, ZAP_BAD_PUD, DIRTY_WRITABLE_PUD,
         DIRTY_WRITABLE_PMD)


def identify(finding) -> Race | None:
    return next((r for r in KNOWN if r.matches(finding)), None)


def race_name(finding) -> str | None:
    r = identify(finding)
    return r.name if r else None


oops.set_race_namer(race_name)      # KernelOops.race
