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
