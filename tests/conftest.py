# SPDX-License-Identifier: GPL-2.0-only
import time
from pathlib import Path

import pytest

import pywalk
from pywalk.assets import patch_path

FIX = "6.1/0001-mm-pagewalk-recheck-pud-after-split.patch"
REVERT = "6.1/revert-pud-alloc-race-check.patch"
REVERT_612 = "6.12/revert-cve-2026-31456-fix.patch"


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


@pytest.fixture(scope="session", params=["6.1", "6.12"])
def variant(request):
    """Each Debian kernel as shipped: sequential tests run on both."""
    return pywalk.build(request.param)


@pytest.fixture
def mm(variant):
    m = variant.new_mm()
    yield m
    m.close()


@pytest.fixture(scope="session")
def v612():
    """Debian's 6.12 as shipped (fetched into the cache on first use)."""
    return pywalk.build("6.12")


@pytest.fixture(scope="session")
def v612_revert():
    return pywalk.build("6.12", [patch_path(REVERT_612)])


@pytest.fixture
def mm612(v612):
    m = v612.new_mm()
    yield m
    m.close()


def wait_for_hunt(p, settle: float = 1.0) -> None:
    """Wait until the pywalk process p has loaded its variant (instrumented:
    maybe after a build) and its hunt is under way, however loaded the
    machine is; then `settle` seconds more."""
    maps = Path(f"/proc/{p.pid}/maps")
    deadline = time.monotonic() + 300
    while p.poll() is None and time.monotonic() < deadline:
        try:
            if "_pywalk_v_" in maps.read_text():
                break
        except OSError:
            pass
        time.sleep(0.1)
    time.sleep(settle)
