# SPDX-License-Identifier: GPL-2.0-only
"""Stage 4, reports: tables for people, JSON written atomically, progress
lines."""
