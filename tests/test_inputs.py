# SPDX-License-Identifier: GPL-2.0-only
"""Inputs are checked: thread counts per role, walk callbacks' return values,
matrix --expect, and usage errors that are one line with the right hint."""

import subprocess
import sys

import pytest

from pywalk.assets import patch_path
from pywalk.errors import EXIT_FINDING, EXIT_OK, EXIT_USAGE, UsageError
from pywalk.hunt import roles, stress
from pywalk.variant.runtime import WalkCallbackError

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"


def pywalk_cli(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "pywalk", *args], capture_output=True,
                          text=True, timeout=timeout)


def one_line_usage(p) -> str:
    assert p.returncode == EXIT_USAGE, (p.returncode, p.stderr)
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pywalk: "), p.stderr
    assert "Traceback" not in p.stderr
    return lines[0]


@pytest.mark.parametrize("n", ["0", "100000", "-1"])
def test_walk_vs_refault_walkers_out_of_bounds(n):
    line = one_line_usage(pywalk_cli("stress", "--kernel", "6.1", "--scenario",
                                     "walk-vs-refault", "--walkers", n))
    assert "--walkers" in line or "walker thread" in line


def test_a_role_the_scenario_lacks_is_a_usage_error():
    line = one_line_usage(pywalk_cli("stress", "--kernel", "6.1", "--scenario", "fault-vs-fault",
                                     "--walkers", "1"))
    assert "fault-vs-fault has no walker threads" in line
    line = one_line_usage(pywalk_cli("stress", "--kernel", "6.1", "--scenario", "fault-vs-fault",
                                     "--readers", "0", "--writers", "0"))
    assert "needs at least one" in line


def test_plan_per_role():
    sc = stress.SCENARIOS["fault-vs-fault"]
    plan = stress.thread_plan(sc, threads={"reader": 3, "writer": 2, "reaper": 0})
    assert plan == {"writer": (2, None, 0), "reader": (3, None, 0)}
    # --faulters is the scenario's faulting role: writers here, readers in walk-vs-refault
    assert stress.thread_plan(sc, faulters=5)["writer"][0] == 5
    wvr = stress.SCENARIOS["walk-vs-refault"]
    assert stress.thread_plan(wvr, walkers=2, faulters=3) == {
        "walker": (2, "count-numa", 0), "reader": (3, None, 0)}
    with pytest.raises(UsageError, match="give one of them"):
        roles.counts_from(wvr, {"reader": 1}, faulters=2)
    with pytest.raises(UsageError, match="several faulting roles"):
        roles.counts_from(stress.SCENARIOS["mixed"], {}, faulters=2)
    mixed = stress.thread_plan(stress.SCENARIOS["mixed"], threads={"walker": 2, "zapper": 0})
    assert mixed["walker/count-dirty"][0] == 2 and "zapper" not in mixed
    with pytest.raises(UsageError, match="at most 256"):
        stress.thread_plan(stress.SCENARIOS["mixed"], threads={"walker": 100})
    with pytest.raises(UsageError):
        stress.thread_plan(wvr, threads={"walker": True})


def test_walk_callback_return_values(mm):
    start = mm.map(1 << 30, huge=False)
    mm.fault(start)
    for bad in ("bogus", 1.5, [1], True):
        with pytest.raises(WalkCallbackError) as ei:
            mm.walk(start, start + (1 << 30), callbacks={"pte_entry": lambda *a, r=bad: r})
        msg = str(ei.value)
        assert "\n" not in msg and "pte_entry" in msg and repr(bad) in msg
        assert isinstance(ei.value, ValueError)
    ok = mm.walk(start, start + (1 << 30), callbacks={"pmd_entry": lambda *a: "continue",
                                                      "pte_entry": lambda *a: None})
    assert ok["ret"] == 0 and ok["pte_entry"] == 0
    assert mm.walk(start, start + (1 << 30), callbacks={"pte_entry": lambda *a: 7})["ret"] == 7


def test_usage_hint_names_the_command():
    p = pywalk_cli("stress", "--bogus")
    assert one_line_usage(p).endswith("(see pywalk stress --help)")
    p = pywalk_cli("bench", "--layout", "nope")
    assert one_line_usage(p).endswith("(see pywalk bench --help)")
    assert one_line_usage(pywalk_cli()).endswith("(see pywalk --help)")


def test_bench_walker_that_splits_needs_faulters():
    line = one_line_usage(pywalk_cli("bench", "--walker", "count-numa", "--faulters", "0"))
    assert "--faulters" in line
    one_line_usage(pywalk_cli("bench", "--faulters", "1000"))


def test_matrix_expect_needs_patch_sets():
    line = one_line_usage(pywalk_cli("matrix", "--kernel", "6.1", "--expect", "clean"))
    assert "--patch" in line


@pytest.mark.stress
def test_matrix_expect_gates_user_patch_sets(tmp_path):
    """A patch set that leaves the walker race in fails --expect clean and
    passes --expect race; the 2019 fix passes --expect clean."""
    common = ["matrix", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--ops", "300000"]
    p = pywalk_cli(*common, "--patch", patch_path(REVERT), "--expect", "clean")
    assert p.returncode == EXIT_FINDING, p.stdout + p.stderr
    assert "NOT AS EXPECTED" in p.stderr
    p = pywalk_cli(*common, "--patch", patch_path(REVERT), "--expect", "race")
    assert p.returncode == EXIT_OK, p.stdout + p.stderr
    p = pywalk_cli(*common, "--patch", patch_path(FIX), "--expect", "clean")
    assert p.returncode == EXIT_OK, p.stdout + p.stderr
