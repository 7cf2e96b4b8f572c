# SPDX-License-Identifier: GPL-2.0-only
"""Real upstream bugs as the yardstick (`pywalk regress`, tests/regressions/).

Each entry of ``BUGS`` is an upstream fix (with a ``Fixes:`` tag) that a
Debian tree carries, in code pywalk compiles.  Its revert
(``patches/regressions/<series>/``) brings the bug back; a hunt of the
reverted tree must show the expected finding within ``ops`` operations,
and the same hunt of the tree as shipped (the control) must show no
finding at all for the same budget.  The table is the one source: the
tests in tests/regressions/ import it, docs/regressions.md describes it.

What cannot be verified here (an upstream commit id, a version) says
"unverified"; the Debian version that has the fix comes from the tree's
code (``fix_marker``) and its package changelog.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from pywalk.assets import patch_path
from pywalk.hunt import clients, stress
from pywalk.hunt.ending import LOCKUP_S
from pywalk.hunt.races import FAULT_RACE, WALKER_RACE, Race
from pywalk.hunt.stress import GiB, Scenario
from pywalk.tree import sources
from pywalk.variant import runtime

@dataclass(frozen=True)
class Loop(Race):
    """A LOCKUP with a function anywhere on the stuck thread's stack (where the
    watchdog catches a loop varies; the innermost frames alone would not do),
    or a thread stuck waiting in one of ``waits``: the watchdog may name first
    a thread that waits for the lock the looping one holds."""
    waits: tuple[str, ...] = ()

    def matches(self, finding) -> bool:
        msgs = (self.message,) if isinstance(self.message, str) else self.message
        frames = {f.split(" ", 1)[0] for f in finding.backtrace}
        return (finding.kind == self.kind and any(m in finding.message for m in msgs)
                and (self.function in frames or bool(frames & set(self.waits))))


# A write fault that can neither upgrade a huge PUD leaf nor split it goes
# round __handle_mm_fault()'s "raced with pmd_alloc?" retry for ever, holding
# mmap_lock for read: the soft-lockup watchdog names the loop, or the reaper
# (munmap's teardown) that waits in mmap_write_lock() behind it.
WP_PUD_LOOP = Loop(
    "wp_huge_pud fallback loop", "LOCKUP", "__handle_mm_fault", "soft lockup",
    "wp_huge_pud() falls back without splitting the leaf; pmd_alloc() points into it and "
    "the 'raced with pmd_alloc?' recheck retries the same fault for ever (mmap_lock held)",
    waits=("mmap_write_lock", "mmap_read_lock"))


# The dirty-tracking walk of vmwgfx (the 2019 thread's client) over a
# write-notify mapping that readers refault: the tree's wp_walk_ops, whose
# wp_clean_pud_entry() WARNs on a huge PUD that is writable or dirty.  Read
# faults on a write-notify mapping install read-only, clean leaves, so the
# tree as shipped never WARNs here.  Not in stress.SCENARIOS: it has one
# use, this suite.
DIRTY_VS_REFAULT = Scenario(
    "dirty-vs-refault",
    "the tree's dirty-tracking walk (wp_walk_ops) over a write-notify mapping while "
    "readers fault it, 1 GiB PUD leaves",
    4 * GiB, "pud", True, {"walker": (1, "dirty", 0), "reader": (2, None, 0)})

# wp_clean_pud_entry() on a leaf that a read fault made dirty
DIRTY_READONLY_PUD = Race(
    "dirty read-only huge PUD under dirty tracking", "WARN", "wp_clean_pud_entry",
    "pud_dirty",
    "a read fault dirtied a read-only PUD leaf (touch_pud()); wp_clean_pud_entry() WARNs")


@dataclass(frozen=True)
class Accounting(Race):
    """A finding without frames of its own (LEAK: found by the teardown's
    scan, not where the table was lost): its kind and message say it."""

    def matches(self, finding) -> bool:
        msgs = (self.message,) if isinstance(self.message, str) else self.message
        return finding.kind == self.kind and any(m in finding.message for m in msgs)


# a page-table page overwritten by a leaf: the reaper's (or the final)
# teardown finds it neither reachable nor freed, or check_mm()'s counters off
TABLE_LEAK = Accounting(
    "page table leaked by an overwrite", "LEAK", "", ("kmemleak", "check_mm"),
    "a huge fault stored a leaf over a PMD or pte table without looking under the lock")


@dataclass(frozen=True)
class Bug:
    slug: str                   # tests/regressions/test_<slug>.py
    subject: str                # the fix's subject line
    file: str                   # the kernel file the fix changes
    upstream: str               # the upstream release with the fix
    fixes: str                  # the fix's Fixes: target
    kernel: str                 # the Debian series whose tree has the fix
    stable: str                 # where the Debian changelog lists the fix
    patch: str                  # the revert, relative to patches/
    fix_marker: str             # a line of the fix, present in the shipped file
    scenario: str | Scenario
    expect: Race                # what the reverted tree shows
    ops: int                    # budget, far above the measured median
    median_ops: tuple[int, ...]  # ops to the first expected finding, seeds 1-3
    interleaving: tuple[str, str]
    walker: str | None = None
    driver: str | None = None
    instrumented: bool = True
    lockup_s: float = LOCKUP_S
    threads: tuple[tuple[str, int], ...] = ()    # thread counts by role, beside the scenario's
    first_only: bool = False    # the reverted hunt stops at its first finding (a lockup
    #                             taints the mm: the hunt after it says little)

    @property
    def label(self) -> str:
        return f"{self.subject} [{self.kernel}]"

    @property
    def scenario_name(self) -> str:
        return self.scenario if isinstance(self.scenario, str) else self.scenario.name


CVE_SUBJECT = "mm/pagewalk: fix race between concurrent split and refault"
CVE_FACTS = dict(
    subject=CVE_SUBJECT, file="mm/pagewalk.c",
    upstream="7.0 (CVE-2026-31456; affected to 7.0-rc5, fixed in 6.18.21, 6.19.11 per the "
             "CVE debrief; commit id unverified)",
    fixes="unverified",
    fix_marker="if (!pud_present(pudval) || pud_leaf(pudval)) {",
    scenario="walk-vs-refault", expect=WALKER_RACE,
    interleaving=("walker: walk_pud_range() -> split_huge_pud() zaps the PUD leaf",
                  "reader refaults a PUD leaf; walk_pmd_range() reads its frame as a PMD table"))

BUGS: tuple[Bug, ...] = (
    Bug(slug="mm_pagewalk_fix_race_between_concurrent_split_and_refault", kernel="6.12",
        stable="Debian 6.12.85-1 (stable 6.12.84)",
        patch="regressions/6.12/revert-mm-pagewalk-fix-race-between-concurrent-split-and-refault.patch",
        walker="numa_maps", driver="vfio", ops=300_000, median_ops=(5_324, 1_201, 1_973),
        **CVE_FACTS),
    Bug(slug="mm_pagewalk_fix_race_between_concurrent_split_and_refault", kernel="7.3",
        stable="7.3.4 (upstream 7.0 onwards)",
        patch="regressions/7.3/revert-mm-pagewalk-fix-race-between-concurrent-split-and-refault.patch",
        walker="numa_maps", ops=300_000, median_ops=(2_519, 6_771, 6_929), **CVE_FACTS),
    Bug(slug="mm_memory_c_fix_a_huge_pud_insertion_race_during_faulting",
        subject="mm/memory.c: fix a huge pud insertion race during faulting",
        file="mm/memory.c",
        upstream="5.5 (commit 625110b5e9da, 30 Nov 2019, as the 4.19 stable review quotes it; "
                 "the release unverified)",
        fixes="a00cc7d9dd93 (\"mm, x86: add support for PUD-sized transparent hugepages\")",
        kernel="6.1", stable="upstream 5.5 onwards (older than the three trees)",
        patch="regressions/6.1/revert-mm-memory.c-fix-a-huge-pud-insertion-race-during-faulting.patch",
        fix_marker="/* Huge pud page fault raced with pmd_alloc? */",
        scenario="fault-vs-fault", expect=FAULT_RACE, instrumented=False,
        ops=1_000_000, median_ops=(13_339, 17_479, 18_953),
        interleaving=("writer: pud_none() -> create_huge_pud() falls back (write-notify)",
                      "reader installs a PUD leaf; writer's pmd_alloc() returns pmd_offset() "
                      "into its frame")),
    Bug(slug="mm_split_huge_pud_on_wp_huge_pud_fallback",
        subject="mm: split huge PUD on wp_huge_pud fallback",
        file="mm/memory.c",
        upstream="5.19 (commit 14c99d659415, in stable 5.10.132 and 5.18.13; the release "
                 "unverified)",
        fixes="327e9fd48972 (\"mm: Split huge pages on write-notify or COW\")",
        kernel="6.1", stable="Debian 5.18.14-1 (stable 5.18.13)",
        patch="regressions/6.1/revert-mm-split-huge-pud-on-wp_huge_pud-fallback.patch",
        fix_marker="\t__split_huge_pud(vmf->vma, vmf->pud, vmf->address);\n#endif /* CONFIG_"
                   "TRANSPARENT_HUGEPAGE && CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD */",
        # the reaper is needed: only its teardown lets a read fault put a leaf
        # back where a write fault made a PMD table (the loop needs a leaf)
        scenario="fault-vs-fault", expect=WP_PUD_LOOP, instrumented=False, lockup_s=5.0,
        first_only=True,
        ops=100_000, median_ops=(728, 795, 1_046),
        interleaving=("reader installs a read-only PUD leaf on a write-notify mapping",
                      "writer: wp_huge_pud() falls back without a split; the pmd_alloc "
                      "recheck retries for ever")),
    Bug(slug="mm_thp_do_not_make_page_table_dirty_unconditionally_in_touch_pmd",
        subject="mm, thp: Do not make page table dirty unconditionally in touch_p[mu]d()",
        file="mm/huge_memory.c",
        upstream="4.15 (commit a8f97366452e, 27 Nov 2017, CVE-2017-1000405 \"Huge Dirty COW\"; "
                 "the release unverified)",
        fixes="8310d48b125d (\"mm/huge_memory.c: respect FOLL_FORCE/FOLL_COW for thp\"; "
              "unverified)",
        kernel="6.1", stable="upstream 4.15 onwards (older than the three trees)",
        patch="regressions/6.1/revert-mm-thp-do-not-make-page-table-dirty-unconditionally-in-touch_pmd.patch",
        fix_marker="\t_pud = pud_mkyoung(*pud);\n\tif (write)\n\t\t_pud = pud_mkdirty(_pud);",
        scenario=DIRTY_VS_REFAULT, expect=DIRTY_READONLY_PUD, ops=100_000,
        median_ops=(1_024, 16, 352),
        interleaving=("reader faults (read) a present read-only PUD leaf: huge_pud_set_accessed()",
                      "touch_pud() marks it dirty; the dirty-tracking walk WARNs on a dirty leaf")),
    Bug(slug="mm_huge_memory_c_fix_modifying_of_page_protection_by_insert_pfn_pmd",
        subject="mm/huge_memory.c: fix modifying of page protection by insert_pfn_pmd()",
        file="mm/huge_memory.c",
        upstream="5.1 (commit c6f3c5ee40c1, named so by the Fixes: tag of \"mm/huge_memory: "
                 "Fix vmf_insert_pfn_{pmd, pud}() crash, handle unaligned addresses\"; the "
                 "release is unverified)",
        fixes="none in the posted v2 (CC stable); the commit's own tag unverified",
        kernel="6.12", stable="upstream 5.1 onwards (older than the three trees)",
        patch="regressions/6.12/revert-mm-huge_memory.c-fix-modifying-of-page-protection-by-"
              "insert_pfn_pmd.patch",
        fix_marker="\tptl = pud_lock(mm, pud);\n\tif (!pud_none(*pud)) {",
        scenario="fault-vs-fault", expect=TABLE_LEAK, instrumented=False,
        ops=2_000_000, median_ops=(6_698, 153_563, 143_255),
        interleaving=("writer: write fault falls back and installs a PMD (or pte) table",
                      "reader's huge fault, past its pud_none(), overwrites the table with a "
                      "leaf")),
)


def _on(slug: str, kernel: str, **kw) -> Bug:
    """The same fix, reverted on another tree that has it (its own patch file)."""
    base = next(b for b in BUGS if b.slug == slug)
    return replace(base, kernel=kernel,
                   patch=f"regressions/{kernel}/{base.patch.rsplit('/', 1)[-1]}", **kw)


BUGS += (
    _on("mm_split_huge_pud_on_wp_huge_pud_fallback", "7.3",
        fix_marker="\t__split_huge_pud(vma, vmf->pud, vmf->address);\n#endif /* CONFIG_"
                   "TRANSPARENT_HUGEPAGE && CONFIG_HAVE_ARCH_TRANSPARENT_HUGEPAGE_PUD */",
        median_ops=(493, 1_156, 1_540)),
    _on("mm_memory_c_fix_a_huge_pud_insertion_race_during_faulting", "6.12",
        median_ops=(40_082, 42_956, 28_487)),
    _on("mm_memory_c_fix_a_huge_pud_insertion_race_during_faulting", "7.3",
        median_ops=(19_371, 13_282, 68_185)),
    _on("mm_huge_memory_c_fix_modifying_of_page_protection_by_insert_pfn_pmd", "7.3",
        ops=4_000_000, median_ops=(15_014, 486_702, 34_897)),
    _on("mm_thp_do_not_make_page_table_dirty_unconditionally_in_touch_pmd", "7.3",
        median_ops=(16, 32, 32)),
)


def bugs(kernel: str | None = None) -> list[Bug]:
    """The entries, or those on one Debian series; each fix's trees together."""
    first = {}
    for i, b in enumerate(BUGS):
        first.setdefault(b.slug, i)
    return sorted((b for b in BUGS if kernel is None or b.kernel == kernel),
                  key=lambda b: (first[b.slug], tuple(int(x) for x in b.kernel.split("."))))


def slugs() -> list[str]:
    return sorted({b.slug for b in BUGS})


def by_slug(slug: str) -> list[Bug]:
    """The entries of one fix (one per tree it is tested on)."""
    return [b for b in BUGS if b.slug == slug]


def shipped_has_fix(bug: Bug) -> bool:
    """Does the tree as shipped carry the fix (its marker line, read from the code)?"""
    return bug.fix_marker in sources.resolve(bug.kernel).read(bug.file)


@dataclass
class Outcome:
    bug: Bug
    reverted: object | None = None      # StressResult
    control: object | None = None
    why_not: str | None = None          # the tree cannot run the bug's client or driver
    budget: int = 0                     # the op budget each side was given

    @property
    def hit(self):
        """The first finding of the reverted hunt that is the expected one."""
        if self.reverted is None:
            return None
        return next((f for f in self.reverted.findings if self.bug.expect.matches(f)), None)

    @property
    def found(self) -> bool:
        return self.hit is not None

    @property
    def control_clean(self) -> bool:
        return self.control is not None and not self.control.findings and \
            not self.control.interrupted

    @property
    def ok(self) -> bool:
        return self.found and self.control_clean

    def as_json(self) -> dict:
        b, h = self.bug, self.hit
        return {"slug": b.slug, "subject": b.subject, "file": b.file, "upstream": b.upstream,
                "fixes": b.fixes, "kernel": b.kernel, "patch": b.patch,
                "scenario": b.scenario_name, "walker": b.walker, "driver": b.driver or "write-notify",
                "instrumented": b.instrumented, "threads": dict(b.threads),
                "expect": b.expect.name, "budget_ops": self.budget or b.ops,
                "found": self.found, "control_clean": self.control_clean, "ok": self.ok,
                "first_finding_ops": h.ops if h else None,
                "first_finding_s": round(h.elapsed_s, 4) if h else None,
                "not_run": self.why_not,
                "reverted": self.reverted.as_json() if self.reverted else None,
                "control": self.control.as_json() if self.control else None}


def variants(bug: Bug, fetch: bool = True):
    """(reverted, shipped) variants of the bug's tree."""
    rev = runtime.build(bug.kernel, [patch_path(bug.patch)], fetch=fetch,
                        instrumented=bug.instrumented)
    base = runtime.build(bug.kernel, [], fetch=fetch, instrumented=bug.instrumented)
    return rev, base


def hunt(variant, bug: Bug, *, seed: int, ops: int, expect: bool, progress=None):
    """One hunt of the bug's scenario; the reverted side goes on past other
    findings until the expected one, the control stops at any finding."""
    return stress.run(variant, bug.scenario, ops=ops, seed=seed,
                      keep_going=expect and not bug.first_only,
                      stop_when=bug.expect.matches if expect else None,
                      walker=bug.walker, driver=bug.driver, lockup_s=bug.lockup_s,
                      threads=dict(bug.threads) or None, progress=progress)


def run_bug(bug: Bug, *, seed: int = 1, ops: int | None = None, progress=None,
            on_notes=None) -> Outcome:
    """The reverted tree and the control, each for the bug's budget (or ops)."""
    rev, base = variants(bug)
    if on_notes is not None:
        on_notes(rev.result.notes)
    why = clients.unavailable(rev, bug.walker, bug.driver)
    if why is not None:
        return Outcome(bug, why_not=why)
    budget = ops or bug.ops
    out = Outcome(bug, budget=budget)
    for side, variant, expect in (("reverted", rev, True), ("control", base, False)):
        prog = progress(f"{bug.slug} [{bug.kernel}] {side}") if progress else None
        r = hunt(variant, bug, seed=seed, ops=budget, expect=expect, progress=prog)
        if prog is not None:
            prog.done()
        setattr(out, side, r)
        if r.interrupted:
            raise KeyboardInterrupt
    return out


def run_suite(kernel: str | None = None, **kw) -> list[Outcome]:
    return [run_bug(b, **kw) for b in bugs(kernel)]
