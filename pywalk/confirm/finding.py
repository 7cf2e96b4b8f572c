# SPDX-License-Identifier: GPL-2.0-only
"""What `pywalk confirm` confirms: a finding's kernel, scenario, walker and
driver (from a stress/replay JSON report or from hunt arguments), and the
roles a process plays to enter the kernel the same way.

A pywalk role becomes what a process does:

=========  ======================================================
reader     faults the mapping in by reading it
writer     faults the mapping in by writing it
walker     reads /proc/self/numa_maps, smaps or pagemap, or calls mincore()
zapper     madvise(MADV_DONTNEED) over full or partial leaf ranges
flipper    prctl(PR_SET_THP_DISABLE) on and off
=========  ======================================================

pywalk's own walk clients (count, count-numa, count-dirty, pmd_pte), its
write-notify driver and its reaper have no process-level counterpart: such
a finding is refused with one line naming the role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pywalk.errors import UsageError

# pywalk walker names a process reaches through a system call or /proc file
PROC_WALKERS = ("numa_maps", "smaps", "pagemap", "mincore")
ROLE_KINDS = {"reader": "fault-read", "writer": "fault-write", "zapper": "zap",
              "flipper": "flip-thp"}
REFUSED_ROLES = {
    "reaper": "pywalk's page-table teardown of a live range (free_pgtables() under "
              "mmap_lock) has no process-level counterpart",
    "abba": "a test-only deadlock of pywalk's own locks",
}
REFUSED_DRIVERS = {
    "write-notify": "pywalk's own write-notify driver has no in-tree counterpart "
                    "(no in-tree driver falls back on a write to a read-only PUD leaf)",
    "vfio": "the guest has no VFIO device to map",
}
LEAF_ALIGN = {"pud": "1G", "pmd": "2M"}


@dataclass(frozen=True)
class Role:
    role: str           # pywalk's name: reader, writer, walker, zapper, flipper
    kind: str           # what the process does: fault-read, walk-numa_maps, zap, ...
    threads: int


@dataclass
class Finding:
    kernel: str                     # a kernel spec for sources.resolve() ("6.1=6.1.192-3")
    scenario: str
    walker: str | None
    driver: str | None
    threads: dict                   # role -> thread count
    leaf: str = "pud"               # the leaf level the device maps: pud (1 GiB) or pmd (2 MiB)
    message: str | None = None      # the finding's first message in pywalk, if any
    seed: int = 1
    patches: list = field(default_factory=list)
    user_tree: bool = False         # a tree or tarball of the user's: no Debian image
    size: int | None = None         # bytes of the device the scenario maps (None: all of it)

    @property
    def align(self) -> str:
        return LEAF_ALIGN[self.leaf]

    def label(self) -> str:
        return (f"{self.scenario} walker={self.walker or '-'} driver={self.driver or '-'} "
                f"on {self.kernel}")

    def as_json(self) -> dict:
        return {"kernel": self.kernel, "scenario": self.scenario, "walker": self.walker,
                "driver": self.driver, "threads": self.threads, "leaf": self.leaf,
                "message": self.message, "seed": self.seed, "patches": self.patches,
                "size": self.size}


def _scenarios() -> dict:
    from pywalk.hunt import stress     # the scenario table (hunt layer, same level)
    return stress.SCENARIOS


def _leaf_of(scenario: str) -> str:
    sc = _scenarios().get(scenario)
    huge = getattr(sc, "huge", None)
    if huge in LEAF_ALIGN:
        return huge
    return "pmd" if scenario.endswith("-pmd") else "pud"


def _size_of(scenario: str) -> int | None:
    size = getattr(_scenarios().get(scenario), "size", None)
    return size if isinstance(size, int) and size > 0 else None


def _default_walker(scenario: str) -> str | None:
    sc = _scenarios().get(scenario)
    kinds = [kind for group, (_, kind, _) in (sc.roles.items() if sc else ())
             if group.split("/")[0] == "walker" and kind]
    return kinds[0] if len(set(kinds)) == 1 else None


def from_args(kernel: str, scenario: str, walker: str | None, driver: str | None,
              seed: int = 1) -> Finding:
    """A finding named by a hunt's arguments; the scenario's default thread counts."""
    sc = _scenarios().get(scenario)
    if sc is None:
        raise UsageError(f"pywalk: no scenario {scenario!r} (scenarios: "
                         f"{', '.join(sorted(_scenarios()))})")
    threads: dict[str, int] = {}
    for group, (n, _, _) in sc.roles.items():
        role = group.split("/")[0]
        threads[role] = threads.get(role, 0) + n
    return Finding(kernel=kernel, scenario=scenario, walker=walker or _default_walker(scenario),
                   driver=driver, threads=threads, leaf=_leaf_of(scenario), seed=seed,
                   user_tree=not _is_series(kernel), size=_size_of(scenario))


def _is_series(kernel: str) -> bool:
    from pywalk.tree import sources
    return sources.is_series(kernel)


def kernel_of_report(report: dict) -> tuple[str, bool]:
    """(kernel spec, is it a user's tree) of a stress or replay report."""
    origin = (report.get("source") or {}).get("origin") or ""
    if origin.startswith("debian:linux-source-"):
        package, _, version = origin[len("debian:"):].partition("=")
        series = package[len("linux-source-"):]
        return (f"{series}={version}" if version else series), False
    replay = report.get("replay") or {}
    if isinstance(replay.get("kernel_arg"), str) and _is_series(replay["kernel_arg"]):
        return replay["kernel_arg"], False
    if origin:
        return origin.split(":", 1)[-1], True
    raise UsageError("pywalk: the report names no kernel (no source.origin): it is not "
                     "from `pywalk stress --json` or `pywalk replay`")


def from_report(path: str) -> Finding:
    """The finding of a `pywalk stress --json` (or shrink/explore) report."""
    try:
        with open(path) as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageError(f"pywalk: cannot read report {path}: {e}") from None
    if not isinstance(report, dict) or not isinstance(report.get("scenario"), str):
        raise UsageError(f"pywalk: {path} is not a pywalk stress/replay report (no scenario)")
    scenario = report["scenario"]
    kernel, user_tree = kernel_of_report(report)
    threads = report.get("threads")
    if not isinstance(threads, dict) or not threads:
        threads = (report.get("schedule") or {}).get("threads")
    if isinstance(threads, dict) and threads:
        counts: dict[str, int] = {}
        for group, n in threads.items():
            n = n[0] if isinstance(n, list) else n
            if not isinstance(n, int):
                raise UsageError(f"pywalk: {path}: thread count of {group!r} is not a number")
            counts[group.split("/")[0]] = counts.get(group.split("/")[0], 0) + n
    else:
        counts = from_args(kernel, scenario, None, None).threads
    findings = report.get("findings") or []
    message = findings[0].get("message") if findings and isinstance(findings[0], dict) else None
    seed = report.get("seed") if isinstance(report.get("seed"), int) else 1
    driver = report.get("driver")
    return Finding(kernel=kernel, scenario=scenario,
                   walker=report.get("walker") or _default_walker(scenario),
                   driver=None if driver in (None, "") else driver, threads=counts,
                   leaf=_leaf_of(scenario), message=message, seed=seed,
                   patches=list(report.get("patches") or []), user_tree=user_tree,
                   size=_size_of(scenario))


def process_roles(finding: Finding) -> list[Role]:
    """The roles of the reproducer; UsageError (one line) naming a role that a
    process cannot play."""
    driver = finding.driver or "write-notify"
    if driver != "dax":
        why = REFUSED_DRIVERS.get(driver, "only device-dax is in the guest")
        raise UsageError(f"pywalk: cannot confirm on a real kernel: driver {driver}: {why}; "
                         "a finding with --driver dax can be confirmed")
    roles = []
    for role, n in finding.threads.items():
        if n <= 0:
            continue
        if role in REFUSED_ROLES:
            raise UsageError(f"pywalk: cannot confirm on a real kernel: role {role}: "
                             f"{REFUSED_ROLES[role]}")
        if role == "walker":
            walker = finding.walker
            if walker not in PROC_WALKERS:
                raise UsageError(
                    f"pywalk: cannot confirm on a real kernel: walker {walker or '(none)'} is "
                    "pywalk's own walk client, with no process-level counterpart; use "
                    f"--walker {', '.join(PROC_WALKERS[:-1])} or {PROC_WALKERS[-1]}")
            roles.append(Role(role, f"walk-{walker}", n))
        elif role in ROLE_KINDS:
            roles.append(Role(role, ROLE_KINDS[role], n))
        else:
            raise UsageError(f"pywalk: cannot confirm on a real kernel: role {role} has no "
                             "process-level counterpart")
    if not roles:
        raise UsageError("pywalk: cannot confirm on a real kernel: the finding has no threads")
    return roles
