# SPDX-License-Identifier: GPL-2.0-only
"""`pip install .` (not editable) must carry every shim, harness and patch
file a build reads: a header left out of package-data builds in a checkout
and fails on a user's machine."""

import fnmatch
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_package_data_covers_every_asset():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    missing = []
    for pkg, folder in cfg["package-dir"].items():
        if pkg == "pywalk":
            continue
        globs = cfg["package-data"][pkg]
        for f in (ROOT / folder).rglob("*"):
            if not f.is_file() or f.suffix in (".pyc",) or "__pycache__" in f.parts:
                continue
            rel = f.relative_to(ROOT / folder).as_posix()
            # setuptools globs: '*' does not cross '/'
            if not any(fnmatch.fnmatch(rel, g) and rel.count("/") == g.count("/") for g in globs):
                missing.append(f"{folder}/{rel}")
    assert not missing, f"not installed by `pip install .`: {missing}"
