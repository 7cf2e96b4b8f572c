# SPDX-License-Identifier: GPL-2.0-only
"""A pytest front end for campaigns: one test per seed, so ``pytest -n N`` and
pytest-xdist's remote workers spread a seed range over cores and hosts.

    pytest --pyargs pywalk.campaign --pywalk-kernel 6.1 --pywalk-patch my-fix.patch \\
           --pywalk-scenario walk-vs-refault --pywalk-seeds 1-10000 --pywalk-ops 200000 -n 8

plugin.py is registered as a ``pytest11`` entry point (``-p pywalk.campaign.plugin``
from a checkout); test_seeds.py holds the one parametrised test.  Each seed
runs as ``pywalk stress --seed S`` does (pywalk/hunt/campaign.py).
"""
