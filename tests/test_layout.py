# SPDX-License-Identifier: GPL-2.0-only
"""The package's folders are the pipeline: tree -> variant -> hunt / bench ->
report -> cli / campaign (the two front ends: the command line and the
pytest plugin).  A lower layer never imports an upper one, and no module
grows past what a reader can hold."""

import ast
import pathlib

import pytest

PKG = pathlib.Path(__file__).resolve().parent.parent / "pywalk"
LAYERS = {"errors": 0, "assets": 0, "tree": 1, "variant": 2, "hunt": 3, "bench": 3, "confirm": 3,
          "report": 4, "cli": 5, "campaign": 5}
MAX_LINES = 400


def _layer(parts: list[str]) -> int | None:
    return LAYERS.get(parts[0]) if parts else None


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG).with_suffix("")
        if rel.parts[0] in ("__init__", "__main__"):
            continue  # the public API and the entry point sit on top
        yield path, list(rel.parts)


@pytest.mark.parametrize("path,parts", list(_modules()), ids=lambda x: str(x))
def test_no_upward_import(path, parts):
    mine = _layer(parts)
    assert mine is not None, f"{path}: not in a known layer ({', '.join(LAYERS)})"
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pywalk"):
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.startswith("pywalk")]
        for name in names:
            other = _layer(name.split(".")[1:])
            assert other is not None and other <= mine, \
                f"{path.relative_to(PKG)} (layer {mine}) imports {name} (layer {other})"


def test_no_module_too_long():
    long = {str(p.relative_to(PKG)): n for p in PKG.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long


C_KINDS = {"shim/checkers": "checker", "csrc": "harness", "shim": "kernel stand-in"}


def test_every_c_file_says_its_kind_as_its_folder_does():
    """shim/ holds kernel stand-ins, shim/checkers/ checkers, csrc/ the
    harness (as the kernel's tools/testing/vma/include/ sorts its stubs):
    each file's first comment opens with its kind."""
    root = PKG.parent
    wrong = []
    for path in sorted([*(root / "shim").rglob("*.[ch]"), *(root / "csrc").rglob("*.[ch]")]):
        rel = path.relative_to(root).as_posix()
        kind = next(k for folder, k in C_KINDS.items() if rel.startswith(folder + "/"))
        if path.read_text().splitlines()[1:3] != ["/*", f" * Kind: {kind}."]:
            wrong.append(f"{rel} (want {kind})")
    assert not wrong, wrong
