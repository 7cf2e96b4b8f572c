# SPDX-License-Identifier: GPL-2.0-only
"""Window widening: seeded short waits at the shim's one hook on shared state.

Every shim operation that touches shared state (page-table entry loads and
stores, lock and unlock, the fake driver's fault return) passes one hook
(shim/include/pywalk/runtime.h pw_hook()).  With a profile on an mm, each
hit of a site waits, with a seeded chance, a random number of cpu_relax()
spins and sometimes yields, as KCSAN's delays do.  A delay only waits: it
never does another thread's work, so a race that shows is one the real
code has.  A profile belongs to one mm (``variant.new_mm(delays=...)`` or
``mm.set_delays(...)``): calls on other mms are not delayed.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pywalk.errors import UsageError
from pywalk.variant import consts

# enum pw_site (csrc/pywalk_api.h) in C order: index i is the site of value i; the
# last five are instrumented builds' (before each access of the tree's code, by kind)
SITES = consts.SITES


@dataclass(frozen=True)
class DelayProfile:
    """Chance (per 65536 hits) and maximum length (cpu_relax() spins) per hook site."""

    prob: tuple[int, ...] = (0, 2048, 0, 512, 4096, 0, 0, 32768, 0, 0)
    max_spins: tuple[int, ...] = (0, 1000, 0, 250, 1000, 0, 0, 8000, 0, 0)
    # None: 100, or 400 on an instrumented variant, where the windows are
    # single reads apart and a yield lets the other thread in on a loaded machine
    yield_permille: int | None = None

    def __post_init__(self):
        if len(self.prob) != len(SITES) or len(self.max_spins) != len(SITES):
            raise UsageError(f"pywalk: a DelayProfile has one value per site ({', '.join(SITES)})")
        if not all(0 <= p <= 65536 for p in self.prob):
            raise UsageError("pywalk: a DelayProfile's chances are per 65536 (0..65536)")
        if not all(0 <= m < 1 << 31 for m in self.max_spins):
            raise UsageError("pywalk: a DelayProfile's max_spins must be 0 or more")
        if self.yield_permille is not None and not 0 <= self.yield_permille <= 1000:
            raise UsageError("pywalk: a DelayProfile's yield_permille is 0..1000")

    def resolved(self, instrumented: bool) -> "DelayProfile":
        """The profile with its yield share decided for this build."""
        if self.yield_permille is not None:
            return self
        return dataclasses.replace(self, yield_permille=400 if instrumented else 100)

    @classmethod
    def parse(cls, spec: str) -> "DelayProfile":
        """'unlock=2048:1000,fault_return=4096:1000,yield=100' on top of the defaults.

        Each site takes chance-per-65536:max-spins; 'yield' the permille of
        delays that also sched_yield().
        """
        prob, spins, yld = list(cls.prob), list(cls.max_spins), cls.yield_permille
        for item in filter(None, (x.strip() for x in spec.split(","))):
            name, _, value = item.partition("=")
            try:
                if name == "yield":
                    yld = int(value)
                    continue
                i = SITES.index(name)
                p, _, m = value.partition(":")
                prob[i], spins[i] = int(p), int(m) if m else spins[i]
            except ValueError:
                raise UsageError(f"pywalk: --delays {item!r}: expected SITE=CHANCE[:SPINS] with "
                                 f"SITE one of {', '.join(SITES)}, or yield=PERMILLE") from None
            if not 0 <= prob[i] <= 65536:
                raise UsageError(f"pywalk: --delays {item!r}: chance is per 65536")
        return cls(tuple(prob), tuple(spins), yld)

    def as_json(self) -> dict:
        return {"sites": {s: {"prob_per_65536": p, "max_spins": m}
                          for s, p, m in zip(SITES, self.prob, self.max_spins)},
                "yield_permille": self.yield_permille}


def profile_of(delays) -> DelayProfile | None:
    """new_mm(delays=...): True (the default profile), False/None (off), a
    DelayProfile, or a spec string as `pywalk stress --delays` takes."""
    if delays is True:
        return DelayProfile()
    if delays is False or delays is None:
        return None
    if isinstance(delays, DelayProfile):
        return delays
    if isinstance(delays, str):
        return DelayProfile.parse(delays)
    raise UsageError(f"pywalk: delays={delays!r}: expected True, False, a DelayProfile "
                     "or a spec such as 'unlock=2048:1000'")
