# SPDX-License-Identifier: GPL-2.0-only
"""The patch workflow end to end: --patch forms, failures, notes, checks.

CLI cases run ``pywalk`` in a subprocess: one-line (or, for a patch that
does not apply, the documented multi-line) messages, exit codes from
pywalk/errors.py, never a traceback.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pywalk
from pywalk.hunt import matrix
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


def test_directory_of_patches_applies_in_name_order(tmp_path):
    # patches/6.1 holds alternatives (two walker fixes), not one stack: build a
    # stack of two of them whose names sort against the order they were listed in
    (tmp_path / "b-revert.patch").write_text(Path(patch_path(REVERT)).read_text())
    (tmp_path / "a-fix.patch").write_text(Path(patch_path(FIX)).read_text())
    patches = load_patches([str(tmp_path)])
    assert [p.name for p in patches] == ["a-fix.patch", "b-revert.patch"]
    notes = builder.check_patches(sources.resolve("6.1"), patches)
    assert notes == []


# -- notes ---------------------------------------------------------------------------

def test_offset_and_fuzz_only_with_fuzz_and_a_note_each(tmp_path):
    text = Path(patch_path(FIX)).read_text()
    off = tmp_path / "offset.patch"
    off.write_text(_shifted(text, "@@ -196,7 +196,7 @@", "@@ -190,7 +190,7 @@"))
    fuzz = tmp_path / "fuzz.patch"
    fuzz.write_text(_shifted(text, " \t\tif (is_hugepd(__hugepd(pud_val(*pud))))",
                             " \t\tif (a_line_the_tree_does_not_have(pud))"))
    # strict by default: stricter than git apply, which takes a hunk at an offset
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", off)
    assert p.returncode == 125 and "Traceback" not in p.stderr
    assert p.stderr.startswith("pywalk: patch offset.patch does not apply to mm/pagewalk.c: "
                               "hunk @@ -190,7 +190,7 @@ failed\n")
    assert "its lines are at offset +6 lines" in p.stderr
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", fuzz, "--fuzz", "0")
    assert p.returncode == 125 and "(--fuzz 0)" in p.stderr
    # on request, one note per hunk
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", off, "--fuzz", "0")
    assert p.returncode == 0, p.stderr
    assert ("offset.patch: mm/pagewalk.c: hunk @@ -190,7 +190,7 @@: applied at offset +6 lines"
            in p.stdout)
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", fuzz, "--fuzz", "1")
    assert p.returncode == 0, p.stderr
    assert "fuzz.patch: mm/pagewalk.c: hunk @@ -196,7 +196,7 @@: applied with fuzz 1" in p.stdout
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", fuzz, "--fuzz", "-1")
    assert p.returncode == 2 and p.stderr.count("\n") == 1


def _bare_path_patch(tmp_path) -> Path:
    """What `diff -u` gives inside a tree: no a/ b/ (a -p0 patch)."""
    text = sources.resolve("6.1").read("mm/pagewalk.c")
    new = _shifted(text, "\t\tif (pud_none(*pud))\n\t\t\tgoto again;",
                   "\t\tif (pud_none(*pud) || pud_trans_unstable(pud))\n\t\t\tgoto again;")
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm/pagewalk.c.orig").write_text(text)
    (tmp_path / "mm/pagewalk.c").write_text(new)
    d = subprocess.run(["diff", "-u", "mm/pagewalk.c.orig", "mm/pagewalk.c"], cwd=tmp_path,
                       capture_output=True, text=True).stdout
    assert d.startswith("--- mm/pagewalk.c.orig\t") and "\n+++ mm/pagewalk.c\t" in d
    out = tmp_path / "p0.patch"
    out.write_text(d)
    return out


def _pagewalk_sha(build_json: str) -> str:
    info = json.loads(build_json)
    [rec] = [s for s in info["sources"] if s["path"] == "mm/pagewalk.c"]
    return rec["sha256"]


def test_a_bare_path_patch_is_applied_with_p0_and_a_note(tmp_path):
    p0 = _bare_path_patch(tmp_path)
    plain = pywalk_cli("build", "--kernel", "6.1", "--json")
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", p0, "--json")
    assert p.returncode == 0, p.stderr
    assert _pagewalk_sha(p.stdout) != _pagewalk_sha(plain.stdout)
    assert _pagewalk_sha(p.stdout) == hashlib.sha256(
        (tmp_path / "mm/pagewalk.c").read_bytes()).hexdigest()
    assert json.loads(p.stdout)["notes"] == [
        "p0.patch: mm/pagewalk.c: paths have no a/ b/ prefix (diff -u inside the tree?): "
        "applied with -p0"]
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", p0)
    assert "applied with -p0" in p.stdout


def test_a_patch_without_effect_on_the_build_is_a_warning(tmp_path):
    src = sources.resolve("6.1")
    # (mm/Makefile: mm/Kconfig is read now, for CONFIG_PER_VMA_LOCK)
    kconfig = src.read("mm/Makefile").splitlines()
    doc = tmp_path / "doc.patch"
    doc.write_text("--- a/mm/Makefile\n+++ b/mm/Makefile\n@@ -1,3 +1,4 @@\n"
                   "+# a comment\n" + "".join(f" {l}\n" for l in kconfig[:3]))
    elsewhere = tmp_path / "procfs.patch"      # fs/ext4 is not in the cached subset
    elsewhere.write_text("--- a/fs/ext4/inode.c\n+++ b/fs/ext4/inode.c\n"
                         "@@ -1,1 +1,1 @@\n-a\n+b\n")
    files, notes = builder._read_tree(src, load_patches([str(doc), str(elsewhere)]))
    assert ("warning: patch doc.patch touches only files this build does not use (mm/Makefile): "
            "it has no effect on the variant") in notes
    assert any(n.startswith("warning: procfs.patch: fs/ext4/inode.c not applied: ")
               for n in notes)
    assert files["mm/pagewalk.c"] == src.read("mm/pagewalk.c")
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", doc)
    assert p.returncode == 0
    assert "warning: patch doc.patch touches only files this build does not use" in p.stdout


# -- pywalk patches check -------------------------------------------------------------

def test_patches_check_shipped_patches_apply():
    p = pywalk_cli("patches", "check")
    assert p.returncode == 0, p.stdout + p.stderr
    assert f"{sources.resolve('6.1').version} (debian:linux-source-6.1" in p.stdout
    assert f"{sources.resolve('6.12').version} (debian:linux-source-6.12" in p.stdout
    for name in ("0001-mm-pagewalk-recheck-pud-after-split.patch",
                 "revert-pud-alloc-race-check.patch", "revert-cve-2026-31456-fix.patch"):
        assert f"  ok      {name}" in p.stdout


def _tree_copy(series: str, dest: Path) -> Path:
    src = sources.resolve(series)
    for rel in ["Makefile"] + builder.manifest.files_used() + list(builder.EXTRA_READS):
        if not src.has(rel):    # API headers a tree may lack (pywalk/tree/facts.py)
            continue
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
    v = re.escape(sources.resolve("6.1").version)
    assert re.search(v + r" \+ walk_pud_range-recheck\.diff \| walk-vs-refault \| "
                     r"any finding +\| NO BUILD \(patch does not apply\)", p.stdout), p.stdout
    assert f"{sources.resolve('6.1').version} as shipped" in p.stdout
    assert "RACE (SEGV)" in p.stdout


# -- patches that change nothing the build uses ------------------------------------

def _comment_patches(tmp_path):
    """doc.patch: only mm/Makefile; memory.patch: mm/memory.c, outside every
    definition the build takes from it."""
    src = sources.resolve("6.1")
    # (mm/Makefile: mm/Kconfig is read now, for CONFIG_PER_VMA_LOCK)
    kconfig = src.read("mm/Makefile").splitlines()
    doc = tmp_path / "doc.patch"
    doc.write_text("--- a/mm/Makefile\n+++ b/mm/Makefile\n@@ -1,3 +1,4 @@\n"
                   "+# a comment\n" + "".join(f" {l}\n" for l in kconfig[:3]))
    memory = src.read("mm/memory.c").splitlines()
    mem = tmp_path / "memory.patch"
    mem.write_text("--- a/mm/memory.c\n+++ b/mm/memory.c\n@@ -1,3 +1,4 @@\n"
                   + "".join(f" {l}\n" for l in memory[:1]) + "+// a comment\n"
                   + "".join(f" {l}\n" for l in memory[1:3]))
    return doc, mem


def test_unused_patches_are_warnings_for_build(tmp_path):
    doc, mem = _comment_patches(tmp_path)
    src = sources.resolve("6.1")
    files, notes = builder._read_tree(src, load_patches([str(doc), str(mem)]))
    assert ("warning: patch doc.patch touches only files this build does not use (mm/Makefile): "
            "it has no effect on the variant") in notes
    assert ("warning: patch memory.patch does not change what this build takes from "
            "mm/memory.c: it has no effect on the variant") in notes
    assert files["mm/memory.c"].splitlines()[1] == "// a comment"
    # the real fix is not unused
    assert builder._read_tree(src, load_patches([patch_path(FIX)]), allow_unused=False)[1] == []
    p = pywalk_cli("build", "--kernel", "6.1", "--patch", doc)
    assert p.returncode == 0
    assert "warning: patch doc.patch touches only files this build does not use" in p.stdout


@pytest.mark.parametrize("which", ["doc", "memory", "elsewhere"])
def test_stress_refuses_a_patch_without_effect(tmp_path, which):
    doc, mem = _comment_patches(tmp_path)
    elsewhere = tmp_path / "procfs.patch"      # fs/ext4 is not in the cached subset
    elsewhere.write_text("--- a/fs/ext4/inode.c\n+++ b/fs/ext4/inode.c\n"
                         "@@ -1,1 +1,1 @@\n-a\n+b\n")
    patch = {"doc": doc, "memory": mem, "elsewhere": elsewhere}[which]
    p = pywalk_cli("stress", "--kernel", "6.1", "--patch", patch, "--scenario",
                   "walk-vs-refault", "--ops", "1000")
    assert p.returncode == 125, p.stderr
    assert "Traceback" not in p.stderr
    last = p.stderr.splitlines()[-1]
    assert last.startswith(f"pywalk: patch {patch.name} changes nothing this build uses: ")
    assert last.endswith("(--allow-unused-patch runs it anyway)")
    if which == "elsewhere":
        assert "this build does not use (fs/ext4/inode.c)" in last


@pytest.mark.stress
def test_stress_allow_unused_patch_runs_and_warns_on_stderr(tmp_path):
    doc, _ = _comment_patches(tmp_path)
    out = tmp_path / "r.json"
    p = pywalk_cli("stress", "--kernel", "6.1", "--patch", doc, "--scenario", "walk-vs-refault",
                   "--ops", "2000", "--allow-unused-patch", "--json", out)
    assert p.returncode == 0, p.stderr
    assert ("pywalk: warning: patch doc.patch touches only files this build does not use "
            "(mm/Makefile): it has no effect on the variant") in p.stderr
    report = json.loads(out.read_text())
    assert report["patches"] == ["doc.patch"] and report["kernel_git"] is None
    assert report["label"] == f"{sources.resolve('6.1').version}+doc.patch"
    assert report["patch_sha256"] == [hashlib.sha256(doc.read_bytes()).hexdigest()]


def test_matrix_and_bench_refuse_a_patch_without_effect(tmp_path):
    doc, _ = _comment_patches(tmp_path)
    p = pywalk_cli("bench", "--kernel", "6.1", "--patch", doc, "--layout", "pud",
                   "--seconds", "0.1")
    assert p.returncode == 125 and "doc.patch changes nothing this build uses" in p.stderr
    p = pywalk_cli("bench", "--kernel", "6.1", "--vs-patch", doc, "--layout", "pud",
                   "--seconds", "0.1")
    assert p.returncode == 125 and "doc.patch changes nothing this build uses" in p.stderr
    cells = matrix.plan(["6.1"], [str(doc)], ["walk-vs-refault"])
    ok = matrix.run(cells[1:], ops=1000, seed=1, delays=False, allow_unused=False)
    assert ok and cells[1].result is None
    assert cells[1].error.startswith("pywalk: patch doc.patch changes nothing this build uses")


@pytest.mark.stress
def test_notes_reach_the_verbs_that_run_a_variant(tmp_path):
    # matrix hands each new variant's notes on (cli/matrix.py prints them on
    # stderr); stress prints them on stderr, not among its results
    p0 = _bare_path_patch(tmp_path)
    seen = []
    cells = matrix.plan(["6.1"], [str(p0)], ["walk-vs-refault"])
    matrix.run(cells[1:], ops=500, seed=1, delays=False, on_notes=seen.append)
    assert seen == [["p0.patch: mm/pagewalk.c: paths have no a/ b/ prefix (diff -u inside "
                     "the tree?): applied with -p0"]]
    p = pywalk_cli("stress", "--kernel", "6.1", "--patch", p0, "--scenario", "walk-vs-refault",
                   "--ops", "500", "--no-delays")
    assert p.returncode == 0, p.stderr
    assert "pywalk: p0.patch: mm/pagewalk.c: paths have no a/ b/ prefix" in p.stderr
    assert "applied with -p0" not in p.stdout
    p = pywalk_cli("bench", "--kernel", "6.1", "--patch", p0, "--layout", "pud", "--size", "1G",
                   "--seconds", "0.1")
    assert p.returncode == 0, p.stderr
    assert "pywalk: p0.patch: mm/pagewalk.c: paths have no a/ b/ prefix" in p.stderr
    assert "applied with -p0" not in p.stdout


# -- labels ---------------------------------------------------------------------------

def test_two_patches_with_one_name_get_distinct_labels(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    shutil.copy(patch_path(FIX), tmp_path / "a/fix.patch")
    shutil.copy(patch_path(REVERT), tmp_path / "b/fix.patch")
    sets = matrix.user_sets([str(tmp_path / "a/fix.patch"), str(tmp_path / "b/fix.patch")])
    ha = hashlib.sha256(hashlib.sha256((tmp_path / "a/fix.patch").read_bytes())
                        .hexdigest().encode()).hexdigest()[:7]
    assert sets[0].label == f"+ fix.patch@{ha}"
    assert sets[1].label.startswith("+ fix.patch@") and sets[1].label != sets[0].label
    # the same file twice is the same set: no hash needed
    same = matrix.user_sets([str(tmp_path / "a/fix.patch"), str(tmp_path / "a/fix.patch")])
    assert [s.label for s in same] == ["+ fix.patch", "+ fix.patch"]
    # a variant label: with the hash where the same name repeats within a set
    a = pywalk.build("6.1", [str(tmp_path / "a/fix.patch")])
    b = pywalk.build("6.1", [str(tmp_path / "b/fix.patch")])
    assert a.name == b.name == f"{a.kernel}+fix.patch"
    a.show_hash = b.show_hash = True          # as `pywalk bench` does for A and B
    assert a.name == f"{a.kernel}+fix.patch@{ha}" and a.name != b.name
    both = builder.build("6.1", [str(tmp_path / "a/fix.patch"), str(tmp_path / "b/fix.patch")])
    assert re.fullmatch(re.escape(f"{a.kernel}+fix.patch+fix.patch@") + "[0-9a-f]{7}",
                        both.label)


def _git(tree, *args):
    return subprocess.run(["git", "-C", str(tree), "-c", "user.name=t", "-c",
                           "user.email=t@example.org", *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_kernel_git_on_a_git_worktree(tmp_path):
    tree = _tree_copy("6.1", tmp_path / "linux")
    _git(tree, "init", "-q")
    _git(tree, "add", "-A")
    _git(tree, "commit", "-qm", "base")
    head = _git(tree, "rev-parse", "--short", "HEAD")
    p = pywalk_cli("build", "--kernel", tree, "--json")
    assert p.returncode == 0, p.stderr
    info = json.loads(p.stdout)
    assert info["kernel_git"] == head
    assert info["label"] == f"{info['kernel']}({head})"
    pw = tree / "mm/pagewalk.c"
    pw.write_text(pw.read_text() + "/* local change */\n")
    info = json.loads(pywalk_cli("build", "--kernel", tree, "--json", "--patch",
                                 patch_path(FIX)).stdout)
    assert info["kernel_git"] == f"{head}-dirty"
    assert info["label"] == f"{info['kernel']}({head}-dirty)+{Path(patch_path(FIX)).name}"
    # a tree that is not a git worktree has none
    plain = _tree_copy("6.1", tmp_path / "plain")
    assert json.loads(pywalk_cli("build", "--kernel", plain, "--json").stdout)["kernel_git"] is None


# -- trees are only read ----------------------------------------------------------------

def test_a_patched_build_writes_neither_the_cache_nor_a_read_only_tree(tmp_path):
    src = sources.resolve("6.1")
    before = _snapshot(src.root)
    r = builder.build("6.1", [patch_path(FIX)])
    assert r.notes == []
    assert _snapshot(src.root) == before
    tree = _tree_copy("6.1", tmp_path / "ro")
    for d, _, files in os.walk(tree):
        for f in files:
            os.chmod(os.path.join(d, f), 0o444)
        os.chmod(d, 0o555)
    snap = _snapshot(tree)
    try:
        r = builder.build(str(tree), [patch_path(FIX)])
        [rec] = [s for s in r.sources if s.path == "mm/pagewalk.c"]
        assert rec.sha256 != hashlib.sha256((tree / "mm/pagewalk.c").read_bytes()).hexdigest()
        assert _snapshot(tree) == snap
    finally:
        for d, _, _ in os.walk(tree):
            os.chmod(d, 0o755)
