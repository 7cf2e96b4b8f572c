# SPDX-License-Identifier: GPL-2.0-only
"""What a patch adds: findings of a hunt that the same hunt without the
patches does not show (``pywalk stress --compare-unpatched``).

Two findings are the same when they have the same kind, the same innermost
kernel frames (the signature) and the same message once addresses and
numbers are taken out: a LOCK finding on another entry value, or a leak of
another number of tables, is the same finding.
"""

from __future__ import annotations

import re

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
