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
from pywalk.variant import builder
from pywalk.tree import sources
from pywalk.variant import manifest

GiB = 1 << 30


def _copy_subset(series: str, dest: Path) -> Path:
    """The files of a cached Debian tree that a build reads, and its Makefile."""
    src = sources.resolve(series)
    for rel in ["Makefile"] + manifest.files_used() + list(builder.EXTRA_READS):
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
    assert p.stdout.splitlines()[0].endswith(f"kernel 6.1.192 (tree:{readonly_tree})")
    v = pywalk.build(str(readonly_tree))
    assert v.kernel == "6.1.192"
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
    assert r.kernel.version == "6.12.117" and r.kernel.origin == f"tree:{tree}"
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
    assert p.stderr.startswith(f"pywalk: tree:{tree} (6.1.192): cannot find __split_huge_pud ")
    assert "Traceback" not in p.stderr


def test_a_tree_the_shim_cannot_compile_lists_what_is_missing_not_a_wall(tmp_path):
    tree = _copy_subset("6.1", tmp_path / "linux")
    _rename(tree, "include/linux/huge_mm.h", "static inline int is_swap_pmd(",
            "static inline int is_swap_pmd_v2(")
    p = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel", str(tree)],
                       capture_output=True, text=True)
    assert p.returncode == 125
    assert p.stderr.count("\n") == 1, p.stderr
    assert p.stderr.startswith("pywalk: build failed: the shim does not provide for this tree: "
                               "function is_swap_pmd (include/linux/huge_mm.h:")
    assert "compiler error(s)" in p.stderr and "full log: " in p.stderr


def test_summary_names_types_members_and_signatures(tmp_path):
    log = "\n".join([
        "mm/huge_memory.c:2855:4: error: unknown type name \u2018rmap_t\u2019",
        "include/linux/huge_mm.h:168:57: error: \u2018struct inode\u2019 has no member named "
        "\u2018i_mode\u2019",
        "mm/huge_memory.c:1090:9: error: too many arguments to function \u2018pmd_mkwrite\u2019",
        "mm/memory.c:5868:5: error: \u2018TVA_IN_PF\u2019 undeclared (first use in this function)",
        "mm/memory.c:5867:6: error: implicit declaration of function "
        "'thp_vma_allowable_order' [-Werror=implicit-function-declaration]",
        "mm/memory.c:5868:5: error: \u2018TVA_IN_PF\u2019 undeclared (first use in this function)",
    ])
    s = builder._summarise_errors(log, tmp_path)
    assert "\n" not in s
    assert s == ("the shim does not provide for this tree: type rmap_t (mm/huge_memory.c:2855), "
                 "struct member struct inode.i_mode (include/linux/huge_mm.h:168), "
                 "signature differs pmd_mkwrite (mm/huge_memory.c:1090), "
                 "macro/identifier TVA_IN_PF (mm/memory.c:5868), "
                 "function thp_vma_allowable_order (mm/memory.c:5867); 6 compiler error(s)")


def test_required_names_follow_the_trees_facts():
    old = manifest.required_names({"PW_TREE_THP_ALLOWABLE_ORDERS": 0})
    new = manifest.required_names({"PW_TREE_THP_ALLOWABLE_ORDERS": 1,
                                   "PW_TREE_PTE_OFFSET_MAP_LOCK_FN": 1})
    assert "hugepage_vma_check" in old and "__thp_vma_allowable_orders" not in old
    assert "__thp_vma_allowable_orders" in new and "hugepage_vma_check" not in new
    assert "__pte_offset_map_lock" in new and "__pte_offset_map_lock" not in old
    assert set(manifest.REQUIRED) <= set(old) & set(new)
