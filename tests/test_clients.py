# SPDX-License-Identifier: GPL-2.0-only
"""The tree's own walk clients (numa_maps, dirty tracking) and drivers (VFIO,
device-dax): sliced from the tree, chosen with --walker/--driver."""

import subprocess
import sys

import pytest

from pywalk.hunt import stress
from pywalk.hunt.races import FAULT_RACE, WALKER_RACE
from pywalk.variant import slicer

GiB = 1 << 30
CLIENT_FILES = ("fs/proc/task_mmu.c", "mm/mapping_dirty_helpers.c", "drivers/dax/device.c")
VFIO = "drivers/vfio/pci/vfio_pci_core.c"


def _taken(variant) -> dict:
    return {s.path: s.functions for s in variant.result.sources if not s.whole}


def test_slicer_takes_initialised_variables():
    text = ("static int f(int x)\n{\n\treturn x;\n}\n\n"
            "static const struct mm_walk_ops wp_walk_ops = {\n\t.pte_entry = f,\n};\n")
    defs = slicer.find_definitions(text, "x.c")
    assert defs["wp_walk_ops"][0].kind == "variable"
    assert defs["wp_walk_ops"][0].text.endswith("};")
    assert defs["f"][0].kind == "function"


def test_612_build_lists_the_clients_and_drivers(v612):
    taken = _taken(v612)
    for rel in CLIENT_FILES:
        assert taken.get(rel), rel
    assert "gather_pte_stats" in taken["fs/proc/task_mmu.c"]
    assert "show_numa_ops" in taken["fs/proc/task_mmu.c"]
    assert {"wp_walk_ops", "clean_walk_ops"} <= set(taken["mm/mapping_dirty_helpers.c"])
    assert "dev_dax_huge_fault" in taken["drivers/dax/device.c"]
    assert "vfio_pci_mmap_huge_fault" in taken[VFIO]
    assert v612.has_driver("vfio") and v612.has_driver("dax")


def test_61_has_the_clients_but_no_vfio_huge_fault(v61):
    taken = _taken(v61)
    assert "gather_pte_stats" in taken["fs/proc/task_mmu.c"]
    assert VFIO not in taken
    assert not v61.has_driver("vfio")
    mm = v61.new_mm()
    with pytest.raises(ValueError, match="vfio_pci_mmap_huge_fault"):
        mm.map(GiB, driver="vfio")
    mm.close()


def test_dirty_walk_keeps_a_read_only_huge_pud(mm):
    # dirty tracking runs on write-notify mappings (vmwgfx's): read faults
    # leave read-only leaves, which wp_clean_pud_entry() leaves alone
    start = mm.map(2 * GiB, huge="pud", write_notify=True)
    mm.fault(start)
    assert mm.lookup(start) == ("pud", "leaf")
    assert mm.walk(start, start + 2 * GiB, walker="dirty")["ret"] == 0
    assert mm.walk(start, start + 2 * GiB, walker="dirty-clean")["ret"] == 0
    assert mm.lookup(start) == ("pud", "leaf")


def test_dirty_walk_warns_on_a_writable_vfio_pud(v612):
    # a VFIO BAR is mapped PAGE_SHARED, so its PUD leaf is writable: the
    # tree's wp_clean_pud_entry() WARNs, as it would in the kernel
    mm = v612.new_mm()
    start = mm.map(GiB, driver="vfio")
    mm.fault(start)
    with pytest.raises(Exception, match="WARN_ON\\(pud_write"):
        mm.walk(start, start + GiB, walker="dirty")
    mm.close()


def test_vfio_pud_leaf_split_by_numa_maps(v612):
    mm = v612.new_mm()
    start = mm.map(2 * GiB, driver="vfio")
    mm.fault(start)
    mm.fault(start + GiB)
    assert mm.lookup(start) == ("pud", "leaf")
    # show_numa_ops has no pud_entry: walk_pud_range() splits (zaps) the PUD;
    # walk_page_vma() walks the VM_PFNMAP vma that walk_page_range() would skip
    assert mm.walk(start, start + 2 * GiB, walker="numa_maps")["ret"] == 0
    assert mm.lookup(start)[1] == "none"
    mm.fault(start)
    assert mm.lookup(start) == ("pud", "leaf")
    mm.close()


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "pywalk", *args], capture_output=True, text=True)


def test_cli_says_why_a_driver_cannot_run(v61):
    r = _cli("stress", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--driver", "vfio",
             "--ops", "100")
    assert r.returncode == 2 and "vfio_pci_mmap_huge_fault" in r.stderr
    assert "Traceback" not in r.stderr


def test_dax_upgrades_a_read_only_leaf_in_place(mm):
    # dev_dax_huge_fault() never falls back for a write: the leaf stays a
    # leaf at the device's alignment (1 GiB here, 2 MiB below)
    start = mm.map(2 * GiB, huge="pud", driver="dax")
    assert mm.fault(start) == 0x100               # VM_FAULT_NOPAGE
    assert mm.lookup(start) == ("pud", "leaf")
    mm.fault(start + 4096, write=True)
    assert mm.lookup(start) == ("pud", "leaf")
    small = mm.map(GiB, huge="pmd", driver="dax")
    mm.fault(small, write=True)
    assert mm.lookup(small) == ("pmd", "leaf")


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2])
def test_numa_maps_vs_vfio_finds_the_cve_without_the_fix(v612_revert, seed):
    # measured (loaded 2-core machine): ~1e5 ops to the first finding
    r = stress.run(v612_revert, "walk-vs-refault", ops=20_000_000, seed=seed,
                   walker="numa_maps", driver="vfio", keep_going=True,
                   stop_when=WALKER_RACE.matches)
    hits = [f for f in r.findings if WALKER_RACE.matches(f)]
    assert hits, f"no walker race in {r.ops} ops"
    assert any("walk_page_vma" in b for b in hits[0].backtrace)


@pytest.mark.stress
def test_numa_maps_vs_vfio_clean_as_shipped(v612):
    r = stress.run(v612, "walk-vs-refault", ops=1_000_000, seed=1, walker="numa_maps",
                   driver="vfio")
    assert r.findings == [] and r.ops >= 1_000_000


@pytest.mark.stress
def test_dax_finds_the_walker_race_on_61(v61):
    # numa_maps against device-dax on 6.1 (before the CVE fix): measured ~1e5 ops
    r = stress.run(v61, "walk-vs-refault", ops=20_000_000, seed=1, walker="numa_maps",
                   driver="dax", keep_going=True, stop_when=WALKER_RACE.matches)
    assert any(WALKER_RACE.matches(f) for f in r.findings), f"no walker race in {r.ops} ops"


@pytest.mark.stress
def test_dax_never_falls_back_so_no_2019_fault_race(v61_revert):
    # with the pmd_alloc recheck reverted our write-notify driver shows the
    # 2019 race within ~1e5 ops; device-dax upgrades leaves in place instead
    r = stress.run(v61_revert, "fault-vs-fault", ops=1_000_000, seed=1, driver="dax")
    assert not any(FAULT_RACE.matches(f) for f in r.findings)


def test_a_tree_without_the_driver_files_builds_without_those_drivers(tmp_path, v612):
    import shutil
    from pywalk.variant import builder, manifest
    src, dest = v612.result.kernel, tmp_path / "linux"
    for rel in ["Makefile"] + manifest.files_used() + list(builder.EXTRA_READS) + [
            "fs/proc/task_mmu.c", "mm/mapping_dirty_helpers.c"]:
        if not src.has(rel):        # an API header this tree lacks
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src.path(rel), dest / rel)
    r = builder.build(str(dest))
    assert any("lacks drivers/vfio/pci/vfio_pci_core.c" in n for n in r.notes)
    assert VFIO not in {s.path for s in r.sources}
    import pywalk
    v = pywalk.build(str(dest))
    assert v.has_client("numa_maps") and not v.has_driver("vfio") and not v.has_driver("dax")


def test_clients_and_drivers_are_in_the_instrumented_half(tmp_path):
    """Client and driver code is the tree's: an instrumented build compiles it
    with -fsanitize=thread, beside mm/pagewalk.c; the harness reaches it only
    through the pw_tree_ pointers defined there."""
    from pywalk.tree import sources
    from pywalk.variant import builder, instrument
    files = builder._read_tree(sources.resolve("6.12"), [])[0]
    tree, harness = instrument.split(builder.generate(files, tmp_path / "tree"))
    in_tree, in_harness = instrument._static_defs(tree), instrument._static_defs(harness)
    for name in ("gather_pte_stats", "wp_clean_pmd_entry", "vfio_pci_mmap_huge_fault",
                 "dev_dax_huge_fault"):
        assert name in in_tree and name not in in_harness, name
    assert "pw_tree_show_numa_ops = &show_numa_ops" in tree
    assert "pw_tree_show_numa_ops = " not in harness


def test_a_schedule_runs_the_trees_client_and_driver(v612_revert):
    """--schedule with --walker/--driver: the spec records the driver (a
    replay maps the same one) and every walker thread runs the client."""
    from pywalk.hunt import schedule
    r = schedule.hunt(v612_revert, "walk-vs-refault", seed=1, schedules=300,
                      walker="numa_maps", driver="vfio")
    assert (r.walker, r.driver) == ("numa_maps", "vfio")
    assert r.findings and WALKER_RACE.matches(r.findings[0])
    assert r.schedule["driver"] == "vfio"
    assert {k for _, k, *_ in schedule.Spec.from_json("walk-vs-refault",
                                                      r.schedule).threads if k} == {"numa_maps"}
