# SPDX-License-Identifier: GPL-2.0-only
"""Page-table teardown through the tree's own code: the reaper (in
fault-vs-fault and mixed) zaps its range and runs the tree's
free_pgd_range() (csrc/scenarios.c pw_do_reap()), so a patch to
free_pmd_range()/free_pte_range() takes effect, and the accounting and
reachability checks (shim/checkers/leaks.c) see what it did.

Ops to the first LEAK, fault-vs-fault, seeds 1-3, on a loaded 2-core
machine: uncounted pte tables (check_mm) 243/475/576, a pmd table never
freed (kmemleak) 310/407/480.  Budget: 200,000 operations (400x)."""

from pathlib import Path

import pytest

import pywalk

from pywalk.hunt import stress


def _mutant(name):
    return str(Path(__file__).parent / "mutants" / "6.12" / name)


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("mutant, says", [
    ("free-pte-range-keeps-count.patch", "check_mm: counters"),
    ("free-pmd-range-forgets-table.patch", "kmemleak: "),
])
def test_a_teardown_bug_in_the_tree_is_a_leak(mutant, says, seed):
    v = pywalk.build("6.12", [_mutant(mutant)])
    r = stress.run(v, "fault-vs-fault", ops=200_000, seed=seed, keep_going=True,
                   stop_when=lambda f: f.kind == "LEAK" and says in f.message)
    leaks = [f for f in r.findings if f.kind == "LEAK"]
    assert any(says in f.message for f in leaks), f"no {says!r} LEAK in {r.ops:,} ops"
    assert not [f for f in r.findings if f.kind == "LOCK"]


@pytest.mark.stress
def test_shipped_teardown_is_clean_and_frees_through_the_tree(v612):
    r = stress.run(v612, "fault-vs-fault", ops=300_000, seed=1, keep_going=True)
    assert not [f for f in r.findings if f.kind in ("LOCK", "LEAK")], r.findings[:1]
    assert r.ops >= 300_000


def test_the_teardown_functions_are_sliced_from_the_tree(v612):
    names = {n for rec in v612.result.sources for n in rec.functions}
    for fn in ("free_pgd_range", "free_p4d_range", "free_pud_range", "free_pmd_range",
               "free_pte_range"):
        assert fn in names, fn


# ---- the mm's end: exit_mmap() by the tree, then check_mm() -------------------

GiB_ = 1 << 30


def _populate(mm):
    GiB = GiB_
    s = mm.map(4 * GiB, huge=True, write_notify="half")
    mm.fault(s + 5)                          # a PUD leaf (write-notify half, read)
    mm.fault(s + GiB + 4096, write=True)     # write-notify: falls back to a pte table
    mm.fault(s + 2 * GiB + 5, write=True)    # writable half: a writable PUD leaf
    assert mm.lookup(s + GiB + 4096) == ("pte", "present")
    return s


def test_teardown_frees_every_table_and_the_mm_can_fault_again(v612):
    with v612.new_mm() as mm:
        s = _populate(mm)
        mm.teardown()
        assert mm.lookup(s + GiB_ + 4096)[0] != "pte"
        mm.fault(s + GiB_ + 4096, write=True)
        assert mm.lookup(s + GiB_ + 4096) == ("pte", "present")
        mm.teardown()


def test_a_table_still_counted_at_the_end_is_check_mm(v612):
    v = pywalk.build("6.12", [_mutant("free-pte-range-keeps-count.patch")])
    with v.new_mm() as mm:
        _populate(mm)
        with pytest.raises(pywalk.KernelOops) as e:
            mm.teardown()
    rep = e.value.report
    assert rep.kind == "LEAK"
    assert rep.message.startswith("non-zero pgtables_bytes on freeing mm: ")


def test_a_table_never_freed_at_the_end_is_kmemleak(v612):
    v = pywalk.build("6.12", [_mutant("free-pmd-range-forgets-table.patch")])
    with v.new_mm() as mm:
        _populate(mm)
        with pytest.raises(pywalk.KernelOops) as e:
            mm.teardown()
    assert e.value.report.kind == "LEAK"
    assert e.value.report.message.startswith("kmemleak: ")


@pytest.mark.stress
def test_a_hunt_ends_with_the_teardown():
    # walk-vs-refault-pmd has no reaper: its pmd tables are freed only at the end
    v = pywalk.build("6.12", [_mutant("free-pmd-range-forgets-table.patch")])
    r = stress.run(v, "walk-vs-refault-pmd", ops=20_000, seed=1, keep_going=True)
    leaks = [f for f in r.findings if f.kind == "LEAK"]
    assert leaks and leaks[-1].role == "reaper", r.findings[-1:]
    assert leaks[-1].message.startswith("kmemleak: ")
