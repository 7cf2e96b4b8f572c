# SPDX-License-Identifier: GPL-2.0-only
# All metadata lives in pyproject.toml.  Variants are compiled at run time
# (the kernel source is only known then), so there is no build-time
# extension here.
from setuptools import setup

setup()
