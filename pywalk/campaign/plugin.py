# SPDX-License-Identifier: GPL-2.0-only
"""The pytest plugin behind ``pytest --pyargs pywalk.campaign``.

Options (--pywalk-*) say what each seed hunts; test_seeds.py's test is
parametrised with one item per seed, so pytest-xdist spreads them over
``-n N`` local workers or ``--tx ssh=HOST//python=python3`` remote ones.
The patches are read once, here, and sent to every worker with xdist's
workerinput: a remote worker needs only ``pip install pywalk`` (and gcc),
no checkout and no copy of the patch.  Each item runs its seed as
``pywalk stress --seed S`` does, in its own process (pywalk/hunt/campaign.py),
and fails with the finding's text; the controller ends with one table of
the distinct findings and the seeds that found each.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from pywalk.assets import asset_dir
from pywalk.hunt import campaign
from pywalk.report.table import format_table

_PATCHES = pytest.StashKey[list]()
_PROPERTY = "pywalk"        # an item's user property: its seed and what it found


def pytest_addoption(parser) -> None:
    g = parser.getgroup("pywalk", "pywalk campaign (pytest --pyargs pywalk.campaign)")
    g.addoption("--pywalk-kernel", default="6.1", metavar="K",
                help="what `pywalk stress --kernel` takes: a Debian series (6.1, 6.12, ...; "
                     "each worker fetches it) (default 6.1)")
    g.addoption("--pywalk-patch", action="append", default=[], metavar="PATCH",
                help="a patch file or directory, or a patch shipped with pywalk "
                     "(6.1/0002-...); sent to every worker (repeatable)")
    g.addoption("--pywalk-scenario", default="walk-vs-refault", metavar="NAME",
                help="the scenario each seed hunts (default walk-vs-refault)")
    g.addoption("--pywalk-seeds", default="1-100", metavar="A-B",
                help="one test per seed of this range (default 1-100)")
    g.addoption("--pywalk-ops", type=int, metavar="N", help="operation budget per seed")
    g.addoption("--pywalk-seconds", type=float, metavar="S",
                help="time budget per seed (default: `pywalk stress`'s)")
    g.addoption("--pywalk-arg", action="append", default=[], metavar="FLAG",
                help="another `pywalk stress` flag for every seed, e.g. "
                     "--pywalk-arg=--driver=vfio (repeatable)")


def _seeds(config) -> range:
    try:
        return campaign.parse_seeds(config.getoption("pywalk_seeds"))
    except ValueError as e:
        raise pytest.UsageError(f"--pywalk-seeds: {e}") from None


def _read_patches(config) -> list:
    """[(name to pass as --patch, [(relative file, text), ...]), ...]"""
    out = []
    for spec in config.getoption("pywalk_patch"):
        path = pathlib.Path(config.invocation_params.dir, spec)
        if not path.exists():
            path = asset_dir("patches") / spec
        if not path.exists():
            raise pytest.UsageError(f"--pywalk-patch {spec}: no such file (nor a shipped patch)")
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        out.append((path.name, [(os.path.join(path.name, str(p.relative_to(path)))
                                 if path.is_dir() else p.name, p.read_text())
                                for p in files]))
    return out


def pytest_configure(config) -> None:
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        config.stash[_PATCHES] = workerinput.get("pywalk_patches", [])
        return
    _seeds(config)
    if config.getoption("pywalk_ops") is not None and config.getoption("pywalk_seconds"):
        raise pytest.UsageError("--pywalk-ops and --pywalk-seconds: one budget, not both")
    config.stash[_PATCHES] = _read_patches(config)
    config.pluginmanager.register(_Summary(), "pywalk-campaign-summary")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist, on the controller: the patches go to each worker with its input."""
    node.workerinput["pywalk_patches"] = node.config.stash[_PATCHES]


def pytest_generate_tests(metafunc) -> None:
    if "pywalk_seed" in metafunc.fixturenames:
        metafunc.parametrize("pywalk_seed", _seeds(metafunc.config), ids=lambda s: f"seed{s}")


@pytest.fixture(scope="session")
def pywalk_hunt(request, tmp_path_factory) -> list[str]:
    """Every seed's `pywalk stress` flags (but --seed and --json)."""
    config = request.config
    here = tmp_path_factory.mktemp("pywalk-patches")
    args = ["--kernel", config.getoption("pywalk_kernel")]
    for name, files in config.stash[_PATCHES]:
        for rel, text in files:
            (here / rel).parent.mkdir(parents=True, exist_ok=True)
            (here / rel).write_text(text)
        args += ["--patch", str(here / name)]
    args += ["--scenario", config.getoption("pywalk_scenario")]
    if config.getoption("pywalk_ops") is not None:
        args += ["--ops", str(config.getoption("pywalk_ops"))]
    if config.getoption("pywalk_seconds") is not None:
        args += ["--seconds", str(config.getoption("pywalk_seconds"))]
    return args + list(config.getoption("pywalk_arg"))


@pytest.fixture
def pywalk_campaign(request, pywalk_hunt, tmp_path):
    """check(seed): hunt that seed; fail with what it found."""
    def check(seed: int) -> None:
        run = campaign.run_seed(pywalk_hunt, seed, str(tmp_path / "seed.json"))
        if run.usage_error:
            pytest.fail(f"pywalk stress could not hunt (exit {run.rc}): "
                        f"{run.stderr.strip()}\n(" + " ".join(run.command) + ")", pytrace=False)
        fs = run.findings()
        seen = []
        for d in fs:
            (sig, msg), name = campaign.identity(d)
            seen.append([sig, msg, name, d.get("ops"), d.get("elapsed_s")])
        request.node.user_properties.append((_PROPERTY, {"seed": seed, "findings": seen}))
        if fs:
            pytest.fail(campaign.finding_text(run), pytrace=False)
        if run.interrupted:
            pytest.fail(f"seed {seed}: the hunt was interrupted", pytrace=False)
    return check


class _Summary:
    """On the controller: the distinct findings over every seed's report."""

    def __init__(self):
        self.seen: dict[tuple, list] = {}   # (sig, msg) -> [name, seeds, ops, s]
        self.seeds = 0

    def pytest_runtest_logreport(self, report) -> None:
        for key, value in getattr(report, "user_properties", ()):
            if key != _PROPERTY or report.when != "call":
                continue
            self.seeds += 1
            for sig, msg, name, ops, secs in value["findings"]:
                row = self.seen.setdefault((sig, msg), [name, [], None, None])
                if value["seed"] not in row[1]:
                    row[1].append(value["seed"])
                if row[2] is None or min(row[1]) == value["seed"]:
                    row[2], row[3] = ops, secs

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.seeds:
            return
        tr = terminalreporter
        tr.section("pywalk campaign")
        hit = len({s for row in self.seen.values() for s in row[1]})
        tr.write_line(f"{self.seeds} seed(s) hunted, {hit} with a finding, "
                      f"{len(self.seen)} distinct finding(s)")
        rows = []
        for name, seeds, ops, secs in sorted(self.seen.values(), key=lambda r: min(r[1])):
            seeds = sorted(seeds)
            shown = ", ".join(map(str, seeds[:5])) + (", ..." if len(seeds) > 5 else "")
            at = f"{ops:,} ops / {secs:.3f} s" if ops is not None and secs is not None else "-"
            rows.append((name, f"{len(seeds)}: {shown}", seeds[0], at))
        if rows:
            tr.write_line(format_table(("finding (known race or signature)", "seeds",
                                        "first seed", "first finding at"), rows))
