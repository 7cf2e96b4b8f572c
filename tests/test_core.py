# SPDX-License-Identifier: GPL-2.0-only
"""Sequential behaviour of the real 6.1 code, driven through the API."""

import hashlib
import json
import subprocess
import sys

import pytest

import pywalk
from pywalk.tree import sources
from pywalk.variant.runtime import fault_name

GiB = 1 << 30
MiB = 1 << 20


def test_read_fault_maps_a_pud_leaf(mm):
    start = mm.map(4 * GiB, huge=True, write_notify=True)
    assert mm.lookup(start) == ("p4d", "none")     # no page tables yet
    ret = mm.fault(start + 12345, write=False)
    assert fault_name(ret) == "NOPAGE"
    assert mm.lookup(start) == ("pud", "leaf")
    assert mm.lookup(start + GiB - 1) == ("pud", "leaf")
    assert mm.lookup(start + GiB) == ("pud", "none")


def test_write_fault_on_write_notify_falls_back_below_pud(mm):
    start = mm.map(4 * GiB, huge=True, write_notify=True)
    mm.fault(start + 5 * 4096, write=True)
    assert mm.lookup(start + 5 * 4096) == ("pte", "present")
    assert mm.lookup(start + 6 * 4096) == ("pte", "none")


def test_write_fault_on_a_read_only_pud_leaf_splits_it(mm):
    start = mm.map(1 * GiB, huge=True, write_notify=True)
    mm.fault(start)
    assert mm.lookup(start) == ("pud", "leaf")
    mm.fault(start + 4096, write=True)       # wp_huge_pud(): fallback, __split_huge_pud()
    assert mm.lookup(start + 4096) == ("pte", "present")
    assert mm.lookup(start) == ("pte", "none")


def test_pmd_mapping_gets_pmd_leaves(mm):
    start = mm.map(1 * GiB, huge="pmd")
    mm.fault(start + 3 * 2 * MiB)
    assert mm.lookup(start + 3 * 2 * MiB) == ("pmd", "leaf")
    assert mm.lookup(start) == ("pmd", "none")


def test_walk_with_pud_entry_sees_each_huge_pud_once(mm):
    start = mm.map(4 * GiB, huge=True)
    for i in range(3):
        mm.fault(start + i * GiB)
    c = mm.walk(start, start + 4 * GiB, callbacks=("pud_entry", "pte_hole"))
    assert c["ret"] == 0
    assert c["pud_entry"] == 3 and c["pud_leaf"] == 3
    assert c["pte_hole"] == 1
    assert [mm.lookup(start + i * GiB) for i in range(3)] == [("pud", "leaf")] * 3


def test_walk_with_pmd_and_pte_entries_zaps_the_huge_pud_and_refault_maps_it_again(mm):
    start = mm.map(2 * GiB, huge=True)
    mm.fault(start)
    mm.fault(start + GiB)
    c = mm.walk(start, start + 2 * GiB, callbacks=("pmd_entry", "pte_entry", "pte_hole"))
    # 6.1 walk_pud_range(): split_huge_pud() zaps the special huge PUD, pud_none() -> hole
    assert c["pmd_entry"] == 0 and c["pte_entry"] == 0 and c["pte_hole"] == 2
    assert mm.lookup(start) == ("pud", "none")
    mm.fault(start)
    assert mm.lookup(start) == ("pud", "leaf")


def test_dirty_walker_leaves_huge_puds_alone(mm):
    start = mm.map(2 * GiB, huge=True)
    mm.fault(start)
    c = mm.walk(start, start + 2 * GiB, walker="count-dirty")
    assert c["pud_leaf"] == 1 and c["pte_entry"] == 0
    assert mm.lookup(start) == ("pud", "leaf")


def test_numa_maps_walker_counts_ptes(mm):
    start = mm.map(1 * GiB, huge=True, write_notify=True)
    for i in range(5):
        mm.fault(start + i * 4096, write=True)
    c = mm.walk(start, start + 2 * MiB, walker="count-numa")
    assert c["pte_present"] == 5 and c["pte_entry"] == 512 and c["pmd_entry"] == 1


def test_holes_are_reported_outside_and_inside_vmas(mm):
    start = mm.map(1 * GiB, huge=True)
    c = mm.walk(start - GiB, start + 2 * GiB, callbacks=("pmd_entry", "pte_hole"))
    assert c["pte_hole"] == 3     # before the vma, the empty pud inside, after it


def test_walk_page_range_rejects_start_ge_end(mm):
    start = mm.map(1 * GiB)
    assert mm.walk(start, start)["ret"] == -22
    assert mm.walk(start + 4096, start)["ret"] == -22


def test_python_callbacks(mm):
    start = mm.map(2 * GiB, huge=True)
    mm.fault(start)
    seen = []

    def pud(addr, end, val, depth):
        seen.append((addr, end, bool(val & 0x80)))
        return "continue"

    c = mm.walk(start, start + 2 * GiB, callbacks={"pud_entry": pud, "pmd_entry": lambda *a: 0})
    assert seen == [(start, start + GiB, True)]
    assert c["pud_entry"] == 1 and c["pmd_entry"] == 0
    assert mm.lookup(start) == ("pud", "leaf")   # ACTION_CONTINUE: not split


def test_python_callback_exception_propagates(mm):
    start = mm.map(1 * GiB, huge=True)
    mm.fault(start)

    def boom(*a):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        mm.walk(start, start + GiB, callbacks={"pud_entry": boom})


def test_dereferencing_a_leaf_frame_oopses_with_a_backtrace(variant):
    v61 = variant
    mm = v61.new_mm()
    start = mm.map(1 * GiB, huge=True)
    mm.fault(start)
    with pytest.raises(pywalk.KernelOops) as e:
        mm.poke_leaf(start)
    assert e.value.kind == "SEGV"
    assert e.value.address >= 0
    assert any("pw_do_poke csrc/api.c" in f for f in e.value.backtrace)
    assert mm.tainted
    with pytest.raises(pywalk.MMTainted):
        mm.fault(start)
    other = v61.new_mm()          # a new mm works normally
    s2 = other.map(1 * GiB, huge=True)
    other.fault(s2)
    assert other.lookup(s2) == ("pud", "leaf")


def test_bug_warn_and_use_after_free_become_reports(v61):
    mm = v61.new_mm()
    with pytest.raises(pywalk.KernelOops) as e:
        mm.selftest("warn")
    assert e.value.kind == "WARN" and e.value.report.where.startswith("csrc/api.c:")
    assert not mm.tainted                      # a WARN goes on
    with pytest.raises(pywalk.KernelOops) as e:
        mm.selftest("use-after-free")          # freed tables sit PROT_NONE in quarantine
    assert e.value.kind == "SEGV" and mm.tainted
    mm = v61.new_mm()
    with pytest.raises(pywalk.KernelOops) as e:
        mm.selftest("bug")
    assert e.value.kind == "BUG" and "VM_BUG_ON" in e.value.report.message
    assert any(b.startswith("pw_do_selftest csrc/api.c") for b in e.value.backtrace)


def test_oops_capture_with_several_variants_loaded(v61, v61_fix):
    """Each variant module installs its own handler; faults reach the right one."""
    for first, second in ((v61, v61_fix), (v61_fix, v61), (v61, v61_fix)):
        a, b = first.new_mm(), second.new_mm()      # b's handler is installed last
        for mm in (a, b):
            start = mm.map(1 * GiB, huge=True)
            mm.fault(start)
            with pytest.raises(pywalk.KernelOops):
                mm.poke_leaf(start)


def test_build_json_reports_whole_pagewalk_and_sliced_functions(v61):
    src = sources.resolve("6.1")
    info = v61.result.as_json()
    by_path = {s["path"]: s for s in info["sources"]}
    pw = by_path["mm/pagewalk.c"]
    assert pw["whole"] is True
    assert pw["sha256"] == hashlib.sha256(src.path("mm/pagewalk.c").read_bytes()).hexdigest()
    assert {"__handle_mm_fault", "create_huge_pud", "wp_huge_pud", "__pud_alloc", "__pmd_alloc",
            "create_huge_pmd", "wp_huge_pmd"} <= set(by_path["mm/memory.c"]["functions"])
    assert {"__pud_trans_huge_lock", "__split_huge_pud", "__split_huge_pud_locked",
            "insert_pfn_pud", "vmf_insert_pfn_pud_prot", "huge_pud_set_accessed"} \
        <= set(by_path["mm/huge_memory.c"]["functions"])
    assert "pud_trans_unstable" in by_path["include/linux/pgtable.h"]["functions"]


def test_cache_hit_does_not_recompile(v61):
    again = pywalk.build("6.1")
    assert again.result.compiled is False
    assert again.module_path == v61.module_path


def test_cli_build_json(v61):
    out = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel", "6.1", "--json"],
                         capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    src = sources.resolve("6.1")
    assert info["variant"] == v61.id and info["kernel"] == src.version
    assert (info["package"], info["package_version"]) == (src.package, src.package_version)
    assert info["archive_sha256"] == src.archive_sha256 and len(src.archive_sha256) == 64


def test_cli_bad_kernel_path_is_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel",
                          str(tmp_path / "nope")], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "no such file" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_kernels_lists_both_series(v61):
    out = subprocess.run([sys.executable, "-m", "pywalk", "kernels"], capture_output=True,
                         text=True, check=True)
    row = next(line.split() for line in out.stdout.splitlines() if line.startswith("6.1 "))
    assert row[:2] == ["6.1", "linux-source-6.1"]
    assert sources.resolve("6.1").package_version in out.stdout


@pytest.mark.stress
def test_stress_json_names_the_exact_source(v61):
    """A stress report records the package version and every tree file's sha256."""
    from pywalk.hunt import stress
    src = sources.resolve("6.1")
    got = stress.run(v61, "fault-vs-fault", ops=2000, seed=1).as_json()["source"]
    assert (got["origin"], got["package_version"]) == (src.origin, src.package_version)
    assert got["archive_sha256"] == src.archive_sha256
    by_path = {s["path"]: s["sha256"] for s in got["sources"]}
    assert by_path["mm/pagewalk.c"] == hashlib.sha256(
        src.path("mm/pagewalk.c").read_bytes()).hexdigest()
    assert {"mm/memory.c", "mm/huge_memory.c"} <= set(by_path)
