# SPDX-License-Identifier: GPL-2.0-only
import pytest

import pywalk
from pywalk.assets import patch_path

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"


@pytest.fixture(scope="session")
def v61():
    """Debian's 6.1 as shipped (fetched into the cache on first use)."""
    return pywalk.build("6.1")


@pytest.fixture(scope="session")
def v61_fix():
    return pywalk.build("6.1", [patch_path(FIX)])


@pytest.fixture(scope="session")
def v61_revert():
    return pywalk.build("6.1", [patch_path(REVERT)])


@pytest.fixture
def mm(v61):
    m = v61.new_mm()
    yield m
    m.close()
