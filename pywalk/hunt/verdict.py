# SPDX-License-Identifier: GPL-2.0-only
"""Judging a hunt: which findings are the race a row or cell looks for, and
whether that came out as expected."""

from __future__ import annotations


def hits(race, r) -> list:
    """The findings of result r that are the race (every finding when race is None)."""
    return [f for f in r.findings if race is None or race.matches(f)]


def as_expected(race, expect_race: bool | None, r) -> bool:
    return expect_race is None or bool(hits(race, r)) == expect_race
