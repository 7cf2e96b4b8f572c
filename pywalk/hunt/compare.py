# SPDX-License-Identifier: GPL-2.0-only
"""What a patch adds and what it removes: a hunt against the same hunt
without the patches (``pywalk stress --compare-unpatched``).

Two findings are the same when they have the same kind, the same innermost
kernel frames (the signature) and the same message once addresses and
numbers are taken out: a LOCK finding on another entry value, or a leak of
another number of tables, is the same finding.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from pywalk.hunt.races import race_name

_NUMBERS = re.compile(r"0x[0-9a-fA-F]+|[0-9a-fA-F]{8,}|\d+")


def key(finding) -> tuple[str, str]:
    return finding.signature, _NUMBERS.sub("#", finding.message)


def only_in(result, baseline) -> list:
    """The findings of result (one per key, first seen) that baseline lacks."""
    seen = {key(f) for f in baseline.findings}
    out, keys = [], set()
    for f in result.findings:
        k = key(f)
        if k not in seen and k not in keys:
            keys.add(k)
            out.append(f)
    return out


@dataclass(frozen=True)
class Change:
    """One known race (by name) or other finding (by signature), before and after."""

    name: str
    without: int        # findings in the hunt without the patches
    with_: int          # and with them

    @property
    def verdict(self) -> str:
        if self.with_ == 0:
            return "fixed" if self.without else "absent"
        return "NOT FIXED" if self.without else "NEW with the patches"

    @property
    def failing(self) -> bool:
        return self.with_ > 0

    def line(self) -> str:
        return (f"{self.name}: {self.without} finding(s) without the patches -> "
                f"{self.with_} with" + ("" if self.verdict in ("fixed", "absent")
                                       else f": {self.verdict}"))

    def as_json(self) -> dict:
        return {"name": self.name, "without": self.without, "with": self.with_,
                "verdict": self.verdict}


def name(finding) -> str:
    """A known race's name, or the finding's kind and innermost frames."""
    return race_name(finding) or f"{finding.kind} {finding.signature.split(' ', 1)[-1]}"


def changes(result, baseline) -> list[Change]:
    """Before -> after for every known race and other finding either hunt saw."""
    before = Counter(name(f) for f in baseline.findings)
    after = Counter(name(f) for f in result.findings)
    return [Change(n, before[n], after[n]) for n in sorted(before.keys() | after.keys())]
