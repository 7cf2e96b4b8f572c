# SPDX-License-Identifier: GPL-2.0-only
"""Choosing walk clients and huge-fault drivers for a hunt.

``--walker`` names the client every walker thread runs: ours
(csrc/walkers.c: ``count-numa``, ``count-dirty``, ``pmd_pte``, ``count``)
or the tree's own (``numa_maps``, ``smaps``, ``pagemap``, ``dirty``,
``dirty-clean``, ``mincore``: sliced from fs/proc/task_mmu.c,
mm/mapping_dirty_helpers.c and mm/mincore.c).  ``--driver`` names
whose huge_fault the scenario's mapping has: ``write-notify`` (ours,
csrc/driver.c, the default), ``vfio`` (the tree's
vfio_pci_mmap_huge_fault(), 6.12 on) or ``dax`` (the tree's
dev_dax_huge_fault(), /dev/daxN.M, 6.1 and 6.12; a tree without it: see
:func:`pywalk.variant.runtime.driver_unavailable`).
"""

from __future__ import annotations

from pywalk.errors import UsageError
from pywalk.variant.runtime import DRIVERS, TREE_CLIENTS, WALKERS, Variant, driver_unavailable

WALKER_CHOICES = tuple(w for w in WALKERS if w != "python")
DRIVER_CHOICES = tuple(DRIVERS)


def add_args(p) -> None:
    """--walker and --driver for a subcommand's parser."""
    p.add_argument("--walker", choices=WALKER_CHOICES,
                   help="walk client of every walker thread: the tree's (numa_maps, smaps, "
                        "pagemap, mincore, dirty, dirty-clean) or ours (count-numa, count-dirty, pmd_pte, count); "
                        "default: the scenario's")
    p.add_argument("--driver", choices=DRIVER_CHOICES,
                   help="huge-fault driver of the mapping: write-notify (ours, default), "
                        "vfio (the tree's vfio_pci_mmap_huge_fault(), 6.12 on), dax (the tree's "
                        "dev_dax_huge_fault(), device-dax; every supported tree)")


def unavailable(variant: Variant, walker: str | None, driver: str | None) -> str | None:
    """Why this variant cannot run that client or driver, or None."""
    notes = getattr(getattr(variant, "result", None), "notes", [])
    if walker in TREE_CLIENTS and not variant.has_client(walker):
        if _left_out(notes, "clients"):
            return (f"{variant.kernel}: this tree's walk clients do not build against "
                    "pywalk's shim (see the build's note)")
        return f"{variant.kernel}: the tree's {walker} walk is not in this build"
    if driver not in (None, "write-notify") and not variant.has_driver(driver):
        if _left_out(notes, "drivers"):
            return (f"{variant.kernel}: this tree's drivers do not build against pywalk's "
                    "shim (see the build's note)")
        return f"{variant.kernel}: {driver_unavailable(driver)}"
    return None


def _left_out(notes, group: str) -> bool:
    """Did the build leave that group out (pywalk/variant/builder.py's note)?"""
    return any(n.startswith("note: this tree's walk ") and group in n.split(" do not build")[0]
               for n in notes)


def check(variant: Variant, walker: str | None, driver: str | None) -> None:
    """UsageError (one line) when the variant cannot run that client or driver."""
    why = unavailable(variant, walker, driver)
    if why:
        raise UsageError(f"pywalk: --driver/--walker: {why}")
