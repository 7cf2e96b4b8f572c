# SPDX-License-Identifier: GPL-2.0-only
"""The end of a hunt's mm, as exit_mmap() and check_mm() have it.

After a stress run, the mm it ended with (unless it oopsed) is torn down
by the tree's own code (its zap and free_pgd_range(): csrc/api.c
pw_mm_teardown()) and checked as check_mm() checks a freed mm ("BUG:
non-zero pgtables_bytes on freeing mm") and by the leak scan
(shim/checkers/leaks.c).  What that finds is reported as the reaper's LEAK.
The reaper role does the same, range by range, all through a run."""

from __future__ import annotations

import dataclasses

from pywalk.variant.runtime import ROLES


def final_teardown(mm, record) -> None:
    """Tear mm down; pass each finding (a Report) to record()."""
    lib = mm.lib
    if lib.pw_mm_panicked(mm.handle):
        return                              # an oopsed mm is left as it crashed
    seen = lib.pw_mm_nwarns(mm.handle)
    lib.pw_mm_teardown(mm.handle)
    for rep in mm.warnings()[seen:]:
        record(dataclasses.replace(rep, thread=-1, role=ROLES["reaper"]))
