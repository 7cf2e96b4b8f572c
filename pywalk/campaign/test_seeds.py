# SPDX-License-Identifier: GPL-2.0-only
"""One test per seed of --pywalk-seeds (pywalk/campaign/plugin.py): it fails
with the finding's text when that seed's hunt finds something."""


def test_seed(pywalk_seed, pywalk_campaign):
    pywalk_campaign(pywalk_seed)
