# SPDX-License-Identifier: GPL-2.0-only
"""Delay profiles: parsing and what reaches the report."""

import pytest

from pywalk.errors import UsageError
from pywalk.hunt.stress import SITES, DelayProfile


def test_parse_overrides_defaults_site_by_site():
    d = DelayProfile.parse("unlock=8000:500, yield=0")
    base = DelayProfile()
    i = SITES.index("unlock")
    assert d.prob[i] == 8000 and d.max_spins[i] == 500 and d.yield_permille == 0
    others = [k for k in range(len(SITES)) if k != i]
    assert [d.prob[k] for k in others] == [base.prob[k] for k in others]
    assert DelayProfile.parse("") == base
    assert DelayProfile.parse("store=7").max_spins == base.max_spins


@pytest.mark.parametrize("spec", ["bogus=1", "unlock=x", "unlock=70000", "unlock"])
def test_bad_specs_are_usage_errors(spec):
    with pytest.raises(UsageError, match="--delays"):
        DelayProfile.parse(spec)


def test_profile_is_reported():
    j = DelayProfile.parse("fault_return=100:10").as_json()
    assert j["sites"]["fault_return"] == {"prob_per_65536": 100, "max_spins": 10}
