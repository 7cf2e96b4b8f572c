# SPDX-License-Identifier: GPL-2.0-only
"""The stale-view oracle (shim/checkers/stale.c, STALE findings): an unlocked
check-then-act and a lost update under the lock, each on a mutant of its own
under tests/mutants/6.12/.  It needs the instrumented build (the tree's loads
of an entry are what it compares a store with).

Ops to the first STALE finding, walk-vs-refault, seeds 1-5, measured on a
loaded 2-core machine: check-then-act 3,059..64,738, median 14,710; lost
update 1,576..4,945, median 2,544.  The oracle itself is not sampled (every
store under a lock is checked); the race it needs is timing-bound, so the
budget is 1,000,000 operations: 68x the larger median, 15x the slowest seen."""

from pathlib import Path

import pytest

import pywalk

from pywalk.hunt import stress

BUDGET = 1_000_000


def _mutant(name):
    return str(Path(__file__).parent / "mutants" / "6.12" / name)


def _first_stale(v, scenario, seed):
    r = stress.run(v, scenario, ops=BUDGET, seed=seed, keep_going=True,
                   stop_when=lambda f: f.kind == "STALE")
    stale = [f for f in r.findings if f.kind == "STALE"]
    assert stale, f"no STALE finding in {r.ops:,} ops (seed {seed})"
    return r, stale


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_unlocked_check_then_act_is_found(seed):
    v = pywalk.build("6.12", [_mutant("insert-pfn-pud-checks-unlocked.patch")], instrumented=True)
    r, stale = _first_stale(v, "walk-vs-refault", seed)
    f = stale[0]
    assert f.message.startswith("check-then-act: "), f.message
    assert any(b.startswith("insert_pfn_pud mm/huge_memory.c") for b in f.backtrace), f.backtrace
    assert all(x.message.startswith("check-then-act: ") for x in stale)
    assert not [x for x in r.findings if x.kind in ("LOCK", "LEAK")], r.findings[:2]


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_lost_update_under_the_lock_is_found(seed):
    v = pywalk.build("6.12", [_mutant("pud-set-accessed-writes-back-stale.patch")],
                     instrumented=True)
    r, stale = _first_stale(v, "walk-vs-refault", seed)
    f = stale[0]
    assert f.message.startswith("lost update: "), f.message
    assert any(b.startswith("huge_pud_set_accessed mm/huge_memory.c") for b in f.backtrace), \
        f.backtrace
    assert all(x.message.startswith("lost update: ") for x in stale)
    assert not [x for x in r.findings if x.kind in ("LOCK", "LEAK")], r.findings[:2]


# ---- and only there ---------------------------------------------------------

@pytest.mark.stress
@pytest.mark.parametrize("scenario", sorted(stress.SCENARIOS))
def test_shipped_612_instrumented_makes_no_stale_lock_or_leak_finding(scenario):
    v = pywalk.build("6.12", instrumented=True)
    r = stress.run(v, scenario, ops=300_000, seed=1, keep_going=True)
    assert not [f for f in r.findings if f.kind in ("STALE", "LOCK", "LEAK")], r.findings[:1]
    assert r.ops >= 300_000


@pytest.mark.stress
def test_the_leak_mutant_is_no_stale_view():
    # __pmd_alloc() re-reads the pud under the lock: it sees what it overwrites
    v = pywalk.build("6.12", [_mutant("pmd-alloc-overwrites-table.patch")], instrumented=True)
    r = stress.run(v, "fault-vs-fault", ops=200_000, seed=1, keep_going=True)
    assert [f for f in r.findings if f.kind == "LEAK"]
    assert not [f for f in r.findings if f.kind == "STALE"], r.findings[:1]


@pytest.mark.stress
def test_the_lock_mutant_is_no_stale_view():
    v = pywalk.build("6.12", [_mutant("split-pud-without-lock.patch")], instrumented=True)
    r = stress.run(v, "fault-vs-fault", ops=100_000, seed=1, keep_going=True)
    assert [f for f in r.findings if f.kind == "LOCK"]
    assert not [f for f in r.findings if f.kind == "STALE"], r.findings[:1]


@pytest.mark.stress
def test_the_stale_mutants_are_no_lock_finding_in_mixed():
    # (in mixed a LEAK may follow: a leaf installed or written back over a
    # pte table another thread put there loses that table -- the bug's
    # consequence, reported as such)
    for name in ("insert-pfn-pud-checks-unlocked.patch", "pud-set-accessed-writes-back-stale.patch"):
        v = pywalk.build("6.12", [_mutant(name)], instrumented=True)
        r = stress.run(v, "mixed", ops=200_000, seed=1, keep_going=True)
        assert not [f for f in r.findings if f.kind == "LOCK"], (name, r.findings[:1])


def test_an_uninstrumented_build_has_no_views_to_compare():
    # documented: STALE needs the tree's loads, i.e. the instrumented build
    v = pywalk.build("6.12", [_mutant("pud-set-accessed-writes-back-stale.patch")])
    r = stress.run(v, "walk-vs-refault", ops=50_000, seed=1, keep_going=True)
    assert not [f for f in r.findings if f.kind == "STALE"]
