# SPDX-License-Identifier: GPL-2.0-only
"""Shared checks of the regression suite (pywalk/hunt/regress.py's table)."""

import hashlib

import pytest

from pywalk.hunt import regress
from pywalk.tree import sources


def _found(bug):
    out = regress.run_bug(bug, seed=1)
    assert out.why_not is None, out.why_not
    assert out.found, (f"{bug.label}: {bug.expect.name} not found in {out.reverted.ops:,} ops; "
                       f"findings: {[f.signature for f in out.reverted.findings]}")
    # a LOCKUP is reported by the watchdog after its lockup time, whatever
    # the op count then: only where the finding is a crash is ops the measure
    assert out.hit.ops <= bug.ops or out.hit.kind == "LOCKUP"
    assert out.control_clean, (f"{bug.label}: control not clean: "
                               f"{[f.signature for f in out.control.findings]}")
    assert out.control.ops >= bug.ops      # the control ran the whole budget
    return out


def _fix_and_revert(bug):
    src = sources.resolve(bug.kernel)
    assert regress.shipped_has_fix(bug), f"{src.version} {bug.file} lacks the fix"
    rev, base = regress.variants(bug)
    # applies exactly and changes what is built (a tree's note on its drivers is no patch's)
    assert [n for n in rev.result.notes if "patch" in n] == []
    shas = {s.path: s.sha256 for s in rev.result.sources}
    assert shas[bug.file] != hashlib.sha256(src.path(bug.file).read_bytes()).hexdigest()
    assert rev.kernel == base.kernel == src.version


@pytest.fixture
def found_again():
    """Check: the reverted tree shows the bug's finding within its budget; the
    tree as shipped shows nothing in the same budget."""
    return _found


@pytest.fixture
def fix_and_revert():
    """Check: the tree as shipped has the fix; the revert applies exactly and changes the file."""
    return _fix_and_revert
