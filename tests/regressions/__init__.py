# SPDX-License-Identifier: GPL-2.0-only
# A package, so that its conftest is regressions.conftest and does not
# shadow tests/conftest.py (which other test modules import from).
