# SPDX-License-Identifier: GPL-2.0-only
"""Version matrix: scenarios over kernels x patch sets, in one table.

For each kernel (a Debian series name, a tree or a tarball) the patch sets
are "as shipped" plus either the sets given with --patch (each --patch
argument is one set: a file, a quilt directory or a directory of *.patch)
or, without --patch, the shipped patches for the kernel's series
(``DEFAULT_SETS``):

  6.1   as shipped              walk-vs-refault  race   (CVE-2026-31456)
  6.1   + 2019 walker fix       walk-vs-refault  clean
  6.12  as shipped              walk-vs-refault  clean  (upstream fix)
  6.12  - CVE fix (revert)      walk-vs-refault  race

Every cell is one pywalk.stress.run() with the same op budget and seed; a
cell stops at its first finding.  Expectations are kept per series
(``AS_SHIPPED``, ``DEFAULT_SETS``: 6.1, 6.12, 7.2, 7.3) and apply to the
Debian package and to a tree of that series alike; a tree of another
series shows "-" in the expected column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pywalk.tree import gitinfo
from pywalk.variant import labels, runtime
from pywalk.variant.patches import load_patches
from pywalk.tree import sources
from pywalk.hunt import clients, stress
from pywalk.assets import patch_path
from pywalk.errors import BuildError
from pywalk.hunt.races import BAD_PMD, FAULT_RACE, WALKER_RACE, Race
from pywalk.hunt.verdict import as_expected

FIX_2019 = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT_CVE = "6.12/revert-cve-2026-31456-fix.patch"
REVERT_CVE_72 = "7.2/revert-cve-2026-31456-fix.patch"
REVERT_CVE_73 = "7.3/revert-cve-2026-31456-fix.patch"
# 7.2 and 7.3 carry the upstream walker fix, as 6.12 does
_FIXED = {"walk-vs-refault": (WALKER_RACE, False), "walk-vs-refault-pmd": (BAD_PMD, False),
          "fault-vs-fault": (FAULT_RACE, False), "mixed": (WALKER_RACE, False)}


@dataclass(frozen=True)
class PatchSet:
    label: str                      # "as shipped", "+ 2019 walker fix", "+ my.patch"
    patches: tuple[str, ...]        # paths (or shipped names, see resolve())
    # scenario -> (race looked for, expected to show) (Debian sources only)
    expect: dict = field(default_factory=dict)
    shipped: bool = False           # patches are names under pywalk's patches/

    def paths(self) -> list[str]:
        return [patch_path(p) for p in self.patches] if self.shipped else list(self.patches)


AS_SHIPPED = {
    "6.1": {"walk-vs-refault": (WALKER_RACE, True), "walk-vs-refault-pmd": (BAD_PMD, True),
            "fault-vs-fault": (FAULT_RACE, False), "mixed": (WALKER_RACE, True)},
    "6.12": {"walk-vs-refault": (WALKER_RACE, False), "walk-vs-refault-pmd": (BAD_PMD, False),
             "fault-vs-fault": (FAULT_RACE, False), "mixed": (WALKER_RACE, False)},
    "7.2": dict(_FIXED),
    "7.3": dict(_FIXED),
}
DEFAULT_SETS = {
    "6.1": (PatchSet("+ 2019 walker fix", (FIX_2019,),
                     {"walk-vs-refault": (WALKER_RACE, False)}, True),),
    "6.12": (PatchSet("- CVE fix (revert)", (REVERT_CVE,),
                      {"walk-vs-refault": (WALKER_RACE, True)}, True),),
    "7.2": (PatchSet("- CVE fix (revert)", (REVERT_CVE_72,),
                     {"walk-vs-refault": (WALKER_RACE, True)}, True),),
    "7.3": (PatchSet("- CVE fix (revert)", (REVERT_CVE_73,),
                     {"walk-vs-refault": (WALKER_RACE, True)}, True),),
}


def series_of(version: str) -> str:
    """"6.12" for "6.12.117", "6.1" for "6.1.192-rc1"."""
    parts = version.split(".")
    minor = "".join(ch for ch in (parts[1] if len(parts) > 1 else "") if ch.isdigit())
    return f"{parts[0]}.{minor}"


def user_set(spec: str) -> PatchSet:
    """A --patch argument as one patch set, labelled by its file or directory name."""
    name = spec.rstrip("/").rsplit("/", 1)[-1] or spec
    return PatchSet(f"+ {name}", (spec,))


@dataclass
class Cell:
    kernel_spec: str
    kernel: str                     # version, e.g. 6.12.117
    origin: str
    patch_set: PatchSet
    scenario: str
    race: Race | None               # the race looked for; None: any finding
    expect_race: bool | None
    result: stress.StressResult | None = None
    error: str | None = None        # the build's error (first line in the table)
    kernel_git: str | None = None   # git describe of a --kernel worktree
    walker: str | None = None       # --walker (None: the scenario's)
    driver: str | None = None       # --driver (None: ours)
    na: str | None = None           # why this tree cannot run that client x driver

    @property
    def label(self) -> str:
        base = f"{labels.kernel_label(self.kernel, self.kernel_git)} {self.patch_set.label}"
        if self.walker is None and self.driver is None:
            return base
        return f"{base} [{self.walker or 'default'} x {self.driver or 'write-notify'}]"

    @property
    def ok(self) -> bool:
        """As expected (a cell without an expectation is always ok)."""
        if self.na is not None:
            return True
        if self.error is not None or self.result is None:
            return False
        return as_expected(self.race, self.expect_race, self.result)

    def as_json(self) -> dict:
        d = {"kernel_spec": self.kernel_spec, "kernel": self.kernel, "origin": self.origin,
             "kernel_git": self.kernel_git,
             "patch_set": self.patch_set.label, "patch_files": self.patch_set.paths(),
             "scenario": self.scenario, "race": self.race.name if self.race else None,
             "expect_race": self.expect_race,
             "built": self.error is None, "error": self.error, "as_expected": self.ok,
             "walker": self.walker, "driver": self.driver or "write-notify",
             "not_applicable": self.na}
        if self.result is not None:
            d.update(self.result.as_json())
        return d


def user_sets(patch_specs: list[str]) -> list[PatchSet]:
    """The --patch sets; where two would get the same label from different
    contents, each label gets its set's short content hash."""
    sets = [user_set(p) for p in patch_specs]
    if len({s.label for s in sets}) == len(sets):
        return sets
    hashes = [labels.set_hash(p.sha256 for p in load_patches(s.paths())) for s in sets]
    clash = labels.clashing([(s.label, h) for s, h in zip(sets, hashes)])
    return [PatchSet(f"{s.label}@{h}", s.patches) if c else s
            for s, h, c in zip(sets, hashes, clash)]


def plan(kernel_specs: list[str], patch_specs: list[str], scenarios: list[str],
         *, fetch: bool = True, walkers=(None,), drivers=(None,)) -> list[Cell]:
    """The cells, kernel by kernel, patch set by patch set, scenario by scenario,
    then walk client by driver.  Expectations hold only for the scenarios' own
    walkers and our driver; other client x driver cells look for any finding."""
    cells = []
    given = user_sets(patch_specs)
    for spec in kernel_specs:
        src = sources.resolve(spec, fetch=fetch)
        git = gitinfo.describe(src.root) if src.origin.startswith("tree:") else None
        series = series_of(src.version)
        # expectations are per series: for the Debian package and for a tree
        # of a series pywalk knows (by its version), e.g. --kernel ~/linux-7.3
        debian = sources.is_series(spec) or series in AS_SHIPPED
        sets = [PatchSet("as shipped", (), AS_SHIPPED.get(series, {}) if debian else {})]
        if patch_specs:
            sets += given
        else:
            sets += [s if debian else PatchSet(s.label, s.patches, {}, s.shipped)
                     for s in DEFAULT_SETS.get(series, ())]
        for ps in sets:
            for sc in scenarios:
                # --walker applies where the scenario has walker threads
                has_walkers = any(g.split("/")[0] == "walker" for g in stress.SCENARIOS[sc].roles)
                for w in (walkers if has_walkers else (None,)):
                    for d in drivers:
                        race, expect = (ps.expect.get(sc, (None, None))
                                        if w is None and d in (None, "write-notify")
                                        else (None, None))
                        cells.append(Cell(spec, src.version, src.origin, ps, sc, race, expect,
                                          kernel_git=git, walker=w, driver=d))
    return cells


def run(cells: list[Cell], *, ops: int, seed: int, delays: bool, progress=None,
        fuzz: int | None = None, allow_unused: bool = True, on_notes=None,
        instrumented: bool = True, model: str = "native") -> bool:
    """Build and run every cell (in place).  Returns False if interrupted.
    fuzz, allow_unused: see pywalk.build(); on_notes(notes) gets each new
    variant's patch notes and warnings."""
    variants: dict[tuple, runtime.Variant | BuildError] = {}
    for cell in cells:
        key = (cell.kernel_spec, cell.patch_set.patches)
        if key not in variants:
            try:
                variants[key] = runtime.build(cell.kernel_spec, cell.patch_set.paths(),
                                              fuzz=fuzz, allow_unused=allow_unused,
                                              instrumented=instrumented, model=model)
                if on_notes is not None:
                    on_notes(variants[key].result.notes)
            except BuildError as e:
                variants[key] = e
        v = variants[key]
        if isinstance(v, BuildError):
            cell.error = str(v)
            continue
        cell.na = clients.unavailable(v, cell.walker, cell.driver)
        if cell.na is not None:
            continue
        prog = progress(f"{cell.label} {cell.scenario}") if progress else None
        # a cell that looks for one race hunts past other findings
        cell.result = stress.run(v, cell.scenario, ops=ops, seed=seed,
                                 delays=stress.DelayProfile() if delays else None,
                                 progress=prog, keep_going=cell.race is not None,
                                 stop_when=cell.race.matches if cell.race else None,
                                 walker=cell.walker, driver=cell.driver)
        if prog is not None:
            prog.done()
        if cell.result.interrupted:
            return False
    return True
