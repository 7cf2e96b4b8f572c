# SPDX-License-Identifier: GPL-2.0-only
"""Users' own kernel trees: read in place, never written; trees the shim
cannot serve yet fail with one line that names what is missing."""

import hashlib
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import pywalk
from pywalk.assets import patch_path
from pywalk.hunt import stress
from pywalk.hunt.races import WALKER_RACE, ZAP_BAD_PUD
from pywalk.tree import facts
from pywalk.variant import builder
from pywalk.tree import sources
from pywalk.variant import diagnostics
from pywalk.variant import manifest

GiB = 1 << 30


def _copy_subset(series: str, dest: Path) -> Path:
    """The files of a cached Debian tree that a build reads, and its Makefile."""
    src = sources.resolve(series)
    for rel in ["Makefile"] + manifest.files_used() + list(builder.EXTRA_READS):
        if not src.has(rel):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src.path(rel), dest / rel)
    for rel in manifest.client_files():     # the walk clients' and drivers' files
        if src.has(rel) and not (dest / rel).exists():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src.path(rel), dest / rel)
    return dest


def _snapshot(root: Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        entry = (stat.S_IMODE(st.st_mode), st.st_size, st.st_mtime_ns)
        if p.is_file():
            entry += (hashlib.sha256(p.read_bytes()).hexdigest(),)
        out[str(p.relative_to(root))] = entry
    return out


def _chmod_tree(root: Path, writable: bool) -> None:
    for p in [root, *root.rglob("*")]:
        mode = p.stat().st_mode
        p.chmod(mode | stat.S_IWUSR if writable else mode & ~0o222)


@pytest.fixture
def readonly_tree(tmp_path):
    tree = _copy_subset("6.1", tmp_path / "linux")
    _chmod_tree(tree, writable=False)
    yield tree
    _chmod_tree(tree, writable=True)


def _rename(tree: Path, rel: str, old: str, new: str) -> None:
    p = tree / rel
    text = p.read_text()
    assert old in text
    p.write_text(text.replace(old, new))


def test_a_read_only_user_tree_builds_and_is_not_written(readonly_tree):
    before = _snapshot(readonly_tree)
    p = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel", str(readonly_tree)],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    version = sources.resolve("6.1").version
    assert p.stdout.splitlines()[0].endswith(f"kernel {version} (tree:{readonly_tree})")
    v = pywalk.build(str(readonly_tree))
    assert v.kernel == version
    mm = v.new_mm()
    start = mm.map(1 * GiB, huge=True)
    mm.fault(start)
    assert mm.lookup(start) == ("pud", "leaf")
    mm.close()
    assert _snapshot(readonly_tree) == before
    assert not any(readonly_tree.rglob("__pycache__"))


def test_a_user_tree_with_a_patch_is_not_written(readonly_tree):
    from pywalk.assets import patch_path
    before = _snapshot(readonly_tree)
    r = builder.build(str(readonly_tree), [patch_path("6.1/0001-mm-pagewalk-recheck-pud-after-split.patch")])
    assert r.notes == []
    assert _snapshot(readonly_tree) == before


def test_a_612_user_tree_is_served_from_its_own_facts(tmp_path):
    tree = _copy_subset("6.12", tmp_path / "linux")
    r = builder.build(str(tree))
    assert r.kernel.version == sources.resolve("6.12").version
    assert r.kernel.origin == f"tree:{tree}" and r.kernel.package_version is None
    assert "__pte_offset_map_lock" in {f for s in r.sources for f in s.functions}


def test_a_tree_without_a_required_symbol_fails_with_one_line_naming_it(tmp_path):
    tree = _copy_subset("6.1", tmp_path / "linux")
    for rel in ("mm/huge_memory.c", "include/linux/huge_mm.h", "mm/memory.c"):
        text = (tree / rel).read_text()
        (tree / rel).write_text(text.replace("__split_huge_pud(", "__split_huge_pud_v2("))
    p = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel", str(tree)],
                       capture_output=True, text=True)
    assert p.returncode == 125
    assert p.stderr.count("\n") == 1, p.stderr
    version = sources.resolve("6.1").version
    assert p.stderr.startswith(f"pywalk: tree:{tree} ({version}): cannot find __split_huge_pud ")
    assert "Traceback" not in p.stderr


def test_a_tree_calling_a_helper_it_lacks_fails_with_gccs_message(tmp_path):
    """A tree whose header renamed is_swap_pmd() but whose code still calls
    it does not build with Kbuild either: gcc's message, not a shim gap."""
    tree = _copy_subset("6.1", tmp_path / "linux")
    _rename(tree, "include/linux/huge_mm.h", "static inline int is_swap_pmd(",
            "static inline int is_swap_pmd_v2(")
    p = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel", str(tree)],
                       capture_output=True, text=True)
    assert p.returncode == 125
    first = p.stderr.splitlines()[0]
    assert first.startswith("pywalk: build failed: include/linux/huge_mm.h:"), first
    assert "implicit declaration of function" in first and "is_swap_pmd" in first
    assert "the shim does not provide" not in p.stderr and "full log: " in first


def test_summary_names_types_members_and_signatures(tmp_path):
    """A name the tree defines but the shim does not serve is a shim gap."""
    log = "\n".join([
        "mm/huge_memory.c:2855:4: error: unknown type name 'rmap_t'",
        "include/linux/huge_mm.h:168:57: error: 'struct inode' has no member named "
        "'i_mode'",
        "mm/huge_memory.c:1090:9: error: too many arguments to function 'pmd_mkwrite'",
        "mm/memory.c:5868:5: error: 'TVA_IN_PF' undeclared (first use in this function)",
        "mm/memory.c:5867:6: error: implicit declaration of function "
        "'thp_vma_allowable_order' [-Werror=implicit-function-declaration]",
        "mm/memory.c:5868:5: error: 'TVA_IN_PF' undeclared (first use in this function)",
    ])
    tree = {"include/linux/rmap.h": "typedef int __bitwise rmap_t;\n",
            "include/linux/fs.h": "struct inode {\n\tumode_t i_mode;\n};\n",
            "include/linux/pgtable.h": "static inline pmd_t pmd_mkwrite(pmd_t pmd, struct vm_area_struct *v)\n",
            "include/linux/huge_mm.h": "#define TVA_IN_PF (1 << 1)\n"
                                       "#define thp_vma_allowable_order(v, f, t, o) 0\n"}
    s = diagnostics.summarise(log, tree, [(str(tmp_path), "")], "LOG")
    assert "\n" not in s
    assert s == ("build failed: the shim does not provide for this tree: type rmap_t "
                 "(mm/huge_memory.c:2855), "
                 "struct member struct inode.i_mode (include/linux/huge_mm.h:168), "
                 "signature differs pmd_mkwrite (mm/huge_memory.c:1090), "
                 "macro/identifier TVA_IN_PF (mm/memory.c:5868), "
                 "function thp_vma_allowable_order (mm/memory.c:5867); 6 compiler error(s) "
                 "(full log: LOG)")


def test_required_names_follow_the_trees_facts():
    old = manifest.required_names({"PW_TREE_THP_ALLOWABLE_ORDERS": 0})
    new = manifest.required_names({"PW_TREE_THP_ALLOWABLE_ORDERS": 1,
                                   "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": 1})
    newest = manifest.required_names({"PW_TREE_THP_ALLOWABLE_ORDERS": 1, "PW_TREE_TVA_TYPE": 1,
                                      "PW_TREE_ZAP_VMA_RANGE": 1})
    assert "tva_type" in newest and "TVA_IN_PF" not in newest and "TVA_IN_PF" in new
    assert "zap_vma_range" in newest and "zap_page_range_single" not in newest
    assert "zap_page_range_single" in old and "insert_pud" in old
    assert "hugepage_vma_check" in old and "__thp_vma_allowable_orders" not in old
    assert "__thp_vma_allowable_orders" in new and "hugepage_vma_check" not in new
    assert "__pte_offset_map_lock" in new and "__pte_offset_map_lock" not in old
    assert set(manifest.REQUIRED) <= set(old) & set(new)


# -- 7.3, today's mainline: got through pywalk's own fetch ---------------------
# (no /tmp paths: CI gets the tree as a user would; where pywalk cannot fetch
# 7.3 -- no network, or a pywalk without the 7.x Debian suites -- these skip)

def _tree_73():
    try:
        return sources.resolve("7.3")
    except Exception as e:  # noqa: BLE001 - any failure to fetch means "not here"
        pytest.skip(f"7.3 not available through pywalk's fetch: {e}")


@pytest.fixture(scope="module")
def v73():
    _tree_73()
    return pywalk.build("7.3")


@pytest.fixture(scope="module")
def v73_revert():
    _tree_73()
    return pywalk.build("7.3", [patch_path("7.3/revert-cve-2026-31456-fix.patch")])


def test_73_facts_come_from_the_tree():
    src = _tree_73()
    f = facts.detect(lambda rel: src.read(rel) if src.has(rel) else None)
    assert f["PW_TREE_ZAP_VMA_RANGE"] == 1 and f["PW_TREE_TVA_TYPE"] == 1
    assert f["PW_TREE_INSERT_PFN_T"] == 0 and f["PW_TREE_DAX_FOLIOS"] == 1


def test_73_ships_the_upstream_fix_and_the_revert_removes_it(v73, v73_revert):
    walk = v73.result.as_json()
    assert walk["kernel"] == _tree_73().version
    fixed = _tree_73().read("mm/pagewalk.c")
    assert "pud_t pudval = pudp_get(pud);" in fixed
    reverted = builder._read_tree(_tree_73(), builder.load_patches(
        [patch_path("7.3/revert-cve-2026-31456-fix.patch")]))[0]["mm/pagewalk.c"]
    assert "pudp_get(pud)" not in reverted.split("static int walk_pud_range")[0]


@pytest.mark.stress
@pytest.mark.parametrize("scenario", ["walk-vs-refault", "walk-vs-refault-pmd",
                                      "fault-vs-fault", "mixed"])
def test_73_as_shipped_is_clean(v73, scenario):
    # mixed's zappers may meet the bad pud, a bug of the shipped tree (test_zap.py):
    # the hunt goes on past it, and stops at anything else
    r = stress.run(v73, scenario, ops=200_000, seed=1, keep_going=True,
                   stop_when=lambda f: not ZAP_BAD_PUD.matches(f))
    r.findings = [f for f in r.findings if not ZAP_BAD_PUD.matches(f)]
    assert not r.findings, r.findings[0].as_json()
    assert r.ops >= 200_000


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2])
def test_73_revert_finds_the_walker_race(v73_revert, seed):
    """Measured: first finding after 16k-140k ops (median about 40k, seeds
    1-6, 2 loaded cores); the budget is 3M."""
    r = stress.run(v73_revert, "walk-vs-refault", ops=3_000_000, seed=seed,
                   keep_going=True, stop_when=WALKER_RACE.matches)
    assert any(WALKER_RACE.matches(f) for f in r.findings), f"no walker race in {r.ops} ops"


def test_73_builds_its_walk_clients_and_drivers(v73):
    """7.x device-dax inserts folios (the shim keeps their references,
    tests/test_drivers_7x.py) and VFIO's 7.x helpers are shimmed: the
    variant builds with both drivers, with no note, and runs the tree's
    numa_maps client."""
    assert not any("do not build" in n for n in v73.result.notes), v73.result.notes
    assert v73.has_client("numa_maps") and v73.has_driver("vfio") and v73.has_driver("dax")
    mm = v73.new_mm()
    s = mm.map(2 * GiB, huge="pud")
    mm.fault(s)
    assert mm.walk(s, s + 2 * GiB, walker="numa_maps")["ret"] == 0
