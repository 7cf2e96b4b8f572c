# SPDX-License-Identifier: GPL-2.0-only
"""Thread counts per role for a scenario, checked.

Each role has its own count (``--walkers``, ``--readers``, ``--writers``,
``--zappers``, ``--reapers``, ``--flippers``: the names the report uses).  A scenario has
the roles it lists and needs some of them: a count for a role it lacks, a
needed role at 0, or more than MAX_THREADS threads is a usage error (one
line, exit 2).  ``--faulters`` is an alias for the role that faults in
scenarios with one faulting role (readers in walk-vs-refault*, writers in
fault-vs-fault).
"""

from __future__ import annotations

from pywalk.errors import UsageError
from pywalk.variant import consts

ROLES = tuple(consts.ROLES)     # PW_ROLE_* a user names (not the tests' "abba")
MAX_THREADS = 256           # per role and in all: past this, a hunt only thrashes
# roles a scenario cannot do without (the others may be 0)
NEEDS = {"walk-vs-refault": ("walker", "reader"), "walk-vs-refault-pmd": ("walker", "reader"),
         "fault-vs-fault": ("writer", "reader"), "mixed": ("walker", "reader"),
         "zap-vs-refault": ("zapper", "reader"),
         "policy-flip": ("reader", "flipper")}


def flag(role: str) -> str:
    return f"--{role}s"


def scenario_roles(scenario) -> list[str]:
    return list(dict.fromkeys(g.split("/")[0] for g in scenario.roles))


def counts_from(scenario, counts: dict[str, int | None], faulters: int | None = None) -> dict:
    """The role counts given (None: the scenario's default), --faulters resolved."""
    counts = {r: n for r, n in counts.items() if n is not None}
    if faulters is not None:
        alias = scenario.faulters_role
        if alias is None:
            raise UsageError(f"pywalk: --faulters: {scenario.name} has several faulting roles; "
                             f"give {', '.join(flag(r) for r in scenario_roles(scenario))}")
        if alias in counts:
            raise UsageError(f"pywalk: --faulters is {flag(alias)} in {scenario.name}: "
                             "give one of them")
        counts[alias] = faulters
    return counts


def plan(scenario, counts: dict[str, int]) -> dict:
    """thread group -> (count, walker kind, pause_us): the scenario's groups
    with the given role counts applied, checked."""
    have = scenario_roles(scenario)
    for role, n in counts.items():
        if role not in ROLES:
            raise UsageError(f"pywalk: no role {role!r} (roles: {', '.join(ROLES)})")
        if role not in have:
            raise UsageError(f"pywalk: {flag(role)}: {scenario.name} has no {role} threads "
                             f"(its roles: {', '.join(have)})")
        if not isinstance(n, int) or isinstance(n, bool):
            raise UsageError(f"pywalk: {flag(role)} takes a whole number, not {n!r}")
        if n < 0 or n > MAX_THREADS:
            raise UsageError(f"pywalk: {flag(role)} {n}: 0..{MAX_THREADS} threads")
    out = {}
    for group, (n, kind, pause) in scenario.roles.items():
        out[group] = (counts.get(group.split("/")[0], n), kind, pause)
    for role in NEEDS.get(scenario.name, ()):
        if sum(n for g, (n, _, _) in out.items() if g.split("/")[0] == role) < 1:
            raise UsageError(f"pywalk: {scenario.name} needs at least one {role} thread "
                             f"({flag(role)} >= 1)")
    total = sum(n for n, _, _ in out.values())
    if total > MAX_THREADS:
        raise UsageError(f"pywalk: {total} threads in all: at most {MAX_THREADS}")
    return {g: v for g, v in out.items() if v[0] > 0}
