# SPDX-License-Identifier: GPL-2.0-only
"""pywalk bench --hunts: every race row is hunted and found, within an op
budget far above its measured median (docs/bench-hunts.json); structure
only, never times."""

import argparse
import json

import pytest

from pywalk.bench import hunts
from pywalk.cli import bench as cmd_bench
from pywalk.hunt import reproduce

# the slowest race row's median is ~61k operations, its worst of 5 seeds
# ~400k (docs/bench-hunts.json, instrumented, delays on): 30x the median
OPS_BUDGET = 2_000_000


def test_race_rows_are_the_reproduce_rows_that_expect_a_race():
    rows = hunts.race_rows()
    assert rows and all(r.expect_race for r in rows)
    assert len(rows) == sum(1 for r in reproduce.INSTRUMENTED_ROWS if r.expect_race)
    assert [r for r in hunts.race_rows(False)] == [r for r in reproduce.ROWS if r.expect_race]


def test_summary_counts_a_miss_as_its_budget():
    runs = [{"found": True, "s": 0.5, "ops": 100, "hunt_s": 0.6, "hunt_ops": 120},
            {"found": True, "s": 0.1, "ops": 10, "hunt_s": 0.2, "hunt_ops": 20},
            {"found": False, "s": None, "ops": None, "hunt_s": 9.0, "hunt_ops": 5000}]
    s = hunts._summary(runs)
    assert (s["seeds"], s["found"], s["median_ops"], s["max_ops"]) == (3, 2, 100, 5000)
    assert s["max_s"] == 9.0 and not s["within_target"]


@pytest.mark.stress
def test_hunts_json_lists_every_race_row_found(tmp_path, capsys):
    out = tmp_path / "h.json"
    p = argparse.ArgumentParser(prog="pywalk")
    cmd_bench.register(p.add_subparsers(dest="command", required=True))
    args = p.parse_args(["bench", "--hunts", "--seeds", "1", "--hunt-ops", str(OPS_BUDGET),
                         "--hunt-seconds", "600", "--quiet", "--json", str(out)])
    assert args.func(args) == 0
    r = json.loads(out.read_text())
    assert r["seeds"] == 1 and r["budget"]["ops"] == OPS_BUDGET and not r["interrupted"]
    rows = hunts.race_rows()
    assert [x["label"] for x in r["races"]] == [row.label for row in rows]
    for x, row in zip(r["races"], rows):
        assert x["race"] == row.race.name and x["scenario"] == row.scenario
        if x.get("not_applicable"):
            continue
        assert x["found"] == x["seeds"] == len(x["runs"]) == 1, x
        (run,) = x["runs"]
        assert run["seed"] == 1 and run["found"]
        assert 0 < run["ops"] <= run["hunt_ops"] and run["ops"] <= OPS_BUDGET
        assert x["median_ops"] == x["max_ops"] == run["ops"]
        assert set(x) >= {"median_s", "max_s", "within_target", "variant"}
    text = capsys.readouterr().out
    assert "median ops" in text and all(row.label in text for row in rows)
