# SPDX-License-Identifier: GPL-2.0-only
"""The zapper is madvise(MADV_DONTNEED) as the tree implements it, and the
bad-pud race it meets against device-dax faults (docs/findings/zap-bad-pud.md).

Op budgets are far above the measured medians (README "Findings beyond the
2019 thread"): zap-vs-refault with --driver dax showed the bad pud after a
median of a few thousand operations instrumented (seeds 1-5, 6.1 and 6.12)
and of a few hundred thousand uninstrumented."""

import errno
import json
import re
import subprocess
import sys

import pytest

import pywalk
from pywalk.assets import patch_path
from pywalk.hunt import reach, reproduce, stress
from pywalk.hunt.races import WALKER_RACE, ZAP_BAD_PUD

GiB = 1 << 30
FIX = {"6.1": "6.1/0003-mm-memory-zap_pud_range-read-the-pud-once.patch",
       "6.12": "6.12/0001-mm-memory-zap_pud_range-read-the-pud-once.patch"}
BAD_PUD = re.compile(r"mm/pgtable-generic\.c:\d+: bad pud 0x[0-9a-f]+\([0-9a-f]{16}\)$")
RACE_OPS = 2_000_000        # instrumented median: thousands of ops
CLEAN_OPS = 300_000


@pytest.fixture(scope="module")
def v612i():
    return pywalk.build("6.12", instrumented=True)


def test_madvise_refuses_a_vfio_bar_and_zaps_device_dax(v612):
    """madvise_dontneed_free_valid_vma() refuses VM_PFNMAP (a VFIO BAR) with
    EINVAL and leaves the leaf; device-dax (VM_HUGEPAGE only) is zapped."""
    mm = v612.new_mm()
    try:
        bar = mm.map(GiB, driver="vfio")
        mm.fault(bar)
        assert mm.zap(bar, bar + GiB) == -errno.EINVAL
        assert mm.lookup(bar) == ("pud", "leaf")
        dax = mm.map(2 * GiB, huge="pud", driver="dax")
        mm.fault(dax)
        mm.fault(dax + GiB)
        assert mm.zap(dax, dax + 2 * 1024 * 1024) == 0      # partial: splits the leaf
        assert mm.lookup(dax) == ("pud", "none")
        assert mm.zap(dax + GiB, dax + 2 * GiB) == 0        # whole: zap_huge_pud()
        assert mm.lookup(dax + GiB) == ("pud", "none")
        assert mm.zap(dax, dax + 3 * GiB) == -errno.ENOMEM  # past the vma: a hole
    finally:
        mm.close()


def test_our_write_notify_driver_is_not_refused(v612):
    """'mixed' zaps our driver's mappings: VM_MIXEDMAP, not VM_PFNMAP."""
    mm = v612.new_mm()
    try:
        start = mm.map(2 * GiB, huge=True, write_notify="half")
        mm.fault(start)
        assert mm.zap(start, start + 2 * GiB) == 0
        assert mm.lookup(start) == ("pud", "none")
    finally:
        mm.close()


@pytest.mark.stress
def test_vfio_zappers_are_refused_counted_and_never_race(v612):
    r = stress.run(v612, "zap-vs-refault", ops=200_000, seed=1, driver="vfio")
    assert not r.findings, r.findings[0].as_json()
    zaps = r.ops // 2       # two zappers, two readers: about half the ops are madvise()
    assert r.madvise_einval > zaps // 4
    assert r.as_json()["madvise_einval"] == r.madvise_einval


@pytest.mark.stress
@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_zap_vs_refault_clears_a_live_pud_leaf_as_bad(kernel, seed):
    v = pywalk.build(kernel, instrumented=True)
    r = stress.run(v, "zap-vs-refault", ops=RACE_OPS, seed=seed, driver="dax")
    assert r.findings, f"no finding in {r.ops:,} ops"
    f = r.findings[0]
    assert ZAP_BAD_PUD.matches(f), f.as_json()
    assert f.kind == "ERR" and BAD_PUD.match(f.message), f.message
    # the cleared value is a live device-dax leaf: present, PSE, devmap
    val = int(f.message.rsplit("(", 1)[1][:-1], 16)
    assert val & 0x81 == 0x81
    assert f.backtrace[0].startswith("pud_clear_bad mm/pgtable-generic.c:")
    assert any(b.startswith("zap_pud_range mm/memory.c") for b in f.backtrace)
    assert any(b.startswith("madvise_dontneed_free mm/madvise.c") for b in f.backtrace)
    # the stores to that pud, newest first, include the fault that put the
    # leaf there (another zapper may have zapped it since: it goes on running)
    put = next(r for r in f.racing if r["new"] == val)
    assert put["role"] == "reader", f.racing
    assert any("create_huge_pud mm/memory.c" in b for b in put["backtrace"])
    assert f.reachable["in_tree"] and f.reachable["driver"] == "device-dax"
    assert "madvise(MADV_DONTNEED)" in f.reachable["entries"]
    assert f.as_json()["reachable"] == f.reachable


@pytest.mark.stress
@pytest.mark.parametrize("kernel", ["6.1", "6.12"])
def test_the_fix_reads_the_pud_once_and_is_clean(kernel):
    v = pywalk.build(kernel, [patch_path(FIX[kernel])], instrumented=True)
    r = stress.run(v, "zap-vs-refault", ops=CLEAN_OPS, seed=1, driver="dax")
    assert r.ops >= CLEAN_OPS
    assert not r.findings, r.findings[0].as_json()


@pytest.mark.stress
def test_a_race_through_a_harness_part_is_not_in_tree(v61):
    """The walker race with our count-numa walker and our driver: both named."""
    r = stress.run(v61, "walk-vs-refault", ops=3_000_000, seed=1)
    f = next(f for f in r.findings if WALKER_RACE.matches(f))
    lab = f.reachable
    assert lab["in_tree"] is False
    assert any("walker 'count-numa'" in h for h in lab["harness_parts"])
    assert any("write-notify driver" in h for h in lab["harness_parts"])
    assert "page fault (read)" in lab["entries"]


def test_reach_labels_are_data():
    f = stress.Finding("ERR", 0, [], "bad pud", None, 0, "zapper", 0.0, 0, "s", "v", 1)
    lab = reach.label(f, race="zap bad pud", driver="dax")
    assert lab == {"in_tree": True, "entries": ["madvise(MADV_DONTNEED)", "page fault (read)"],
                   "driver": "device-dax", "harness_parts": []}
    lab = reach.label(f, race="zap bad pud", driver="write-notify")
    assert lab["in_tree"] is False and lab["driver"] == "pywalk's write-notify driver"
    g = stress.Finding("SEGV", 0, [], "x", None, 3, "walker", 0.0, 0, "s", "v", 1)
    lab = reach.label(g, race="walker race", driver="vfio", thread_kinds={3: "numa_maps"})
    assert lab["in_tree"] and lab["entries"] == ["read /proc/PID/numa_maps", "page fault (read)"]
    r = stress.Finding("LEAK", 0, [], "x", None, 0, "reaper", 0.0, 0, "s", "v", 1)
    assert "pywalk's reaper" in reach.label(r, driver="dax")["harness_parts"][0]


@pytest.mark.stress
def test_cli_exits_1_on_the_bad_pud_and_counts_einval(tmp_path):
    out = tmp_path / "r.json"
    p = subprocess.run([sys.executable, "-m", "pywalk", "stress", "--kernel", "6.12",
                        "--scenario", "zap-vs-refault", "--driver", "dax", "--ops",
                        str(RACE_OPS), "--seed", "1", "--fail-on-finding", "--json", str(out),
                        "--quiet"], capture_output=True, text=True)
    assert p.returncode == 1, p.stderr
    rep = json.loads(out.read_text())
    assert BAD_PUD.match(rep["findings"][0]["message"])
    assert rep["findings"][0]["reachable"]["in_tree"]
    assert rep["madvise_einval"] == 0
    assert "reachable in-tree: madvise(MADV_DONTNEED)" in p.stdout


@pytest.mark.stress
def test_reproduce_rows_for_madvise_x_dax():
    """6.1 and 6.12: the race as shipped, clean with the fix; 7.3 runs the same
    rows once its device-dax builds, and says n/a until then."""
    from pywalk.cli.reproduce import _ok, _row
    results = reproduce.run_rows("6.1", clean_ops=CLEAN_OPS, race_seconds=60, seed=1,
                                 delays=True, rows=reproduce.ZAP_ROWS)
    assert len(results) == 6
    for row, r, why in results:
        assert _ok(row, r, why), (row.label, why, r and [f.message for f in r.findings])
        if r is None:
            assert row.na_ok and ("dev_dax_huge_fault" in why or "drivers do not build" in why)
            assert _row(row, r, why)[3].startswith("n/a")
        elif row.expect_race:
            assert next(f for f in r.findings if ZAP_BAD_PUD.matches(f)).reachable["in_tree"]
    assert [r is not None for _, r, _ in results[:4]] == [True] * 4


@pytest.mark.stress
def test_the_clear_is_the_documented_lockless_store(v612i):
    """pud_clear_bad()'s store holds no page-table lock: the lock checker
    takes it as the documented exception (announced by pud_ERROR()'s
    message), so a hunt that goes on past the bad pud shows no LOCK."""
    r = stress.run(v612i, "zap-vs-refault", ops=200_000, seed=2, driver="dax", keep_going=True)
    assert r.findings and all(ZAP_BAD_PUD.matches(f) for f in r.findings), \
        {f.signature for f in r.findings}


def test_a_known_race_takes_its_own_roles_not_every_older_store():
    """The fault-path races' pud history may hold the reaper's old teardown
    stores; the race itself is a writer's and a reader's."""
    f = stress.Finding("SEGV", 0, [], "x", None, 0, "writer", 0.0, 0, "s", "v", 1)
    f.racing = [{"thread": 3, "role": "reaper"}, {"thread": 1, "role": "reader"}]
    lab = reach.label(f, race="pmd_alloc TOCTOU", driver="write-notify")
    assert lab["entries"] == ["page fault (write)", "page fault (read)"]
    assert not any("reaper" in h for h in lab["harness_parts"])
    assert any("reaper" in h for h in reach.label(f, driver="dax")["harness_parts"])
