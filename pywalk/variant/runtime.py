# SPDX-License-Identifier: GPL-2.0-only
"""The Python API: variants, mms, faults, lookups and walks.

Every call into C releases the GIL (cffi API mode), so several Python
threads run kernel code at the same time.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path
from typing import Iterable, Mapping

from pywalk.errors import UsageError
from pywalk.variant import builder as _build
from pywalk.variant.delays import DelayProfile, profile_of
from pywalk.variant import consts, labels
from pywalk.variant import model as build_model
# the harness's constants, read from C (csrc/pywalk_api.h) by consts.py
from pywalk.variant.consts import (ALL_ROLES, CALLBACKS, DRIVERS, ERR_NOVMA, ERR_OOPS,  # noqa: F401
                                   ERR_PANIC, ERR_TAINTED, HUGE_LEVELS, LEVELS, ROLE_NAMES, ROLES,
                                   SELFTESTS, STATES, TEST_ROLES, TREE_CLIENTS, WALKERS)
from pywalk.variant.oops import KernelOops, MMTainted, read_report
# who a thread is in reports, and Python walk callbacks (pywalk/variant/pythreads.py)
from pywalk.variant.pythreads import (WalkCallbackError, _PyWalker,  # noqa: F401
                                      _register_python_callback, _this_thread, _who, set_role)

__all__ = ["Variant", "MM", "KernelOops", "MMTainted", "DelayProfile", "build", "set_role",
           "CALLBACKS", "WALKERS", "ROLES"]

_HALF = consts.C["PW_MAP_HALF_WRITE_NOTIFY"]
_MAX_WARNS = consts.C["PW_MAX_WARNS"]
VM_FAULT_NAMES = {0x1: "OOM", 0x2: "SIGBUS", 0x4: "MAJOR", 0x40: "SIGSEGV",
                  0x100: "NOPAGE", 0x200: "LOCKED", 0x400: "RETRY", 0x800: "FALLBACK"}

_modules: dict[str, object] = {}
_modules_lock = threading.Lock()


def _load(path: Path):
    """Import a variant's extension module once per process."""
    key = str(path)
    with _modules_lock:
        mod = _modules.get(key)
        if mod is None:
            name = path.name.split(".")[0]
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
            sys.modules[name] = mod
            _register_python_callback(mod)
            if mod.lib.pw_init() != 0:
                raise MemoryError("pywalk: cannot reserve fake physical memory")
            _modules[key] = mod
    return mod


class Variant:
    """A built kernel variant: a kernel source plus patches, loaded."""

    def __init__(self, result: _build.BuildResult):
        self.result = result
        self.id = result.variant_id
        self.kernel = result.kernel.version
        self.patches = [p.name for p in result.patches]
        self.patch_sha256 = [p.sha256 for p in result.patches]
        self.kernel_git = result.kernel_git   # git describe of a --kernel worktree, or None
        self.show_hash = False                # see pywalk/variant/labels.py
        self.module_path = result.module_path
        self.instrumented = result.instrumented
        self.model = result.model     # how pud_val() & co compile (variant/model.py)
        self._mod = _load(result.module_path)
        self.ffi = self._mod.ffi
        self.lib = self._mod.lib

    def __repr__(self) -> str:
        return f"<Variant {self.id} kernel {self.kernel} patches {self.patches}>"

    @property
    def name(self) -> str:
        """The label: version, git describe of a worktree, patch names (and
        their content hash where needed, pywalk/variant/labels.py)."""
        return labels.label(self.kernel, self.kernel_git, self.patches, self.patch_sha256,
                            with_hash=self.show_hash) + build_model.suffix(self.model)

    def has_driver(self, driver: str) -> bool:
        """Can this variant run the tree's driver ("vfio", "dax"; "write-notify" is ours)?"""
        return bool(self.lib.pw_driver_has(DRIVERS[driver]))

    @property
    def pmd_alloc_recheck(self) -> bool | None:
        """Does the tree's __handle_mm_fault() recheck the pud after pmd_alloc()?"""
        facts = getattr(self.result, "facts", None)
        if not facts or "PW_TREE_PMD_ALLOC_RECHECK" not in facts:
            return None
        return bool(facts["PW_TREE_PMD_ALLOC_RECHECK"])

    def has_client(self, walker: str) -> bool:
        """Does this tree have the walk client ("numa_maps", "dirty", ...; ours always)?"""
        return bool(self.lib.pw_client_has(WALKERS[walker]))

    def new_mm(self, delays=None) -> "MM":
        """A new mm.  delays: window widening for every call on it (True: the
        default DelayProfile; a DelayProfile; a spec string such as
        "unlock=2048:1000,yield=100"; None/False: off)."""
        return MM(self, delays=delays)

    @property
    def provenance(self) -> dict:
        """Exactly what this variant was built from: the kernel's origin, package
        version and archive sha256, the patches, and the sha256 of every tree file used."""
        r = self.result
        return {**r.kernel.as_json(), "variant": self.id,
                "patches": [{"name": p.name, "sha256": p.sha256} for p in r.patches],
                "sources": [{"path": s.path, "sha256": s.sha256} for s in r.sources]}


def build(kernel=None, patches: Iterable = (), *, fetch: bool = True, fuzz: int | None = None,
          allow_unused: bool = True, instrumented: bool = False,
          model: str = "native") -> Variant:
    """Build (or take from the cache) and load a variant.

    fuzz: None applies patches stricter than git apply (no offset, no fuzz); N allows offsets
    and N lines of context fuzz.  allow_unused False: a patch that changes
    nothing the build uses is a PatchError (exit 125).  instrumented: the
    tree's code calls a hook before every access (variant/instrument.py)."""
    return Variant(_build.build(kernel, list(patches), fetch=fetch, fuzz=fuzz,
                                allow_unused=allow_unused, instrumented=instrumented,
                                model=model))


class MM:
    """One mm_struct of a variant: mappings, faults, walks."""

    def __init__(self, variant: Variant, delays=None):
        self.variant = variant
        self.lib = variant.lib
        self.ffi = variant.ffi
        profile = profile_of(delays)
        self.lib.pw_install_signal_handlers()
        self._m = self.lib.pw_mm_new()
        if self._m == self.ffi.NULL:
            raise MemoryError("pywalk: cannot create an mm")
        self._warns_seen = 0
        self.delays: DelayProfile | None = None
        if profile is not None:
            self.set_delays(profile)

    def set_delays(self, delays) -> None:
        """Window widening for every later call on this mm, from any thread
        (see new_mm()); None or False turns it off."""
        p = profile_of(delays)
        q = (p or DelayProfile()).resolved(self.variant.instrumented)
        self.lib.pw_mm_set_delays(self._m, 1 if p else 0,
                                  self.ffi.new("unsigned int[]", list(q.prob)),
                                  self.ffi.new("unsigned int[]", list(q.max_spins)),
                                  q.yield_permille)
        self.delays = p

    def close(self) -> None:
        if self._m is not None and self._m != self.ffi.NULL:
            self.lib.pw_mm_free(self._m)
            self._m = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    @property
    def handle(self):
        return self._m

    # -- reports ---------------------------------------------------------
    @property
    def tainted(self) -> bool:
        return bool(self.lib.pw_mm_panicked(self._m))

    def _read(self, c_report):
        rep = read_report(c_report, str(self.variant.module_path), self.ffi)
        rep.thread_name, rep.role_name = _who(rep.thread, rep.role)
        rep.pmd_alloc_recheck = self.variant.pmd_alloc_recheck
        rep.model = self.variant.model
        return rep

    def oops_report(self):
        if not self.tainted:
            return None
        return self._read(self.lib.pw_mm_oops(self._m))

    def warnings(self):
        n = min(self.lib.pw_mm_nwarns(self._m), _MAX_WARNS)
        return [self._read(self.lib.pw_mm_warn(self._m, i)) for i in range(n)]

    def _check(self, r: int) -> int:
        if r in (ERR_OOPS, ERR_PANIC):
            rep = self.oops_report()
            if rep is None:     # unwound by pw_watchdog_kick(): Ctrl-C or a time bound
                raise MMTainted("pywalk: the call was stopped (Ctrl-C or the hunt's time bound)")
            raise KernelOops(rep)
        if r == ERR_TAINTED:
            raise MMTainted("pywalk: this mm oopsed before (it is tainted); use a new mm")
        n = self.lib.pw_mm_nwarns(self._m)
        if n > self._warns_seen:
            warns = self.warnings()
            self._warns_seen = n
            raise KernelOops(warns[min(n, _MAX_WARNS) - 1])
        return r

    # -- operations --------------------------------------------------------
    def map(self, size: int, huge=True, write_notify: bool | str = False,
            driver: str | None = None) -> int:
        """mmap() a huge-page device; returns the start address.

        driver None or "write-notify": ours (the fake huge-page device) with
        huge and write_notify: True, writes fall back below huge leaves
        (dirty tracking); False, a writable mapping (as a VFIO BAR or
        device-dax): write faults get writable leaves; "half": two mappings
        side by side, the first half write-notify, the second writable.
        "vfio" or "dax": the tree's driver, mapped as its mmap does
        (write_notify does not apply; huge is device-dax's alignment, "pud"
        1 GiB or "pmd" 2 MiB; VFIO maps at the largest level alignment
        allows).  A driver this tree lacks is a ValueError."""
        _this_thread(self.lib)
        start = self.ffi.new("unsigned long *")
        if driver not in (None, "write-notify"):
            if not self.variant.has_driver(driver):
                raise ValueError(f"pywalk: {self.variant.kernel}: {driver_unavailable(driver)}")
            r = self._check(self.lib.pw_map_driver(self._m, size, DRIVERS[driver],
                                                   HUGE_LEVELS[huge], start))
        else:
            wn = _HALF if write_notify == "half" else int(bool(write_notify))
            r = self._check(self.lib.pw_map(self._m, size, HUGE_LEVELS[huge], wn, start))
        if r:
            raise OSError(-r, f"pywalk: map failed ({r})")
        return int(start[0])

    def fault(self, addr: int, write: bool = False) -> int:
        """The tree's __handle_mm_fault() at addr; returns its vm_fault_t."""
        _this_thread(self.lib)
        r = self._check(self.lib.pw_fault(self._m, addr, int(write)))
        if r == ERR_NOVMA:
            raise ValueError(f"pywalk: no mapping at {addr:#x}")
        return r

    def lookup(self, addr: int) -> tuple[str, str]:
        """The deepest entry for addr: e.g. ("pud", "leaf"), ("pte", "present")."""
        _this_thread(self.lib)
        level = self.ffi.new("int *")
        state = self.ffi.new("int *")
        self._check(self.lib.pw_lookup(self._m, addr, level, state))
        return LEVELS[level[0]], STATES[state[0]]

    def zap(self, start: int, end: int) -> int:
        """madvise(start, end - start, MADV_DONTNEED) through the tree's madvise
        code (csrc/api.c); returns what madvise() would: 0, -EINVAL (a VM_PFNMAP
        vma, as a VFIO BAR), -ENOMEM (a hole in the range)."""
        _this_thread(self.lib)
        return self._check(self.lib.pw_zap(self._m, start, end))

    def teardown(self) -> None:
        """Tear every page table down as exit_mmap() does, by the tree's own
        zap and free_pgd_range(), then check as check_mm() does: a table still
        counted, leaked or linked raises KernelOops (kind LEAK).  The mm can
        be faulted again afterwards."""
        _this_thread(self.lib)
        self._check(self.lib.pw_mm_teardown(self._m))

    def walk(self, start: int, end: int, callbacks=("pmd_entry", "pte_entry"),
             walker: str | None = None) -> dict:
        """The tree's walk_page_range() over [start, end).

        callbacks: names of counting callbacks to install, or a mapping of
        names to Python callables f(addr, next, entry_value, depth) that may
        return None, "continue", "again" or an int (non-zero ends the walk).
        walker: a built-in walker instead: ours ("count-numa", "count-dirty",
        "pmd_pte") or the tree's own client ("numa_maps", "smaps", "pagemap",
        "mincore", "dirty", "dirty-clean"),
        run as a census walk (csrc/clients.c: its own callbacks, each counted
        on its way through, and a pte_hole observer that changes nothing).
        Returns the callback counts, "splits" (huge entries the walk split),
        "retries" (splits after which the walk went back to the same entry)
        and "ret", walk_page_range()'s result.
        """
        _this_thread(self.lib)
        counts = self.ffi.new("struct pw_walk_counts *")
        handle = self.ffi.NULL
        pycounts: dict = {}
        if walker is not None:
            kind, mask = WALKERS[walker], 0
        elif isinstance(callbacks, Mapping):
            kind = WALKERS["python"]
            mask = sum(CALLBACKS[k] for k in callbacks)
            pw = _PyWalker(callbacks, pycounts)
            handle = self.ffi.new_handle(pw)
            _PyWalker.current_error.value = None
        else:
            kind = WALKERS["count"]
            mask = sum(CALLBACKS[k] for k in callbacks)
        r = self._check(self.lib.pw_walk(self._m, start, end, kind, mask, counts, handle))
        if kind == WALKERS["python"]:
            err = _PyWalker.current_error.value
            if err is not None:
                raise err
            out = {k: pycounts.get(k, 0) for k in callbacks}
        else:
            out = {k: getattr(counts, k) for k in CALLBACKS}
            out.update(pud_leaf=counts.pud_leaf, pmd_leaf=counts.pmd_leaf,
                       pte_present=counts.pte_present)
        out.update(splits=counts.pud_splits + counts.pmd_splits, retries=counts.retries)
        out["ret"] = r
        return out

    def selftest(self, what: str) -> int:
        """Exercise the oops machinery: "bug", "warn" or "use-after-free"."""
        _this_thread(self.lib)
        if what not in SELFTESTS:
            raise UsageError(f"pywalk: selftest {what!r}: one of {', '.join(SELFTESTS)}")
        return self._check(self.lib.pw_selftest(self._m, SELFTESTS[what]))

    def poke_leaf(self, addr: int) -> int:
        """Read the frame behind the huge PUD leaf at addr from C (faults)."""
        _this_thread(self.lib)
        return self._check(self.lib.pw_poke_leaf(self._m, addr))


def fault_name(ret: int) -> str:
    names = [n for bit, n in VM_FAULT_NAMES.items() if ret & bit]
    return "|".join(names) or "0"


def driver_unavailable(driver: str) -> str:
    """Why a driver cannot run here (for a tree, or for the shim)."""
    if driver == "dax":
        return "this tree has no dev_dax_huge_fault()"
    if driver == "vfio":
        return "this tree has no vfio_pci_mmap_huge_fault() (VFIO maps BARs with 4 KiB ptes)"
    return f"unknown driver {driver!r}"
