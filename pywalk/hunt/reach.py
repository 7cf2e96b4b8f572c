# SPDX-License-Identifier: GPL-2.0-only
"""How a real process reaches a finding: reachability labels.

A finding is ``in_tree`` when every role involved in it entered the tree's
code the way a process does (a syscall, a page fault, a read of a /proc
file) and the mapping is one of the tree's own drivers; otherwise the label
names the harness parts that stand in for what no process can do.

Everything here is data: a new walker, role or driver is one line in
``ROLE_ENTRIES``, ``WALKER_ENTRIES`` or ``DRIVERS``, a known race's roles
one line in ``RACE_ROLES``.  ``label()`` returns::

    {"in_tree": bool, "entries": [...], "driver": "...", "harness_parts": [...]}
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Entry:
    """How a role or walker gets into the tree's code.  ``entry``: the
    process-level entry (None when there is none); ``harness``: what of
    pywalk's own stands in (None when nothing does)."""
    entry: str | None
    harness: str | None = None


# role -> how its threads enter (a walker's entry depends on its kind: below)
ROLE_ENTRIES: dict[str, Entry] = {
    "reader": Entry("page fault (read)"),
    "writer": Entry("page fault (write)"),
    "zapper": Entry("madvise(MADV_DONTNEED)"),
    # 7.x: the tree's prctl_set_thp_disable(); 6.x: sys_prctl()'s case, which
    # cannot be sliced, as csrc/scenarios.c writes it (set the flag under
    # mmap_lock for write)
    "flipper": Entry("prctl(PR_SET_THP_DISABLE)"),
    # a finding of the hunt's end (thread -1, pywalk/hunt/teardown.py): the mm
    # torn down as a process exit tears it down, then checked as check_mm() does
    "exit": Entry("process exit (exit_mmap(): the tree's zap and free_pgd_range(), "
                  "then check_mm())"),
    "reaper": Entry(None, "pywalk's reaper: munmap()'s teardown core (zap + free_pgd_range) "
                          "without unmap_region()"),
}

# walker kind -> how a walker thread running it enters
WALKER_ENTRIES: dict[str, Entry] = {
    "numa_maps": Entry("read /proc/PID/numa_maps"),
    "smaps": Entry("read /proc/PID/smaps"),
    "pagemap": Entry("read /proc/PID/pagemap"),
    "mincore": Entry("mincore()"),
    "dirty": Entry(None, "pywalk's caller of the tree's wp_shared_mapping_range() walk: "
                         "walk_page_range() under mmap_lock, not walk_page_mapping() under "
                         "i_mmap_rwsem (no in-tree caller reaches it from a process as run here)"),
    "dirty-clean": Entry(None, "pywalk's caller of the tree's "
                               "clean_record_shared_mapping_range() walk (as for 'dirty')"),
    "count": Entry(None, "pywalk's own walker 'count' (no in-tree walker has all callbacks)"),
    "count-numa": Entry(None, "pywalk's own walker 'count-numa' (numa_maps-like; the tree's "
                              "is --walker numa_maps)"),
    "count-dirty": Entry(None, "pywalk's own walker 'count-dirty' (dirty-tracking-like)"),
    "pmd_pte": Entry(None, "pywalk's own walker 'pmd_pte' (pmd_entry and pte_entry "
                           "through walk_page_range())"),
    "python": Entry(None, "a Python walk callback (pywalk's API)"),
}

# --driver -> (the driver's name, or None, and the harness part when it is ours)
DRIVERS: dict[str | None, Entry] = {
    "dax": Entry("device-dax"),
    "vfio": Entry("vfio-pci"),
    "write-notify": Entry(None, "pywalk's write-notify driver: no in-tree driver falls back "
                                "on a write to a read-only PUD leaf"),
}
DRIVERS[None] = DRIVERS["write-notify"]

# known race (pywalk/hunt/races.py) -> the roles it takes; a finding that is
# no known race involves its own role and those of the stores to the entry
# it tripped on (racing)
RACE_ROLES: dict[str, tuple[str, ...]] = {
    "walker race": ("walker", "reader"),
    "2019 fault race": ("writer", "reader"),
    "pmd_alloc TOCTOU": ("writer", "reader"),
    "bad pmd": ("walker", "reader"),
    "zap bad pud": ("zapper", "reader"),
    "writable huge PUD under dirty tracking": ("walker", "reader"),
    "writable huge PMD under dirty tracking": ("walker", "reader"),
}


def _role_entry(role: str, kinds: list[str | None]) -> list[Entry]:
    if role != "walker":
        return [ROLE_ENTRIES.get(role, Entry(None, f"pywalk's {role} role"))]
    return [WALKER_ENTRIES.get(k or "count", Entry(None, f"pywalk's walker {k!r}"))
            for k in (kinds or [None])]


def label(finding, *, race: str | None = None, driver: str | None = None,
          walker_kinds: dict[str, list] | None = None,
          thread_kinds: dict[int, str | None] | None = None) -> dict:
    """The reachability label of a finding.  race: its known race's name
    (or None); driver: the hunt's --driver; walker_kinds: role -> the walker
    kinds its threads run (for roles not tied to a thread of the finding);
    thread_kinds: thread id -> walker kind (the finding's and its racing
    stores' threads)."""
    walker_kinds = walker_kinds or {}
    thread_kinds = thread_kinds or {}
    involved: dict[str, list] = {}

    def add(role: str, kind=None, known: bool = False) -> None:
        kinds = involved.setdefault(role, [])
        if role == "walker":
            for k in ([kind] if known else walker_kinds.get(role, [None])):
                if k not in kinds:
                    kinds.append(k)

    tid = getattr(finding, "thread", None)
    add("exit" if tid == -1 else finding.role, thread_kinds.get(tid), tid in thread_kinds)
    if race in RACE_ROLES:      # a known race: its roles (older stores may be anyone's)
        for role in RACE_ROLES[race]:
            if role not in involved:
                add(role)
    else:
        for r in getattr(finding, "racing", None) or []:
            add(r.get("role"), thread_kinds.get(r.get("thread")), r.get("thread") in thread_kinds)
    entries: list[str] = []
    harness: list[str] = []
    for role, kinds in involved.items():
        for e in _role_entry(role, kinds):
            if e.entry and e.entry not in entries:
                entries.append(e.entry)
            if e.harness and e.harness not in harness:
                harness.append(e.harness)
    drv = DRIVERS.get(driver, Entry(None, f"driver {driver!r}"))
    if drv.harness:
        harness.append(drv.harness)
    return {"in_tree": not harness, "entries": entries,
            "driver": drv.entry or "pywalk's write-notify driver", "harness_parts": harness}


def text(lab: dict) -> str:
    """One line for a report."""
    how = " + ".join(lab["entries"]) or "no process-level entry"
    if lab["in_tree"]:
        return f"reachable in-tree: {how} on {lab['driver']}"
    return f"not in-tree: {how}; harness: {'; '.join(lab['harness_parts'])}"
