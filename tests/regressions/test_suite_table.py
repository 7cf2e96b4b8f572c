# SPDX-License-Identifier: GPL-2.0-only
"""The suite's table (pywalk/hunt/regress.py) is whole: a module per fix, a
shipped revert per entry, budgets above the measured medians."""

import fnmatch
import tomllib
from pathlib import Path

from pywalk.assets import patch_path
from pywalk.hunt import regress

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


def test_every_fix_has_its_module_and_every_module_its_fix():
    modules = {p.stem[len("test_"):] for p in HERE.glob("test_*.py")} - {"suite_table"}
    assert modules == set(regress.slugs())


def test_each_module_docstring_names_the_fix_and_the_interleaving():
    for slug in regress.slugs():
        doc = (HERE / f"test_{slug}.py").read_text()
        bug = regress.by_slug(slug)[0]
        assert bug.subject in doc and "Upstream:" in doc and "Fixes:" in doc
        for line in bug.interleaving:
            assert line in doc


def test_reverts_are_shipped_as_package_data():
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["pywalk.patches"]
    for bug in regress.BUGS:
        assert Path(patch_path(bug.patch)).is_file()
        assert bug.patch.startswith(f"regressions/{bug.kernel}/")
        assert any(fnmatch.fnmatch(bug.patch, g) and bug.patch.count("/") == g.count("/")
                   for g in globs)


def test_budgets_are_far_above_the_measured_medians():
    for bug in regress.BUGS:
        median = sorted(bug.median_ops)[1]
        assert median > 0 and bug.ops >= 10 * median, bug.label
        assert bug.ops >= 5 * max(bug.median_ops), bug.label     # and above the slowest seed


def test_regress_refuses_a_series_without_bugs_in_one_line(capsys):
    from pywalk.cli import main
    assert main(["regress", "--kernel", "5.4"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no bug on series '5.4'" in err


def test_rows_keep_each_fix_together_and_filter_by_series():
    rows = regress.bugs()
    assert sorted(rows, key=id) == sorted(regress.BUGS, key=id)
    seen = []
    for b in rows:
        if not seen or seen[-1] != b.slug:
            assert b.slug not in seen
            seen.append(b.slug)
    assert {b.kernel for b in regress.bugs("7.3")} == {"7.3"}
