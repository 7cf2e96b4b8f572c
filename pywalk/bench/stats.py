# SPDX-License-Identifier: GPL-2.0-only
"""Statistics for benchmarks: medians, bootstrap confidence intervals for a
ratio (of medians, or the median of paired ratios), a plain-words verdict,
and least-squares fits.

Pure Python (``statistics``; ``random``, seeded): the same data and seed
give the same interval on every machine.
"""

from __future__ import annotations

import math
import random
import statistics
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence


def median(xs: Sequence[float]) -> float:
    """The median (mean of the two middle values for an even count);
    StatisticsError (a ValueError) for no data."""
    return float(statistics.median(xs))


def block_center(sorted_xs: Sequence[float]) -> float:
    """The mean of the middle half of sorted data (the interquartile mean);
    the median for fewer than four values."""
    n = len(sorted_xs)
    if n < 4:
        return median(sorted_xs)
    k = n // 4
    mid = sorted_xs[k:n - k]
    return sum(mid) / len(mid)


def percentile(xs: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of data, linear interpolation between
    the closest ranks (statistics.quantiles' "inclusive" method: the value
    at position (n - 1) * q / 100 of the sorted data).  q is taken as the
    nearest fraction of 100 with a denominator up to 1000 (2.5 as 1/40:
    1 - 0.95 leaves 2.4999999999999996 in a float)."""
    if not xs:
        raise ValueError("percentile of no data")
    if not 0 <= q <= 100:
        raise ValueError("percentile outside 0..100")
    at = Fraction(q / 100).limit_denominator(1000)
    if len(xs) == 1 or at in (0, 1):
        return float(min(xs) if at == 0 else max(xs))
    return statistics.quantiles(xs, n=at.denominator, method="inclusive")[at.numerator - 1]


@dataclass(frozen=True)
class RatioCI:
    """A ratio of b to a and its percentile-bootstrap interval."""

    ratio: float
    low: float
    high: float
    confidence: float
    resamples: int

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2.0

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high


def bootstrap_ratio(a: Sequence[float], b: Sequence[float], *, paired: bool = False,
                    resamples: int = 2000, confidence: float = 0.95,
                    seed: int = 1) -> RatioCI:
    """How much larger b is than a, with a percentile bootstrap interval.

    Unpaired: the ratio of medians median(b) / median(a); a and b are
    resampled independently.

    Paired (a[i] and b[i] measured together, e.g. back to back in one round
    of an interleaved benchmark): the median of the per-pair ratios
    b[i] / a[i], resampling pairs.  A slow phase of the machine that hits
    both members of a pair cancels in their ratio; in a ratio of medians it
    would widen the interval by the size of the phase.
    """
    if not a or not b:
        raise ValueError("bootstrap of no data")
    if paired and len(a) != len(b):
        raise ValueError("paired samples of different lengths")
    if not 0 < confidence < 1:
        raise ValueError("confidence outside (0, 1)")
    if min(a) <= 0:
        raise ValueError("a has a non-positive value")
    rng = random.Random(seed)
    stats_ = []
    if paired:
        r = [y / x for x, y in zip(a, b)]
        ratio = median(r)
        for _ in range(resamples):
            stats_.append(median(rng.choices(r, k=len(r))))
    else:
        ratio = median(b) / median(a)
        for _ in range(resamples):
            stats_.append(median(rng.choices(b, k=len(b))) / median(rng.choices(a, k=len(a))))
    stats_.sort()
    tail = (1.0 - confidence) / 2.0 * 100.0
    return RatioCI(ratio, percentile(stats_, tail), percentile(stats_, 100.0 - tail),
                   confidence, resamples)


def aa_spread(aa_low: float, aa_high: float) -> float:
    """How far an A/A interval (the same code on both sides) reaches from
    1.0, the larger side: the difference identical code shows, which an
    A/B interval must be widened by before it says anything."""
    return max(aa_high - 1.0, 1.0 - aa_low, 0.0)


def widen(ratio: float, low: float, high: float, spread: float) -> tuple[float, float]:
    """An interval [low, high] around ratio, each side widened by a
    systematic error `spread` in quadrature (sqrt(side^2 + spread^2)): the
    bootstrap's error and the A/A spread are independent, and the spread
    already holds the A/A run's own bootstrap error, so adding the two
    would count that twice."""
    return (ratio - math.hypot(ratio - low, spread), ratio + math.hypot(high - ratio, spread))


def verdict(ratio: float, low: float, high: float, name: str = "B") -> str:
    """Plain words for a B/A time ratio and its confidence interval."""
    if low <= 1.0 <= high:
        return "no measurable difference"
    pm = (high - low) / 2.0 * 100.0
    if ratio > 1.0:
        return f"{name} slower by {(ratio - 1.0) * 100.0:.1f}% ± {pm:.1f}%"
    return f"{name} faster by {(1.0 - ratio) * 100.0:.1f}% ± {pm:.1f}%"


@dataclass(frozen=True)
class Fit:
    """y = slope * x + intercept, least squares; r2 is the coefficient of determination."""

    slope: float
    intercept: float
    r2: float
    n: int


def linear_fit(xs: Sequence[float], ys: Sequence[float]) -> Fit:
    """Ordinary least squares line through (xs, ys) (statistics.linear_regression;
    StatisticsError, a ValueError, for fewer than two points, lengths that
    differ, or all x equal).  r2 is the squared correlation, which for a
    least-squares line is 1 - SS_res / SS_tot; 1.0 when all y are equal."""
    slope, intercept = statistics.linear_regression(xs, ys)
    r2 = 1.0 if len(set(ys)) == 1 else statistics.correlation(xs, ys) ** 2
    return Fit(slope, intercept, r2, len(xs))


def loglog_exponent(xs: Sequence[float], ys: Sequence[float]) -> float:
    """The slope of log(y) against log(x): 1.0 when y grows linearly with x."""
    if any(x <= 0 for x in xs) or any(y <= 0 for y in ys):
        raise ValueError("log of a non-positive value")
    return linear_fit([math.log(x) for x in xs], [math.log(y) for y in ys]).slope
