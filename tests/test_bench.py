# SPDX-License-Identifier: GPL-2.0-only
"""pywalk bench: a tiny run of the real walker, checked for structure only
(never for times)."""

import argparse
import json
import sys

import pytest

from pywalk.bench import runner
from pywalk.bench import layouts as bench_layouts
from pywalk.cli import bench as cmd_bench
from pywalk.report.bench import plot
from pywalk.errors import UsageError

GiB = 1 << 30
LAYOUT_KEYS = {"layout", "a_ns_per_walk", "b_ns_per_walk", "ratio", "ci_low", "ci_high",
               "floor_ratio", "verdict", "entries", "a_min_ns", "a_max_ns", "rounds"}


def cli(argv):
    p = argparse.ArgumentParser(prog="pywalk")
    cmd_bench.register(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(["bench", *argv])
    return args.func(args)


def tiny(layouts, sizes, faulters=1):
    return runner.Settings(layouts, {k: sizes for k in layouts}, {k: max(sizes) for k in layouts},
                          seconds=0.2, contention_seconds=0.1, scaling_seconds=0.1,
                          faulters=faulters, warmup_s=0.05, resamples=200)


def test_bench_json_structure(v61, v61_fix):
    r = runner.run(v61, v61_fix, tiny(["pmd"], [GiB, 2 * GiB]))
    json.dumps(r)
    assert r["a"]["patches"] == [] and len(r["b"]["patches"]) == 1
    (x,) = r["layouts"]
    assert LAYOUT_KEYS <= set(x)
    assert x["layout"] == "pmd" and x["size"] == 2 * GiB
    # every 2 MiB leaf of 2 GiB is visited once, in A and B alike
    assert x["entries"]["pmd_leaf"] == 1024 and x["entries"]["visited"] == 1024 + 2
    assert x["ci_low"] <= x["ratio"] <= x["ci_high"]
    assert x["a_min_ns"] <= x["a_ns_per_walk"] <= x["a_max_ns"]
    assert x["contention"]["faulters"] == 1 and x["contention"]["a_faults_per_s"] > 0
    assert x["scaling"]["sizes"] == [GiB, 2 * GiB]
    assert x["scaling"]["entries"] == [512 + 1, 1024 + 2]
    assert set(x["scaling"]["a_fit"]) >= {"slope_ns_per_entry", "intercept_ns", "r2"}
    assert r["memory"]["table_bytes"] > 0 and not r["interrupted"]
    _assert_aa(x)


@pytest.mark.parametrize("layout,entries", [
    ("pud", {"pud_leaf": 4}),
    ("pte", {"pte_present": 4 * 262144}),
    ("mix", {"pud_leaf": 1, "pmd_leaf": 511, "pte_present": 1 + 16384}),
])
def test_each_layout_populates_what_it_says_and_keeps_it(v61, layout, entries):
    r = runner.run(v61, v61, tiny([layout], [4 * GiB], faulters=0))
    (x,) = r["layouts"]
    for k, n in entries.items():
        assert x["entries"][k] == n
    assert x["contention"] is None and x["scaling"] is None


def test_cli_writes_json_and_prints_a_table(tmp_path, capsys):
    out = tmp_path / "runner.json"
    assert cli(["--layout", "pud", "--size", "2G", "--seconds", "0.2", "--faulters", "0",
                "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert [x["layout"] for x in r["layouts"]] == ["pud"]
    assert LAYOUT_KEYS <= set(r["layouts"][0])
    text = capsys.readouterr().out
    assert "B/A" in text and "95% CI" in text


@pytest.mark.parametrize("argv,msg", [
    (["--size", "1.5G", "--layout", "pud"], "multiple of 1 GiB"),
    (["--size", "lots"], "bad size"),
    (["--size", "2G", "--layout", "mix"], "multiple of 4 GiB"),
    (["--size", "64T", "--layout", "pte"], "larger than"),
])
def test_usage_errors_are_one_line(argv, msg):
    with pytest.raises(UsageError) as e:
        cli(argv)
    assert msg in str(e.value) and "\n" not in str(e.value)


def test_a_zero_time_is_refused_by_the_parser(capsys):
    """--seconds 0 (argtypes.seconds()): argparse's usage error, exit 2."""
    with pytest.raises(SystemExit) as e:
        cli(["--seconds", "0"])
    assert e.value.code == 2
    assert "--seconds: 0 is out of range" in capsys.readouterr().err


def test_plot_without_matplotlib_is_a_usage_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(UsageError, match="matplotlib"):
        cli(["--layout", "pud", "--size", "1G", "--plot", "x.png"])


def test_plot(tmp_path, v61):
    pytest.importorskip("matplotlib")
    r = runner.run(v61, v61, tiny(["pud"], [GiB, 2 * GiB], faulters=0))
    plot(r, str(tmp_path / "b.png"))
    assert (tmp_path / "b.png").read_bytes()[:4] == b"\x89PNG"


def test_sizes_and_plans():
    assert bench_layouts.parse_size("64G") == 64 * GiB
    assert bench_layouts.parse_size("1TiB") == 1 << 40
    assert bench_layouts.default_sizes(bench_layouts.LAYOUTS["pud"]) == [GiB << (2 * i) for i in range(6)]
    assert bench_layouts.default_sizes(bench_layouts.LAYOUTS["pte"]) == [GiB << i for i in range(5)]
    segs = bench_layouts.LAYOUTS["mix"].plan(8 * GiB)
    assert sum((s.end - s.start) // s.step for s in segs) == 2 * (1 + 1 + 511 + 16384)


# ---- splitting walkers under refault (the path a walker fix changes) -------------

def faulted(mm, size, huge, step, n):
    """A mapping of size with its first n leaves (step apart) read-faulted; its start."""
    s = mm.map(size, huge=huge)
    for i in range(n):
        mm.fault(s + i * step)
    return s


@pytest.mark.parametrize("fixed", [False, True])
def test_splits_and_retries_are_what_the_tree_did(v61, v61_fix, fixed):
    """One thread, no race: a numa_maps-like walk splits each 1 GiB leaf once
    and goes back to each (the split leaves it none: goto again, then a hole)."""
    v = v61_fix if fixed else v61
    mm = v.new_mm()
    s = faulted(mm, 4 * GiB, "pud", GiB, 4)
    first = mm.walk(s, s + 4 * GiB, walker="count-numa")
    assert (first["splits"], first["retries"], first["pte_hole"]) == (4, 4, 4)
    again = mm.walk(s, s + 4 * GiB, walker="count-numa")
    assert (again["splits"], again["retries"], again["pte_hole"]) == (0, 0, 4)
    # a PMD leaf under a pmd_entry that handles it (numa_maps) is not split ...
    mm = v.new_mm()
    s = faulted(mm, GiB, "pmd", 2 << 20, 3)
    kept = mm.walk(s, s + GiB, walker="count-numa")
    assert (kept["splits"], kept["retries"], kept["pmd_leaf"]) == (0, 0, 3)
    # ... one under a counting pmd_entry is, and walk_pmd_range() goes back to it
    split = mm.walk(s, s + GiB, walker="pmd_pte")
    assert (split["splits"], split["retries"], split["pmd_entry"]) == (3, 3, 3)
    # the dirty walker stops at leaves: nothing to split
    mm = v.new_mm()
    s = mm.map(2 * GiB, huge="pud")
    mm.fault(s)
    dirty = mm.walk(s, s + 2 * GiB, walker="count-dirty")
    assert (dirty["splits"], dirty["retries"], dirty["pud_leaf"]) == (0, 0, 1)


def test_refault_bench_structure(v61, v61_fix):
    st = runner.Settings(["pud"], {"pud": [4 * GiB]}, {"pud": 4 * GiB}, seconds=0.2,
                         faulters=1, warmup_s=0.05, resamples=200, walker="count-numa",
                         refault="during")
    r = runner.run(v61, v61_fix, st)
    json.dumps(r)
    (x,) = r["layouts"]
    assert x["mode"] == "refault" and r["settings"]["walker"] == "count-numa"
    assert x["refault"] == "during" and x["counted_by"] == "timed walks"
    assert x["ci_low"] <= x["ratio"] <= x["ci_high"] and x["rounds"] >= 10
    # every block's first walk splits what its faulters refaulted before the timing
    for side in ("a", "b"):
        assert x[f"{side}_splits_per_walk"] > 0
        assert 0 <= x[f"{side}_retries_per_walk"] <= x[f"{side}_splits_per_walk"]
        # one callback per PUD at least (a hole, or the pmd level below a table)
        assert x[f"{side}_entries_per_walk"] >= 4
    assert x["splits_per_walk"] > 0 and x["entries_per_walk"] >= 4
    assert x["oopses"]["b"]["count"] == 0          # the 2019 fix: no walker race
    _assert_aa(x)
    assert x["a2_splits_per_walk"] > 0
    assert x["contention"] is None and x["scaling"] is None
    from pywalk.report.bench import render
    text = render(r)
    assert "splits/walk" in text and "count-numa" in text


@pytest.mark.parametrize("walker,holes", [("numa_maps", 0), ("count-numa", 4)])
def test_paced_refault_every_walk_splits_every_leaf(v61, v61_fix, walker, holes):
    """--refault between: each timed walk starts on the populated tables, so
    it splits each of the 4 PUD leaves and goes back to each (goto again /
    ACTION_AGAIN): exact counts per walk, the same in A and B.  The tree's
    numa_maps has no pte_hole (entries: 0), and is counted by census walks."""
    st = runner.Settings(["pud"], {"pud": [4 * GiB]}, {"pud": 4 * GiB}, seconds=0.2,
                         faulters=2, warmup_s=0.05, resamples=200, walker=walker)
    r = runner.run(v61, v61_fix, st)
    json.dumps(r)
    (x,) = r["layouts"]
    assert x["refault"] == "between" and r["settings"]["refault"] == "between"
    for side in ("a", "b"):
        assert x[f"{side}_splits_per_walk"] == 4 and x[f"{side}_retries_per_walk"] == 4
        assert x[f"{side}_entries_per_walk"] == holes
        assert x["census"][side]["splits"] == 4 and x["census"][side]["retries"] == 4
    assert x["counted_by"] == ("census" if walker == "numa_maps" else "timed walks")
    assert x["refaults_per_walk"] == 4      # every leaf, before every walk
    assert x["ci_low"] <= x["ratio"] <= x["ci_high"] and x["rounds"] >= 10
    # three placements of the tables, each side rebuilt in between; the
    # interval reported is the pooled one widened by the A/A spread, and the
    # envelope of the placements' intervals is reported beside it
    assert len(x["placements"]) == 3 and sum(p["rounds"] for p in x["placements"]) == x["rounds"]
    assert x["ab_ci"] == x["pooled_ci"]
    env = x["placements_envelope"]
    for p in x["placements"] + [dict(ci_low=x["pooled_ci"][0], ci_high=x["pooled_ci"][1])]:
        assert env[0] <= p["ci_low"] <= p["ci_high"] <= env[1]
        assert p.get("a_ns", 1) > 0 and p.get("b_ns", 1) > 0
    assert x["oopses"]["a"]["count"] == x["oopses"]["b"]["count"] == 0
    _assert_aa(x)
    # the A/A control walks the same work: every leaf split, per walk
    assert len(x["aa_placements"]) == 3
    assert sum(p["rounds"] for p in x["aa_placements"]) == x["rounds"]


def _assert_aa(x):
    """The A/A control's fields, and the A/B interval widened by its spread."""
    lo, hi = x["aa_ci_low"], x["aa_ci_high"]
    assert lo <= x["aa_ratio"] <= hi
    assert x["aa_spread"] == round(max(hi - 1, 1 - lo, 0), 5)
    ab_lo, ab_hi = x["ab_ci"]
    r, sp = x["ratio"], x["aa_spread"]
    assert x["ci_low"] == pytest.approx(r - ((r - ab_lo) ** 2 + sp ** 2) ** 0.5, abs=3e-5)
    assert x["ci_high"] == pytest.approx(r + ((ab_hi - r) ** 2 + sp ** 2) ** 0.5, abs=3e-5)
    same = x["ci_low"] <= 1.0 <= x["ci_high"]
    assert (x["verdict"] == "no measurable difference") == same
    assert x["a2_ns_per_walk"] > 0


def test_aa_widening_and_verdict():
    from pywalk.bench import stats
    from pywalk.bench.measure import aa_json
    ab = stats.RatioCI(1.004, 1.003, 1.005, 0.95, 100)
    # A/A 0.998..1.0069: identical code reaches 0.69% from 1.0, so a B/A of
    # 1.003..1.005 is inside it
    wide, f = aa_json(ab, stats.RatioCI(1.003, 0.998, 1.0069, 0.95, 100))
    assert f["aa_spread"] == 0.0069 and f["ab_ci"] == [1.003, 1.005]
    # in quadrature: 0.001 of the bootstrap and 0.0069 of the A/A spread
    assert wide.low == pytest.approx(1.004 - 0.0069720) and wide.high == pytest.approx(1.0109720)
    assert stats.verdict(wide.ratio, wide.low, wide.high) == "no measurable difference"
    # a 4% difference stands out of a 0.1% A/A spread
    wide, f = aa_json(stats.RatioCI(1.04, 1.039, 1.041, 0.95, 100),
                      stats.RatioCI(1.0, 0.999, 1.001, 0.95, 100))
    assert stats.verdict(wide.ratio, wide.low, wide.high).startswith("B slower by 4.0%")
    assert stats.aa_spread(1.001, 1.002) == pytest.approx(0.002)   # all above 1.0
    assert stats.aa_spread(0.97, 0.99) == pytest.approx(0.03)


def test_the_tree_numa_maps_walk_counts_splits_and_retries(v61):
    """MM.walk(walker="numa_maps") is a census walk: the tree's callbacks are
    counted, and so are its splits and its retries."""
    mm = v61.new_mm()
    s = faulted(mm, 4 * GiB, "pud", GiB, 4)
    first = mm.walk(s, s + 4 * GiB, walker="numa_maps")
    assert (first["splits"], first["retries"], first["pmd_entry"]) == (4, 4, 0)
    again = mm.walk(s, s + 4 * GiB, walker="numa_maps")
    assert (again["splits"], again["retries"]) == (0, 0)
    s2 = faulted(mm, GiB, "pmd", 2 << 20, 3)
    pmds = mm.walk(s2, s2 + GiB, walker="numa_maps")
    # gather_pte_stats() takes a huge PMD whole: called for each, nothing split
    # (none PMDs are holes, and the client has no pte_hole: not its callback)
    assert (pmds["splits"], pmds["retries"], pmds["pmd_entry"], pmds["pte_hole"]) == (0, 0, 3, 0)


def test_an_oops_in_a_timed_walk_rebuilds_the_side(v61):
    from pywalk.bench import refault
    from pywalk.bench.measure import BenchOops, Side
    lay = bench_layouts.LAYOUTS["pud"]
    side = Side(v61, lay, 4 * GiB, "count-numa")
    segs = lay.plan(4 * GiB)
    side.populate(segs)
    fl = refault.Refaulters(side, segs, 1, 1)
    rec = refault._Recovering(side, fl, 4 * GiB, segs)
    real, calls = side.walk, []

    def walk_that_oopses_once(iters, end=None):
        calls.append(iters)
        if len(calls) == 1:
            raise BenchOops("pywalk: oops (test)", None)
        return real(iters, end)

    side.walk = walk_that_oopses_once
    real_rebuild, entries = side.rebuild, []

    def rebuild_and_count(segs):
        real_rebuild(segs)
        entries.append(side.fingerprint()[1])   # before the walks split it again

    side.rebuild = rebuild_and_count
    old = side.mm
    try:
        ns = rec(5)
    finally:
        fl.close()
    assert len(ns) == 5 and calls == [5, 5] and rec.count == 1
    assert side.mm is not old and len(entries) == 1 and entries[0] >= 1
    assert rec.as_json()["count"] == 1


def test_bench_cli_walker_choice():
    with pytest.raises(SystemExit):
        cli(["--walker", "bogus"])
    with pytest.raises(UsageError):
        cli(["--walker", "count-numa", "--faulters", "0"])
    with pytest.raises(UsageError):
        cli(["--walker", "pmd_pte", "--callgrind"])
    with pytest.raises(UsageError, match="census"):
        cli(["--walker", "numa_maps", "--refault", "during"])


@pytest.mark.stress
def test_the_upstream_fix_backported_to_61_is_clean_and_goes_back(v61):
    """0002 (upstream's snapshot + ACTION_AGAIN, READ_ONCE() for pudp_get()):
    the walker race does not show, and a split leaf is gone back to."""
    from pywalk.assets import patch_path
    from pywalk.hunt import stress
    from pywalk.hunt.races import WALKER_RACE
    import pywalk
    v = pywalk.build("6.1", [patch_path("6.1/0002-backport-upstream-pudp_get-fix-with-READ_ONCE.patch")])
    mm = v.new_mm()
    s = faulted(mm, 4 * GiB, "pud", GiB, 4)
    w = mm.walk(s, s + 4 * GiB, walker="count-numa")
    assert (w["splits"], w["retries"], w["pte_hole"]) == (4, 4, 4)
    # the budget of the 2019 fix's clean case (tests/test_stress.py), ten times
    r = stress.run(v, "walk-vs-refault", ops=2_000_000, seed=1, keep_going=True,
                   stop_when=WALKER_RACE.matches)
    assert not [f for f in r.findings if WALKER_RACE.matches(f)] and r.ops >= 2_000_000


def test_stress_json_counts_operations_per_role(v61_fix):
    """bench's throughput comparisons are per kind of operation (issue 22):
    the stress result counts each role's operations and CPU time."""
    from pywalk.hunt import stress
    r = stress.run(v61_fix, "walk-vs-refault", ops=20_000, seed=1, delays=None)
    j = r.as_json()
    assert sum(j["ops_by_role"].values()) == j["ops"] >= 20_000
    # every role is listed, with the operations its threads made (a thread
    # that started after the budget was spent made none)
    assert set(j["ops_by_role"]) == set(j["cpu_s_by_role"]) == {"walker", "reader"}
    assert all(n >= 0 for n in j["ops_by_role"].values())
