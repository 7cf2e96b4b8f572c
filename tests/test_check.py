# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk check`: a fix against every scenario, driver and walker, with and
without the patches; a newcomer's wrong fix fails, upstream's passes."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pywalk.assets import patch_path
from pywalk.hunt import check
from pywalk.hunt.stress import Finding

NEWCOMER = Path(__file__).parent / "fixtures" / "newcomer"
UPSTREAM = "6.1/0002-backport-upstream-pudp_get-fix-with-READ_ONCE.patch"


def finding(kind, message, frames):
    return Finding(kind, 0, frames, message, None, 0, "walker", 0.0, 0, "s", "v", 1)


def test_a_finding_fails_in_touched_code_or_when_new():
    files = {"mm/pagewalk.c"}
    walker = finding("SEGV", "BUG: unable to handle page fault (device memory: x)",
                     ["walk_pmd_range mm/pagewalk.c:113", "walk_pud_range mm/pagewalk.c:205"])
    bad_pmd = finding("WARN", "bad pmd entry", ["pmd_clear_bad shim/include/pywalk/pgtable.h:279",
                                                "pmd_trans_unstable include/linux/pgtable.h:1458",
                                                "walk_pmd_range mm/pagewalk.c:165"])
    cell = check.Cell("walk-vs-refault", None, None, False, with_=[walker, bad_pmd],
                      without=[walker, bad_pmd])
    # the walker race persists in code the patch changes; the bad pmd is in
    # include/linux/pgtable.h, which it does not: the tree's, not the fix's
    assert check.failing(cell, files) == [walker]
    assert check.failing(cell, {"mm/memory.c"}) == []
    new = check.Cell("mixed", None, None, True, with_=[bad_pmd], without=[])
    assert check.failing(new, {"mm/memory.c"}) == [bad_pmd]
    assert check.line("walker race", 5, 0, False) == \
        "walker race: 5 finding(s) without the patches -> 0 with"


def test_touched_files_come_from_the_patch():
    from pywalk.variant.patches import load_patches
    assert "mm/pagewalk.c" in check.touched(load_patches([patch_path(UPSTREAM)]))


def _check(patch, tmp_path, *more):
    out = tmp_path / "c.json"
    p = subprocess.run([sys.executable, "-m", "pywalk", "check", "--kernel", "6.1", "--patch",
                        str(patch), "--quiet", "--json", str(out), *more],
                       capture_output=True, text=True, timeout=1200)
    return p, json.loads(out.read_text()) if out.exists() else None


@pytest.mark.stress
@pytest.mark.parametrize("name,scenario", [
    # a recheck that misses devmap leaves: the walker race stays, everywhere.
    # (The READ_ONCE recheck with a plain pmd_offset() showed in mixed before
    # the tree's own pud_clear_bad() was compiled; see tests/test_explain.py.)
    ("walk-pud-range-recheck-trans-huge-only", "walk-vs-refault")])
def test_check_fails_a_newcomers_walker_fix(tmp_path, name, scenario, v61):
    # one scenario (the others are listed as not covered), 100,000 ops a hunt
    p, rep = _check(NEWCOMER / f"{name}.patch", tmp_path, "--scenario", scenario,
                    "--budget", "0.5")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "CHECK FAILS" in p.stdout and "walk_pmd_range" in p.stdout
    assert any(c["fails"] for c in rep["cells"]) and rep["ok"] is False


@pytest.mark.stress
def test_check_passes_upstreams_fix_and_says_what_it_covered(tmp_path, v61):
    p, rep = _check(patch_path(UPSTREAM), tmp_path, "--budget", "0.1")
    assert p.returncode == 0, p.stdout + p.stderr
    walker = [r for r in rep["before_after"] if r["name"] == "walker race"]
    assert walker and walker[0]["without"] > 0 and walker[0]["with"] == 0
    assert "walker race: " in p.stdout and "-> 0 with" in p.stdout
    # every scenario, with both drivers 6.1 can run, instrumented and not
    cells = {(c["scenario"], c["driver"], c["instrumented"]) for c in rep["cells"]}
    assert {("mixed", "dax", True), ("walk-vs-refault", "write-notify", False)} <= cells
    assert "not covered:" in p.stdout and "vfio" in p.stdout and "PARAVIRT_XXL" in p.stdout


@pytest.mark.stress
def test_check_without_a_patch_lists_the_trees_own_findings(tmp_path, v612):
    """6.12 as shipped: nothing to gate (exit 0), every way in covered, and the
    tree's own findings listed (its zap_pud_range() bad pud among them)."""
    out = tmp_path / "c.json"
    p = subprocess.run([sys.executable, "-m", "pywalk", "check", "--kernel", "6.12",
                        "--budget", "0.05", "--quiet", "--json", str(out)],
                       capture_output=True, text=True, timeout=1200)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no --patch: the tree as shipped" in p.stdout and "not covered:" in p.stdout
    rep = json.loads(out.read_text())
    assert {c["driver"] for c in rep["cells"]} == {"write-notify", "dax", "vfio"}
    assert all(c["with"] == c["without"] and not c["fails"] for c in rep["cells"])
