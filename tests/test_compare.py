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
