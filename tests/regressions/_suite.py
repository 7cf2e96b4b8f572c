# SPDX-License-Identifier: GPL-2.0-only
"""The two tests every regression module runs, for its bug's trees."""

import pytest

from pywalk.hunt import regress


def bug_tests(slug: str):
    """(the fix is in the tree and the revert takes it out, the bug is found
    with the revert and not in the tree as shipped), for every tree the
    table lists for the bug."""
    bugs = regress.by_slug(slug)

    @pytest.mark.parametrize("bug", bugs, ids=lambda b: b.kernel)
    def test_tree_has_the_fix_and_the_revert_takes_it_out(bug, fix_and_revert):
        fix_and_revert(bug)

    @pytest.mark.stress
    @pytest.mark.parametrize("bug", bugs, ids=lambda b: b.kernel)
    def test_found_with_the_fix_reverted_and_not_as_shipped(bug, found_again):
        found_again(bug)

    return (test_tree_has_the_fix_and_the_revert_takes_it_out,
            test_found_with_the_fix_reverted_and_not_as_shipped)
