# SPDX-License-Identifier: GPL-2.0-only
"""Stage 3b, benchmarks: the real walker of two variants on identical
tables (layouts, measure, runner, stats, callgrind)."""
