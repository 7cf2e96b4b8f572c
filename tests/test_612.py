# SPDX-License-Identifier: GPL-2.0-only
"""The real 6.12 code: builds, sequential behaviour, and the CVE race.

6.12 differs from 6.1 where pywalk adapts (each detected from the tree,
pywalk/tree/facts.py): huge_fault(vmf, order), mm_walk_ops.walk_lock,
__pte_offset_map_lock() (may return NULL) in mm/pgtable-generic.c,
thp_vma_allowable_order(); and walk_pmd_range() carries the upstream fix
for CVE-2026-31456 (a pudp_get() snapshot and ACTION_AGAIN).
"""

import hashlib
import json
import subprocess
import sys

import pytest

from pywalk.tree import sources
from pywalk.hunt import stress
from pywalk.hunt.races import ZAP_BAD_PUD
from pywalk.tree import facts

GiB = 1 << 30
MiB = 1 << 20


def _facts(series):
    src = sources.resolve(series)
    return facts.detect(lambda rel: src.read(rel) if src.has(rel) else None)


# -- what is taken from the tree ---------------------------------------------

def test_api_facts_are_read_from_each_tree():
    assert _facts("6.12").items() >= {
        "PW_TREE_HUGE_FAULT_ORDER": 1, "PW_TREE_WALK_LOCK": 1,
        "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": 1, "PW_TREE_THP_ALLOWABLE_ORDERS": 1,
        "PW_TREE_MKWRITE_VMA": 1, "PW_TREE_MMU_RANGE_INIT_VMA": 0}.items()
    assert _facts("6.1").items() >= {
        "PW_TREE_HUGE_FAULT_ORDER": 0, "PW_TREE_WALK_LOCK": 0,
        "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": 0, "PW_TREE_THP_ALLOWABLE_ORDERS": 0,
        "PW_TREE_MKWRITE_VMA": 0, "PW_TREE_MMU_RANGE_INIT_VMA": 1}.items()


def test_612_takes_pte_offset_map_lock_and_thp_policy_from_the_tree(v612):
    src = sources.resolve("6.12")
    info = v612.result.as_json()
    assert info["kernel"] == src.version and info["package_version"] == src.package_version
    by_path = {s["path"]: s for s in info["sources"]}
    pw = by_path["mm/pagewalk.c"]
    assert pw["whole"] is True
    assert pw["sha256"] == hashlib.sha256(src.path("mm/pagewalk.c").read_bytes()).hexdigest()
    assert {"__pte_offset_map_lock", "__pte_offset_map"} <= set(
        by_path["mm/pgtable-generic.c"]["functions"])
    assert {"pte_offset_map", "pte_offset_map_lock"} <= set(by_path["include/linux/mm.h"]["functions"])
    assert {"__thp_vma_allowable_orders", "vmf_insert_pfn_pud", "__split_huge_pud",
            "split_huge_pmd_locked"} <= set(by_path["mm/huge_memory.c"]["functions"])
    assert {"thp_vma_allowable_orders", "pud_trans_unstable"} <= set(
        by_path["include/linux/huge_mm.h"]["functions"] + by_path["include/linux/pgtable.h"]["functions"])
    assert "hugepage_vma_check" not in by_path["mm/huge_memory.c"]["functions"]


def test_612_ships_the_cve_fix_and_the_revert_removes_it(v612, v612_revert):
    src = sources.resolve("6.12")
    text = src.read("mm/pagewalk.c")
    assert "pud_t pudval = pudp_get(pud);" in text
    assert v612_revert.id != v612.id
    shas = {s.path: s.sha256 for s in v612_revert.result.sources}
    assert shas["mm/pagewalk.c"] != hashlib.sha256(text.encode()).hexdigest()
    assert v612_revert.result.notes == []       # applies exactly


# -- sequential behaviour specific to 6.12 (tests/test_core.py runs the rest on both) --













def test_walk_splits_a_pmd_leaf_and_pte_offset_map_lock_finds_no_table(mm612):
    start = mm612.map(1 * GiB, huge="pmd")
    mm612.fault(start + 6 * MiB)
    c = mm612.walk(start, start + GiB, callbacks=("pmd_entry", "pte_entry", "pte_hole"))
    # split_huge_pmd() zaps the special pmd; __pte_offset_map_lock() returns NULL,
    # walk_pte_range() asks ACTION_AGAIN and the now empty pmd is a hole
    assert c["pmd_entry"] == 1 and c["pmd_leaf"] == 1
    assert c["pte_entry"] == 0 and c["pte_hole"] == 512
    assert mm612.lookup(start + 6 * MiB) == ("pmd", "none")












def test_zap_clears_leaves_and_ptes(mm612):
    start = mm612.map(2 * GiB, huge=True, write_notify=True)
    mm612.fault(start)                           # a PUD leaf: zap_huge_pud()
    mm612.fault(start + GiB + 4096, write=True)  # ptes
    mm612.zap(start, start + 2 * GiB)
    assert mm612.lookup(start) == ("pud", "none")
    assert mm612.lookup(start + GiB + 4096) == ("pte", "none")




def test_revert_variant_is_sequentially_the_same(v612_revert):
    mm = v612_revert.new_mm()
    start = mm.map(2 * GiB, huge=True)
    mm.fault(start)
    c = mm.walk(start, start + 2 * GiB, callbacks=("pmd_entry", "pte_entry", "pte_hole"))
    # without a refault in between, the old "pud_none() -> again" does the same
    assert c["pte_hole"] == 2 and c["pmd_entry"] == 0
    mm.close()


# -- the race: by seed and op budget --------------------------------------------
# Measured (2 cores, window widening on): 6.12 + revert finds the race after
# 341 to 8,069 ops over seeds 1-10; 6.12 as shipped is clean for 1,000,000
# ops on seeds 11-13.  Budgets are well over ten times the largest of those.

@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_612_revert_finds_the_walk_vs_refault_race(v612_revert, seed):
    r = stress.run(v612_revert, "walk-vs-refault", ops=200_000, seed=seed)
    assert r.findings, f"no race in {r.ops} ops"
    f = r.findings[0]
    assert f.kind == "SEGV" and f.role == "walker"
    assert any(b.startswith("walk_pmd_range mm/pagewalk.c") for b in f.backtrace)
    assert r.first_finding_ops <= 200_000


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2])
def test_612_as_shipped_is_clean(v612, seed):
    r = stress.run(v612, "walk-vs-refault", ops=300_000, seed=seed)
    assert not r.findings, r.findings[0].backtrace
    assert r.ops >= 300_000


@pytest.mark.stress
@pytest.mark.parametrize("scenario", ["walk-vs-refault-pmd", "fault-vs-fault", "mixed"])
def test_612_other_scenarios_run_clean(v612, scenario):
    # mixed's zappers may meet the bad pud, a bug of the shipped tree (test_zap.py):
    # the hunt goes on past it, and stops at anything else
    r = stress.run(v612, scenario, ops=100_000, seed=1, keep_going=True,
                   stop_when=lambda f: not ZAP_BAD_PUD.matches(f))
    r.findings = [f for f in r.findings if not ZAP_BAD_PUD.matches(f)]
    assert not r.findings, r.findings[0].backtrace
    assert r.ops >= 100_000


@pytest.mark.stress
def test_matrix_default_table(tmp_path):
    out = tmp_path / "m.json"
    p = subprocess.run([sys.executable, "-m", "pywalk", "matrix", "--ops", "200000",
                        "--json", str(out)], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr
    cells = json.loads(out.read_text())["cells"]
    got = {(c["kernel"], c["patch_set"]): bool(c["findings"]) for c in cells}
    v61, v612 = sources.resolve("6.1").version, sources.resolve("6.12").version
    assert got == {(v61, "as shipped"): True, (v61, "+ 2019 walker fix"): False,
                   (v612, "as shipped"): False, (v612, "- CVE fix (revert)"): True}
    assert f"{v612} - CVE fix (revert) | walk-vs-refault | walker race     | RACE (SEGV)" \
        in p.stdout
