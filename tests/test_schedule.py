# SPDX-License-Identifier: GPL-2.0-only
"""Controlled schedules: outcomes by seed and schedule, the same on every run.

Each scheduled run starts real threads on the real code, but the scheduler
lets one run at a time and decides from the seed (or the recorded
switches) who runs at each hook site: nothing depends on time or on the
machine's load, so these assert exact outcomes.
"""

import json
import subprocess
import sys
from dataclasses import replace

import pytest

from pywalk.assets import patch_path
from pywalk.hunt import explore, schedule
from pywalk.hunt.races import FAULT_RACE, WALKER_RACE

from conftest import FIX, REVERT

pytestmark = pytest.mark.stress
SIG = "SEGV walk_pmd_range<walk_pud_range<walk_p4d_range"


def pywalk(*args):
    return subprocess.run([sys.executable, "-m", "pywalk", *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory, v61):
    """The issue's done-when run, twice."""
    d = tmp_path_factory.mktemp("sched")
    reps = []
    for i in range(2):
        out = d / f"r{i}.json"
        p = pywalk("stress", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--schedule",
                   "pct", "--seed", 5, "--json", out, "--fail-on-finding")
        assert p.returncode == 1, p.stdout + p.stderr
        reps.append(json.loads(out.read_text()))
    return d / "r0.json", reps


def test_same_inputs_same_finding_at_same_step(report):
    _, (a, b) = report
    assert a["schedule"] == b["schedule"]
    assert a["schedule"]["steps"] > 0 and a["schedule"]["kind"] == "pct"
    assert a["findings"][0]["signature"] == b["findings"][0]["signature"] == SIG
    assert a["replay"]["sources"] == b["replay"]["sources"]
    assert a["replay"]["sources"]["mm/pagewalk.c"]


def test_replay_reproduces_and_the_fix_closes_that_schedule(report):
    path, (a, _) = report
    p = pywalk("replay", path)
    assert p.returncode == 1, p.stderr
    assert f"reproduced: {SIG} at step {a['schedule']['steps']}" in p.stdout
    p = pywalk("replay", path, "--patch", patch_path(FIX))
    assert p.returncode == 0, p.stderr
    assert "the same schedule no longer fails" in p.stdout


def test_trace_shows_walker_and_faulting_thread(report):
    path, _ = report
    p = pywalk("replay", path, "--trace", "--trace-steps", 30)
    assert p.returncode == 1, p.stderr
    head, *rows = p.stdout.splitlines()
    assert "T0 walker" in head and "reader" in head
    walker_cells = [r.split("|")[1] for r in rows if r.count("|") >= 2]
    reader_cells = [c for r in rows if r.count("|") >= 3 for c in r.split("|")[2:]]
    assert any("walk_pud_range mm/pagewalk.c" in c for c in walker_cells)
    assert any("walk_pmd_range mm/pagewalk.c" in c and "SEGV" in c for c in walker_cells)
    assert any("insert_pfn_pud mm/huge_memory.c" in c and "store 0x" in c for c in reader_cells)


def test_shrink_keeps_the_failure_with_fewer_steps(report, tmp_path):
    path, (a, _) = report
    out = tmp_path / "s.json"
    p = pywalk("shrink", path, "--json", out)
    assert p.returncode == 1, p.stderr
    s = json.loads(out.read_text())
    assert s["findings"][0]["signature"] == SIG
    assert s["schedule"]["steps"] < a["schedule"]["steps"]
    p = pywalk("replay", out)
    assert p.returncode == 1 and f"at step {s['schedule']['steps']}" in p.stdout


def test_replay_identical_ten_times(v61):
    threads, ops = schedule.plan_threads("walk-vs-refault")
    spec = schedule.Spec("walk-vs-refault", threads, ops, "pct", schedule.run_seed(5, 35), 3, 43)
    runs = [schedule.run_once(v61, spec) for _ in range(10)]
    first = runs[0]
    for r in runs:
        assert (r.steps, r.finding_step, r.switches) == (first.steps, first.finding_step,
                                                         first.switches)
        assert (r.finding.signature if r.finding else None) == (
            first.finding.signature if first.finding else None)


@pytest.mark.parametrize("seed", range(1, 11))
def test_pct_finds_the_walker_race(v61, seed):
    # measured on 30 seeds: median 29 schedules, at most 143
    r = schedule.hunt(v61, "walk-vs-refault", kind="pct", seed=seed, schedules=3000)
    assert r.findings and WALKER_RACE.matches(r.findings[0])
    assert r.delays is None          # no window widening under a schedule


def test_fixed_variant_survives_the_same_schedules(v61_fix):
    r = schedule.hunt(v61_fix, "walk-vs-refault", kind="pct", seed=5, schedules=300)
    assert not r.findings and r.schedule["schedules"] == 300


def test_random_kind_is_deterministic_too(v61):
    a = schedule.hunt(v61, "walk-vs-refault", kind="random", seed=2, schedules=3000)
    b = schedule.hunt(v61, "walk-vs-refault", kind="random", seed=2, schedules=3000)
    assert a.findings and a.schedule == b.schedule


def test_explore_finds_the_race_and_proves_the_fix(tmp_path, v61, v61_fix, v612):
    out = tmp_path / "e.json"
    p = pywalk("explore", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--bound", 2,
               "--json", out)
    assert p.returncode == 1, p.stderr
    rep = json.loads(out.read_text())
    assert rep["findings"][0]["signature"] == SIG and rep["exhausted"] is False
    assert pywalk("replay", out).returncode == 1
    for args in (("--kernel", "6.1", "--patch", patch_path(FIX)), ("--kernel", "6.12")):
        p = pywalk("explore", *args, "--scenario", "walk-vs-refault", "--bound", 2, "--json", out)
        assert p.returncode == 0, p.stderr
        rep = json.loads(out.read_text())
        assert rep["exhausted"] is True and rep["schedules"] > 1 and not rep["findings"]
        # a clean result says what it covers, and what it does not
        assert "between hook sites" in p.stdout and "between hook sites" in rep["covers"]


def test_explore_counts_every_schedule_within_the_bound(v61_fix):
    spec = explore.small_form("walk-vs-refault")
    counts = [explore.explore(v61_fix, spec, b)[1] for b in (0, 1, 2)]
    assert counts[0] == 1 and counts[0] < counts[1] < counts[2]
    again = explore.explore(v61_fix, spec, 2)
    assert again[1] == counts[2] and again[2] is True


def test_bad_schedule_arguments_are_usage_errors(v61):
    p = pywalk("stress", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--schedule", "pct",
               "--sched-sites", "lock,nowhere")
    assert p.returncode == 2 and "nowhere" in p.stderr
    p = pywalk("stress", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--schedule", "pct",
               "--seconds", 1)
    assert p.returncode == 2


def test_every_thread_blocked_is_a_deadlock_with_stacks(v61):
    """Harness code taking page_table_lock then mmap_lock (the "abba" role,
    tests only) against the real walker, which holds mmap_lock and wants
    page_table_lock in split_huge_pud(): some schedule within one switch
    blocks both, and the finding names where each thread waits."""
    spec = replace(explore.small_form("walk-vs-refault"),
                   threads=[("walker", "count-numa"), ("abba", None)])
    out, count, exhausted, _ = explore.explore(v61, spec, 2)
    assert out is not None and out.deadlock and not exhausted
    f = out.finding
    assert f.kind == "DEADLOCK" and f.role == "walker"
    assert any(b.startswith("walk_pud_range mm/pagewalk.c") for b in f.backtrace)
    assert "thread 0 blocked on spinlock" in f.message
    assert "thread 1 blocked on mmap_lock (write)" in f.message
    assert set(f.stacks) == {0, 1}
    assert any(b.startswith("mmap_write_lock") for b in f.stacks[1])
    again = schedule.run_once(v61, out.spec)
    assert again.deadlock and again.finding_step == out.finding_step


def test_an_oops_with_threads_waiting_on_locks_is_the_oops(v61_revert):
    """The 2019 fault race leaves other threads waiting on the pud lock: the
    run stops them all and reports the oops, not a deadlock."""
    r = schedule.hunt(v61_revert, "fault-vs-fault", kind="pct", seed=3, schedules=3000)
    assert r.findings and FAULT_RACE.matches(r.findings[0]), r.findings[0].message


def test_replay_refuses_reports_it_cannot_replay(tmp_path):
    bad = tmp_path / "bad.json"
    for text in ("[1]", '{"scenario": "walk-vs-refault"}', "not json",
                 '{"schedule": {"threads": 3}, "replay": {}, "scenario": "walk-vs-refault"}'):
        bad.write_text(text)
        p = pywalk("replay", bad)
        assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr


def test_explore_with_a_thread_plan(v61, v61_fix):
    spec = explore.small_form("walk-vs-refault", roles=["walker", "reader", "zapper"])
    assert [t[0] for t in spec.threads] == ["walker", "reader", "zapper"]
    out, _, exhausted, _ = explore.explore(v61, spec, 2)
    assert out is not None and WALKER_RACE.matches(out.finding) and not exhausted
    out, count, exhausted, _ = explore.explore(v61_fix, spec, 2)
    assert out is None and exhausted and count > 100
