# SPDX-License-Identifier: GPL-2.0-only
"""pywalk/bench/stats.py on synthetic data with known answers (no timings)."""

import math
import random

import pytest

from pywalk.bench import stats


def lognormal(rng, n, median, sigma=0.1):
    return [median * rng.lognormvariate(0.0, sigma) for _ in range(n)]


def test_median_percentile_and_block_center():
    assert stats.median([3, 1, 2]) == 2
    assert stats.median([4, 1, 3, 2]) == 2.5
    assert stats.percentile([0, 10, 20, 30, 40], 50) == 20
    assert stats.percentile([0, 10], 25) == 2.5
    # the middle half of 8 values, so one huge outlier does not move it
    assert stats.block_center([1, 2, 3, 4, 5, 6, 7, 10_000]) == 4.5
    assert stats.block_center([5, 9]) == 7
    with pytest.raises(ValueError):
        stats.median([])


def test_unpaired_ratio_of_medians_ci_covers_the_true_ratio():
    rng = random.Random(7)
    ci = stats.bootstrap_ratio(lognormal(rng, 300, 1000), lognormal(rng, 300, 1050), seed=3)
    assert ci.contains(1.05)
    assert ci.low < ci.ratio < ci.high
    assert ci.half_width < 0.03


def test_paired_median_ratio_ci_covers_the_true_ratio():
    rng = random.Random(11)
    a = lognormal(rng, 300, 1000)
    b = [x * 0.97 * rng.lognormvariate(0.0, 0.02) for x in a]
    ci = stats.bootstrap_ratio(a, b, paired=True, seed=5)
    assert ci.contains(0.97)
    assert not ci.contains(1.0)


def test_coverage_of_the_95_percent_interval():
    # 40 data sets drawn from known distributions: a 95% interval should
    # miss the true ratio about twice; allow up to five misses
    rng = random.Random(2024)
    misses = 0
    for i in range(40):
        a = lognormal(rng, 120, 500, 0.2)
        b = lognormal(rng, 120, 500 * 1.1, 0.2)
        ci = stats.bootstrap_ratio(a, b, resamples=400, seed=i)
        misses += not ci.contains(1.1)
    assert misses <= 5


def test_pairing_cancels_slow_phases_that_hit_both_variants():
    # a machine that is 1.6x slower in some rounds (another job on the other
    # core): B is 2% slower than A in every round
    rng = random.Random(5)
    phase = [1.6 if (i // 25) % 2 else 1.0 for i in range(300)]
    a = [1000 * p * rng.lognormvariate(0, 0.01) for p in phase]
    b = [1020 * p * rng.lognormvariate(0, 0.01) for p in phase]
    paired = stats.bootstrap_ratio(a, b, paired=True, seed=1)
    plain = stats.bootstrap_ratio(a, b, seed=1)
    assert paired.contains(1.02) and paired.half_width < 0.005
    assert plain.half_width > 5 * paired.half_width


def test_identical_samples_give_one_and_no_difference():
    xs = [100.0, 101.0, 99.0, 100.5, 100.2]
    ci = stats.bootstrap_ratio(xs, list(xs), paired=True)
    assert (ci.ratio, ci.low, ci.high) == (1.0, 1.0, 1.0)
    assert stats.verdict(ci.ratio, ci.low, ci.high) == "no measurable difference"


def test_bootstrap_is_seeded():
    rng = random.Random(1)
    a, b = lognormal(rng, 50, 10), lognormal(rng, 50, 11)
    assert stats.bootstrap_ratio(a, b, seed=9) == stats.bootstrap_ratio(a, b, seed=9)


def test_bootstrap_rejects_bad_input():
    with pytest.raises(ValueError):
        stats.bootstrap_ratio([], [1.0])
    with pytest.raises(ValueError):
        stats.bootstrap_ratio([1.0, 2.0], [1.0], paired=True)
    with pytest.raises(ValueError):
        stats.bootstrap_ratio([0.0, 1.0], [1.0, 1.0])


def test_verdict_text():
    assert stats.verdict(1.0, 0.99, 1.01) == "no measurable difference"
    assert stats.verdict(1.05, 1.04, 1.06) == "B slower by 5.0% ± 1.0%"
    assert stats.verdict(0.9, 0.88, 0.92) == "B faster by 10.0% ± 2.0%"
    assert stats.verdict(1.2, 1.1, 1.3, name="fixed") == "fixed slower by 20.0% ± 10.0%"


def test_linear_fit_is_exact_on_a_line():
    xs = [1, 4, 16, 64, 256, 1024]
    fit = stats.linear_fit(xs, [3.5 * x + 70 for x in xs])
    assert math.isclose(fit.slope, 3.5)
    assert math.isclose(fit.intercept, 70)
    assert math.isclose(fit.r2, 1.0)
    assert fit.n == 6
    with pytest.raises(ValueError):
        stats.linear_fit([1], [2])
    with pytest.raises(ValueError):
        stats.linear_fit([2, 2], [1, 3])


def test_loglog_exponent():
    xs = [1, 2, 4, 8]
    assert math.isclose(stats.loglog_exponent(xs, [5 * x for x in xs]), 1.0)
    assert math.isclose(stats.loglog_exponent(xs, [x * x for x in xs]), 2.0)
