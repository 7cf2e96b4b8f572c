# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk stress --compare-unpatched`: what a patch adds."""

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pywalk.hunt import compare
from pywalk.hunt.stress import Finding

MUTANT = str(Path(__file__).parent / "mutants" / "6.12" / "split-pud-without-lock.patch")


def finding(kind, message, frames):
    bt = [f"{fn} mm/x.c:1" for fn in frames]
    return Finding(kind, 0, bt, message, None, 0, "writer", 0.0, 0, "s", "v", 1)


def test_only_in_keys_by_signature_and_message_without_numbers():
    a = finding("LOCK", "store 84000040000000a5 -> 0", ["__split_huge_pud"])
    a2 = finding("LOCK", "store 84000040c00000a5 -> 0", ["__split_huge_pud"])
    b = finding("SEGV", "device memory", ["__handle_mm_fault"])
    c = finding("LEAK", "kmemleak: 3 page-table page(s)", [])
    patched = SimpleNamespace(findings=[a, a2, b, c])
    unpatched = SimpleNamespace(findings=[b, finding("LEAK", "kmemleak: 1 page-table page(s)", [])])
    assert compare.only_in(patched, unpatched) == [a]


def test_compare_needs_a_patch():
    p = subprocess.run([sys.executable, "-m", "pywalk", "stress", "--kernel", "6.12",
                        "--scenario", "mixed", "--ops", "10", "--compare-unpatched"],
                       capture_output=True, text=True)
    assert p.returncode == 2 and "needs at least one --patch" in p.stderr


@pytest.mark.stress
def test_compare_lists_what_the_mutant_adds(tmp_path):
    out = tmp_path / "c.json"
    p = subprocess.run([sys.executable, "-m", "pywalk", "stress", "--kernel", "6.12",
                        "--patch", MUTANT, "--scenario", "fault-vs-fault", "--ops", "100000",
                        "--compare-unpatched", "--fail-on-finding", "--json", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == 1, p.stdout + p.stderr
    rep = json.loads(out.read_text())
    assert rep["unpatched"]["patches"] == []
    kinds = {f["kind"] for f in rep["only_with_patches"]}
    assert "LOCK" in kinds
    assert all(f["kind"] != "LOCK" for f in rep["unpatched"]["findings"])
    assert "only with the patches:" in p.stdout


def test_before_after_names_known_races_and_says_what_was_not_fixed():
    walker = finding("SEGV", "BUG: unable to handle page fault (device memory: x)",
                     ["walk_pmd_range", "walk_pud_range"])
    other = finding("WARN", "something", ["zap_pmd_range"])
    moved = compare.changes(SimpleNamespace(findings=[walker] * 2 + [other]),
                            SimpleNamespace(findings=[walker] * 5))
    assert [(c.name, c.without, c.with_, c.verdict) for c in moved] == [
        ("WARN zap_pmd_range", 0, 1, "NEW with the patches"),
        ("walker race", 5, 2, "NOT FIXED")]
    assert moved[1].line() == "walker race: 5 finding(s) without the patches -> 2 with: NOT FIXED"
    gone = compare.changes(SimpleNamespace(findings=[]), SimpleNamespace(findings=[walker]))
    assert gone[0].verdict == "fixed" and not gone[0].failing


@pytest.mark.stress
@pytest.mark.parametrize("patch,code,verdict", [
    # a patch to the fault path does nothing for the walker race: a non-fix
    ("6.1/revert-pud-alloc-race-check.patch", 1, "NOT FIXED"),
    ("6.1/0002-backport-upstream-pudp_get-fix-with-READ_ONCE.patch", 0, "fixed")])
def test_compare_fails_a_patch_that_does_not_remove_the_race(tmp_path, patch, code, verdict):
    from pywalk.assets import patch_path
    out = tmp_path / "c.json"
    p = subprocess.run([sys.executable, "-m", "pywalk", "stress", "--kernel", "6.1",
                        "--patch", patch_path(patch), "--scenario", "walk-vs-refault",
                        "--instrument", "off", "--ops", "200000", "--compare-unpatched",
                        "--fail-on-finding", "--json", str(out)],
                       capture_output=True, text=True)
    assert p.returncode == code, p.stdout + p.stderr
    walker = [c for c in json.loads(out.read_text())["before_after"] if c["name"] == "walker race"]
    assert walker and walker[0]["without"] > 0 and walker[0]["verdict"] == verdict
    assert "walker race: " in p.stdout
