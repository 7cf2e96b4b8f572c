# SPDX-License-Identifier: GPL-2.0-only
"""Every hunt ends: a walk that retries forever is a LOCKUP finding (the
soft-lockup watchdog, shim/checkers/watchdog.c), --seconds is a hard bound, and
Ctrl-C ends a hunt whose threads are inside kernel code.

The subject is a mutant of 6.12's __split_huge_pud_locked() that writes the
split leaf back without _PAGE_PRESENT: walk_pmd_range() then asks for
ACTION_AGAIN and the split repeats, for ever (the first split of a leaf
the readers installed starts it)."""

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import pywalk
from pywalk.hunt import stress
from conftest import wait_for_hunt

MUTANT = Path(__file__).parent / "mutants" / "6.12" / "split-pud-writes-back-nonpresent.patch"


@pytest.fixture(scope="module")
def looping():
    return pywalk.build("6.12", [str(MUTANT)])


def test_a_walk_that_never_ends_is_a_lockup_with_its_backtrace(looping):
    # a budget the hunt never reaches: only the watchdog can end it
    r = stress.run(looping, "walk-vs-refault", seconds=3600, seed=1, lockup_s=1.0)
    assert r.findings, "the hunt ended without a finding"
    f = r.findings[0]
    assert f.kind == "LOCKUP", (f.kind, f.message)
    assert "soft lockup" in f.message and f.role == "walker"
    frames = [b.split(" ", 1)[0] for b in f.backtrace]
    assert "walk_pud_range" in frames, f.backtrace
    assert r.elapsed_s < 3600


def test_the_time_bound_unwinds_a_thread_stuck_in_kernel_code(looping):
    # no watchdog within the run: the time bound alone must end it
    r = stress.run(looping, "walk-vs-refault", seconds=2, seed=1, lockup_s=3600)
    assert r.cut_short >= 1, "the looping walker returned by itself?"
    assert not [f for f in r.findings if f.kind == "LOCKUP"]
    assert r.as_json()["threads_unwound_at_time_bound"] == r.cut_short


def test_lockup_is_off_for_a_thread_that_makes_progress(v612):
    r = stress.run(v612, "walk-vs-refault", ops=200_000, seed=1, lockup_s=0.5)
    assert not [f for f in r.findings if f.kind == "LOCKUP"]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_ctrl_c_ends_a_hunt_stuck_in_kernel_code(tmp_path, looping, sig):
    out = tmp_path / "r.json"
    p = subprocess.Popen([sys.executable, "-m", "pywalk", "stress", "--kernel", "6.12",
                          "--patch", str(MUTANT), "--scenario", "walk-vs-refault",
                          "--instrument", "off", "--seconds", "3600", "--lockup-s", "3600",
                          "--json", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_hunt(p)
    p.send_signal(sig)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    rep = json.loads(out.read_text())
    assert rep["interrupted"] is True and rep["ops"] > 0
    assert "Traceback" not in err


def test_a_custom_hunt_ends_on_a_walk_that_never_ends(looping):
    """pywalk.Hunt: the same watchdog reports the loop in a Python thread's walk."""
    hunt = pywalk.Hunt(looping, seed=1, lockup_s=1.0)

    @hunt.setup
    def setup(mm):
        return mm.map(2 << 30, huge="pud")

    @hunt.thread(role="reader")
    def reader(mm, start, rng):
        mm.fault(start + rng.randrange(2 << 30))

    @hunt.thread(role="walker")
    def walker(mm, start, rng):
        mm.walk(start, start + (2 << 30))

    r = hunt.run(seconds=3600)
    assert r.findings and r.findings[0].kind == "LOCKUP", r.findings
    assert "walk_pud_range" in [b.split(" ", 1)[0] for b in r.findings[0].backtrace]
