# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk replay REPORT --replace-patches [--patch Y]`: a schedule found with
patch X (or none) runs against patch Y (or none) instead of X plus Y.
Controlled schedules, so the outcomes are exact."""

import json
import subprocess
import sys

import pytest

from pywalk.assets import patch_path

from conftest import REVERT

pytestmark = pytest.mark.stress
UPSTREAM_FIX = "6.1/0002-backport-upstream-pudp_get-fix-with-READ_ONCE.patch"


def pywalk(*args):
    return subprocess.run([sys.executable, "-m", "pywalk", *map(str, args)],
                          capture_output=True, text=True)


def found(tmp_path, name, scenario, seed, *patches):
    out = tmp_path / f"{name}.json"
    p = pywalk("stress", "--kernel", "6.1", "--scenario", scenario, "--schedule", "pct",
               "--seed", seed, "--schedules", 3000, "--json", out, "--fail-on-finding",
               *[a for x in patches for a in ("--patch", patch_path(x))])
    assert p.returncode == 1, p.stdout + p.stderr
    return out, json.loads(out.read_text())


def test_shipped_schedule_against_the_fix_instead(tmp_path):
    path, rep = found(tmp_path, "shipped", "walk-vs-refault", 5)
    kv = rep["replay"]["kernel_version"]
    p = pywalk("replay", path, "--replace-patches", "--patch", patch_path(UPSTREAM_FIX))
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith(f"{kv}+0002-"), p.stdout
    assert "the same schedule no longer fails" in p.stdout
    assert "replaced by 0002-" in p.stderr
    # replaced, not appended: nothing to replace, so the same as --patch alone
    q = pywalk("replay", path, "--patch", patch_path(UPSTREAM_FIX))
    assert q.returncode == 0 and "no longer fails" in q.stdout


def test_patched_schedule_with_no_patch_runs_the_tree_as_shipped(tmp_path):
    """Found on 6.1 without its pmd_alloc() recheck (the 2019 fault race):
    --replace-patches alone runs the schedule on the tree as shipped, whose
    recheck closes it; without --replace-patches the revert stays."""
    path, rep = found(tmp_path, "revert", "fault-vs-fault", 3, REVERT)
    kv = rep["replay"]["kernel_version"]
    assert [p["name"] for p in rep["replay"]["patches"]] == [REVERT.split("/")[1]]
    kept = pywalk("replay", path)
    assert kept.returncode == 1 and kept.stdout.startswith(f"{kv}+revert-"), kept.stdout
    assert "reproduced: SEGV __handle_mm_fault" in kept.stdout
    p = pywalk("replay", path, "--replace-patches")
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.startswith(f"{kv} fault-vs-fault: replayed schedule"), p.stdout
    assert "the same schedule no longer fails" in p.stdout
    assert "replaced by none: the tree as shipped" in p.stderr
