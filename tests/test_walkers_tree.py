# SPDX-License-Identifier: GPL-2.0-only
"""The tree's smaps, pagemap and mincore walks (fs/proc/task_mmu.c,
mm/mincore.c): sliced from the tree, run as show_smap(), pagemap_read() and
sys_mincore() run them, chosen with --walker / MM.walk(walker=...).

None of them has a pud_entry, so on 6.1 (before the CVE-2026-31456 fix)
each walks into a 1 GiB leaf that a reader refaulted after
walk_pud_range() split it: the walker race, through the tree's own
device-dax driver and through ours.
"""

import pytest

from pywalk.hunt import stress
from pywalk.hunt.races import WALKER_RACE

GiB = 1 << 30
WALKERS = ("smaps", "pagemap", "mincore")


def _taken(variant) -> dict:
    return {s.path: s.functions for s in variant.result.sources if not s.whole}


@pytest.mark.parametrize("kernel", ["v61", "v612"])
def test_the_walks_are_sliced_from_the_tree(kernel, request):
    v = request.getfixturevalue(kernel)
    taken = _taken(v)
    assert {"smaps_pte_range", "smaps_walk_ops", "pagemap_pmd_range", "pagemap_pte_hole",
            "pagemap_ops"} <= set(taken["fs/proc/task_mmu.c"])
    assert {"mincore_pte_range", "mincore_unmapped_range", "mincore_walk_ops",
            "do_mincore"} <= set(taken["mm/mincore.c"])
    assert all(v.has_client(w) for w in WALKERS)


@pytest.mark.parametrize("walker", WALKERS)
def test_each_walk_splits_a_1gib_dax_leaf_on_61(v61, walker):
    # none has a pud_entry: walk_pud_range() splits (zaps) the device PUD
    mm = v61.new_mm()
    start = mm.map(GiB, huge="pud", driver="dax")
    mm.fault(start)
    assert mm.lookup(start) == ("pud", "leaf")
    r = mm.walk(start, start + GiB, walker=walker)
    assert r["ret"] == 0 and r["splits"] == 1
    assert mm.lookup(start)[1] == "none"
    mm.close()


def test_mincore_reports_a_2mib_dax_leaf_resident(v61):
    # mincore_pte_range() fills the vec for a huge PMD under its lock;
    # the holes around it look up the device file's (empty) page cache
    mm = v61.new_mm()
    start = mm.map(GiB, huge="pmd", driver="dax")
    mm.fault(start)
    r = mm.walk(start, start + GiB, walker="mincore")
    assert r["ret"] == 0 and r["pte_present"] == 512 and r["pmd_entry"] == 1
    mm.close()


@pytest.mark.stress
@pytest.mark.parametrize("driver", ["dax", "write-notify"])
@pytest.mark.parametrize("walker", WALKERS)
def test_walker_race_through_each_walk_on_61(v61, walker, driver):
    # ops to the first walker race, seeds 1-5 (2 cores shared, default
    # delays): medians smaps 46k / 8k, pagemap 7k / 36k, mincore 16k / 36k
    # (dax / write-notify), worst 133k; the budget is 100x the medians
    r = stress.run(v61, "walk-vs-refault", ops=5_000_000, seed=1, walker=walker,
                   driver=driver, keep_going=True, stop_when=WALKER_RACE.matches)
    hits = [f for f in r.findings if WALKER_RACE.matches(f)]
    assert hits, f"no walker race in {r.ops} ops"
    assert "walk_pmd_range" in hits[0].backtrace[0]


@pytest.mark.stress
@pytest.mark.parametrize("walker", WALKERS)
def test_612_as_shipped_is_clean(v612, walker):
    r = stress.run(v612, "walk-vs-refault", ops=200_000, seed=1, walker=walker, driver="dax")
    assert r.findings == [] and r.ops >= 200_000
