# SPDX-License-Identifier: GPL-2.0-only
"""The patch workflow end to end: --patch forms, failures, notes, checks.

CLI cases run ``pywalk`` in a subprocess: one-line (or, for a patch that
does not apply, the documented multi-line) messages, exit codes from
pywalk/errors.py, never a traceback.
"""

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pywalk
from pywalk.variant import builder
from pywalk.tree import sources
from pywalk.assets import asset_dir, patch_path
from pywalk.variant.patches import load_patches

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"
LKML = asset_dir("patches") / "lkml-2019" / "walk_pud_range-recheck.diff"

def pywalk_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pywalk", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def _snapshot(root: Path) -> dict:
    """Every file below root: (mode, size, mtime, sha256)."""
    out = {}
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        entry = (st.st_mode, st.st_size, st.st_mtime_ns)
        if p.is_file():
            entry += (hashlib.sha256(p.read_bytes()).hexdigest(),)
        out[str(p.relative_to(root))] = entry
    return out


def _shifted(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


# -- patches that do not apply ---------------------------------------------------

def test_lkml_2019_diff_does_not_apply_to_61_with_a_clear_message():
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", LKML)
    assert p.returncode == 125
    assert "Traceback" not in p.stderr
    lines = p.stderr.splitlines()
    assert lines[0] == ("pywalk: patch walk_pud_range-recheck.diff does not apply to "
                        "mm/pagewalk.c: hunk @@ -102,10 +102,11 @@ failed")
    assert any(l.startswith("  expected:") for l in lines)
    assert any(l.startswith("  tree has at line ") for l in lines)
    with pytest.raises(pywalk.PywalkError) as e:
        pywalk.build("6.1", [str(LKML)])
    assert e.value.exit_code == 125


def test_a_bad_patch_exits_125_and_leaves_the_kernel_cache_alone(tmp_path):
    src = sources.resolve("6.1")
    before = _snapshot(src.root)
    bad = tmp_path / "bad.patch"
    bad.write_text(
        "--- a/mm/pagewalk.c\n+++ b/mm/pagewalk.c\n"
        "@@ -10,3 +10,3 @@\n no such line here\n-nor here\n+something\n still nothing\n")
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", bad)
    assert p.returncode == 125
    assert p.stderr.splitlines()[0] == (
        "pywalk: patch bad.patch does not apply to mm/pagewalk.c: hunk @@ -10,3 +10,3 @@ failed")
    assert "Traceback" not in p.stderr
    assert _snapshot(src.root) == before


def test_a_patch_for_a_file_the_tree_lacks_is_one_line(tmp_path):
    bad = tmp_path / "new.patch"
    bad.write_text("--- a/mm/no_such_file.c\n+++ b/mm/no_such_file.c\n"
                   "@@ -1,1 +1,1 @@\n-a\n+b\n")
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", bad)
    assert p.returncode == 125
    assert p.stderr.count("\n") == 1 and "mm/no_such_file.c" in p.stderr


def test_not_a_patch_is_a_usage_error(tmp_path):
    junk = tmp_path / "junk.patch"
    junk.write_text("hello\n")
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", junk)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "not a usable unified diff" in p.stderr


# -- --patch forms ------------------------------------------------------------------

def test_quilt_directory_applies_in_series_order(tmp_path):
    q = tmp_path / "quilt"
    q.mkdir()
    shutil.copy(patch_path(REVERT), q / "b-revert.patch")
    shutil.copy(patch_path(FIX), q / "a-fix.patch")
    (q / "series").write_text("# our series\nb-revert.patch\na-fix.patch -p1\n")
    r = builder.build("6.1", [str(q)])
    assert [p.name for p in r.patches] == ["b-revert.patch", "a-fix.patch"]
    assert r.notes == []
    touched = {s.path for s in r.sources}
    assert {"mm/pagewalk.c", "mm/memory.c"} <= touched


def test_directory_of_patches_applies_in_name_order():
    d = asset_dir("patches") / "6.1"
    patches = load_patches([str(d)])
    assert [p.name for p in patches] == sorted(p.name for p in d.glob("*.patch"))
    notes = builder.check_patches(sources.resolve("6.1"), patches)
    assert notes == []


# -- notes ---------------------------------------------------------------------------

def test_offset_and_fuzz_notes_show_in_pywalk_build(tmp_path):
    text = Path(patch_path(FIX)).read_text()
    off = tmp_path / "offset.patch"
    off.write_text(_shifted(text, "@@ -196,7 +196,7 @@", "@@ -190,7 +190,7 @@"))
    fuzz = tmp_path / "fuzz.patch"
    fuzz.write_text(_shifted(text, " \t\tif (is_hugepd(__hugepd(pud_val(*pud))))",
                             " \t\tif (a_line_the_tree_does_not_have(pud))"))
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", off)
    assert p.returncode == 0, p.stderr
    assert ("offset.patch: mm/pagewalk.c: hunk @@ -190,7 +190,7 @@: applied at offset +6 lines"
            in p.stdout)
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", fuzz)
    assert p.returncode == 0, p.stderr
    assert "fuzz.patch: mm/pagewalk.c: hunk @@ -196,7 +196,7 @@: applied with fuzz 1" in p.stdout


def test_a_patch_without_effect_on_the_build_is_a_warning(tmp_path):
    src = sources.resolve("6.1")
    kconfig = src.read("mm/Kconfig").splitlines()
    doc = tmp_path / "doc.patch"
    doc.write_text("--- a/mm/Kconfig\n+++ b/mm/Kconfig\n@@ -1,3 +1,4 @@\n"
                   "+# a comment\n" + "".join(f" {l}\n" for l in kconfig[:3]))
    elsewhere = tmp_path / "procfs.patch"      # fs/ is not in the cached subset
    elsewhere.write_text("--- a/fs/proc/task_mmu.c\n+++ b/fs/proc/task_mmu.c\n"
                         "@@ -1,1 +1,1 @@\n-a\n+b\n")
    files, notes = builder._read_tree(src, load_patches([str(doc), str(elsewhere)]))
    assert ("warning: patch doc.patch touches only files this build does not use (mm/Kconfig): "
            "it has no effect on the variant") in notes
    assert any(n.startswith("warning: procfs.patch: fs/proc/task_mmu.c not applied: ")
               for n in notes)
    assert files["mm/pagewalk.c"] == src.read("mm/pagewalk.c")
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", doc)
    assert p.returncode == 0
    assert "warning: patch doc.patch touches only files this build does not use" in p.stdout


# -- pywalk patches check -------------------------------------------------------------

def test_patches_check_shipped_patches_apply():
    p = pywalk_cli("patches", "check")
    assert p.returncode == 0, p.stdout + p.stderr
    for series in ("6.1", "6.12"):
        src = sources.resolve(series)
        assert f"{src.version} ({src.origin}): patches/{series}/" in p.stdout
    for name in ("0001-mm-pagewalk-recheck-pud-after-split.patch",
                 "revert-pud-alloc-race-check.patch", "revert-cve-2026-31456-fix.patch"):
        assert f"  ok      {name}" in p.stdout


def _tree_copy(series: str, dest: Path) -> Path:
    src = sources.resolve(series)
    for rel in ["Makefile"] + builder.manifest.files_used() + list(builder.EXTRA_READS):
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src.path(rel), dest / rel)
    return dest


def test_patches_check_reports_a_patch_that_no_longer_applies(tmp_path):
    tree = _tree_copy("6.1", tmp_path / "linux")
    pw = tree / "mm/pagewalk.c"
    pw.write_text(_shifted(pw.read_text(), "\t\tif (pud_none(*pud))\n\t\t\tgoto again;",
                           "\t\tif (pud_none(*pud) || pud_trans_unstable(pud))\n\t\t\tgoto again;"))
    p = pywalk_cli("patches", "check", "--kernel", tree)
    assert p.returncode == 125
    assert "Traceback" not in p.stderr
    assert "  FAILED  0001-mm-pagewalk-recheck-pud-after-split.patch: pywalk: patch " in p.stdout
    assert "  ok      revert-pud-alloc-race-check.patch" in p.stdout
    assert "\npywalk: patch 0001-mm-pagewalk-recheck-pud-after-split.patch does not apply to " \
           "mm/pagewalk.c" in p.stdout


def test_patches_check_unknown_series_is_a_usage_error(tmp_path):
    tree = _tree_copy("6.1", tmp_path / "linux")
    mk = tree / "Makefile"
    mk.write_text(_shifted(mk.read_text(), "PATCHLEVEL = 1\n", "PATCHLEVEL = 99\n"))
    p = pywalk_cli("patches", "check", "--kernel", tree)
    assert p.returncode == 2
    assert p.stderr.count("\n") == 1 and "no shipped patches for kernel series 6.99" in p.stderr


@pytest.mark.stress
def test_matrix_reports_a_patch_set_that_does_not_apply(tmp_path):
    p = pywalk_cli("matrix", "--kernel", "6.1", "--patch", LKML, "--ops", "2000000")
    assert p.returncode == 125
    version = re.escape(sources.resolve("6.1").version)
    assert re.search(version + r" \+ walk_pud_range-recheck\.diff \| walk-vs-refault \| "
                     r"any finding +\| NO BUILD \(patch does not apply\)", p.stdout), p.stdout
    assert f"{sources.resolve('6.1').version} as shipped" in p.stdout and "RACE (SEGV)" in p.stdout
