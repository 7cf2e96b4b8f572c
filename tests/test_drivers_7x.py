# SPDX-License-Identifier: GPL-2.0-only
"""The tree's device-dax driver on 7.x, where it inserts folios
(vmf_insert_folio_pud()/_pmd(), sliced with insert_pud()/insert_pmd()):
the folio's reference, rmap and rss accounting are the tree's, the shim
keeps them (shim/include/pywalk/folio.h) and the teardown checks them
(shim/src/leaks.c, check_mm()'s "Bad rss-counter state")."""

from pathlib import Path

import pytest

import pywalk
from pywalk.assets import patch_path
from pywalk.hunt import stress
from pywalk.hunt.races import WALKER_RACE
from pywalk.tree import sources

GiB = 1 << 30
MiB = 1 << 20


def _tree(series):
    try:
        return sources.resolve(series)
    except Exception as e:  # noqa: BLE001 - any failure to fetch means "not here"
        pytest.skip(f"{series} not available through pywalk's fetch: {e}")


@pytest.fixture(scope="module")
def v73():
    _tree("7.3")
    return pywalk.build("7.3")


@pytest.fixture(scope="module")
def v73_revert():
    _tree("7.3")
    return pywalk.build("7.3", [patch_path("7.3/revert-cve-2026-31456-fix.patch")])


def _mutant(name):
    return str(Path(__file__).parent / "mutants" / "7.3" / name)


def test_73_builds_device_dax_with_its_folio_insert_path(v73):
    assert v73.has_driver("dax"), v73.result.notes
    assert not any("do not build" in n for n in v73.result.notes), v73.result.notes
    taken = {s.path: s.functions for s in v73.result.sources}
    assert {"vmf_insert_folio_pud", "vmf_insert_folio_pmd", "insert_pud",
            "insert_pmd"} <= set(taken["mm/huge_memory.c"])
    assert "dev_dax_huge_fault" in taken["drivers/dax/device.c"]
    assert "dax_pgoff_to_phys" in taken["drivers/dax/bus.c"]
    assert {"folio_mk_pud", "pfn_folio"} <= set(taken["include/linux/mm.h"])


def test_73_dax_folio_references_follow_the_mappings(v73):
    """1 GiB and 2 MiB alignment: each leaf holds one folio reference and
    counts in rss until it is split (the walk) or zapped; then none."""
    base = v73.lib.pw_dax_folio_refs()
    with v73.new_mm() as mm:
        big = mm.map(2 * GiB, huge="pud", driver="dax")
        small = mm.map(GiB, huge="pmd", driver="dax")
        mm.fault(big)
        mm.fault(big + GiB, write=True)
        mm.fault(small)
        mm.fault(small + 4 * MiB + 4096, write=True)
        assert mm.lookup(big) == ("pud", "leaf") and mm.lookup(small) == ("pmd", "leaf")
        assert v73.lib.pw_dax_folio_refs() - base == 4
        r = mm.walk(big, big + 2 * GiB, walker="numa_maps")   # splits both PUD leaves
        assert r["ret"] == 0 and r["splits"] == 2
        assert v73.lib.pw_dax_folio_refs() - base == 2
        mm.fault(big)
        mm.zap(small, small + GiB)
        assert v73.lib.pw_dax_folio_refs() - base == 1
        mm.teardown()                       # check_mm(): raises on a bad rss counter
        assert v73.lib.pw_dax_folio_refs() == base


def test_73_zap_that_keeps_the_rss_is_a_leak():
    _tree("7.3")
    v = pywalk.build("7.3", [_mutant("zap-huge-pud-keeps-rss.patch")])
    with v.new_mm() as mm:
        s = mm.map(GiB, huge="pud", driver="dax")
        mm.fault(s)
        with pytest.raises(pywalk.KernelOops) as e:
            mm.teardown()
    assert e.value.report.kind == "LEAK"
    assert "Bad rss-counter state" in e.value.report.message
    assert "MM_FILEPAGES val:262144" in e.value.report.message


@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2])
def test_73_numa_maps_vs_dax_finds_the_cve_without_the_fix(v73_revert, seed):
    # measured (2 loaded cores, instrumented CLI and this build): first
    # walker race after 1.6k-20k ops; the budget is 3M
    r = stress.run(v73_revert, "walk-vs-refault", ops=3_000_000, seed=seed,
                   walker="numa_maps", driver="dax", keep_going=True,
                   stop_when=WALKER_RACE.matches)
    hits = [f for f in r.findings if WALKER_RACE.matches(f)]
    assert hits, f"no walker race in {r.ops} ops"
    assert any("walk_page_vma" in b for b in hits[0].backtrace)


@pytest.mark.stress
@pytest.mark.parametrize("scenario", ["walk-vs-refault", "walk-vs-refault-pmd"])
def test_73_numa_maps_vs_dax_clean_as_shipped(v73, scenario):
    """As shipped: no race, and every folio reference and rss page the
    faults took was given back (the teardown's check_mm() is quiet)."""
    r = stress.run(v73, scenario, ops=1_000_000, seed=1, walker="numa_maps", driver="dax")
    assert r.findings == [], r.findings[0].as_json()
    assert r.ops >= 1_000_000
    assert v73.lib.pw_dax_folio_refs() == 0
