# SPDX-License-Identifier: GPL-2.0-only
"""Custom hunts from Python: per-mm window widening, pywalk.Hunt, and what a
KernelOops says (thread name, role, address class, signature, race)."""

import itertools
import os
import pathlib
import re
import threading

import pytest

import pywalk
from pywalk.errors import UsageError

README = pathlib.Path(__file__).resolve().parent.parent / "README.md"


def readme_hunt_block() -> str:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    mine = [b for b in blocks if "pywalk.Hunt(" in b]
    assert len(mine) == 1, "README: one python block with the pywalk.Hunt example"
    return mine[0]


@pytest.mark.stress
def test_readme_example_finds_the_walker_race_on_61_and_not_with_the_fix():
    """The README's code block itself: the race on 6.1, named and placed; none with 0001."""
    ns: dict = {}
    cwd = os.getcwd()
    os.chdir(README.parent)          # the block names patches/ relative to the checkout
    try:
        exec(compile(readme_hunt_block(), str(README), "exec"), ns)
    finally:
        os.chdir(cwd)
    result, e, fixed = ns["result"], ns["e"], ns["fixed"]
    assert e.race == "walker race"
    assert e.thread_name == "numa-walker" and result.threads["numa-walker"] == "walker"
    assert e.role == "walker" and e.kind == "SEGV" and e.address_class.startswith("device memory")
    assert "walk_pmd_range" in e.signature and e.ops <= result.ops
    assert "device memory" in str(e) and "thread 'numa-walker' (walker)" in str(e)
    # the budget was spent without the walker race (other findings would be listed)
    assert "walker race" not in fixed.races()
    assert fixed.ops >= 1_000_000 or fixed.findings


def test_delays_belong_to_an_mm(v61):
    lib = v61.lib
    base = lib.pw_delays_in_use()
    quiet = v61.new_mm()
    loud = v61.new_mm(delays=True)
    assert lib.pw_delays_in_use() == base + 1
    assert quiet.delays is None and loud.delays == pywalk.DelayProfile()
    loud.set_delays("unlock=100:10")
    assert lib.pw_delays_in_use() == base + 1 and loud.delays.prob[1] == 100
    loud.set_delays(None)
    assert lib.pw_delays_in_use() == base
    loud.set_delays(pywalk.DelayProfile())
    loud.close()                      # freeing an mm with delays on gives them back
    assert lib.pw_delays_in_use() == base
    quiet.close()
    with pytest.raises(UsageError):
        v61.new_mm(delays=42)
    with pytest.raises(UsageError):
        pywalk.DelayProfile(prob=(1, 2))


def test_oops_names_the_python_thread_and_its_role(v61):
    mm = v61.new_mm()
    start = mm.map(1 << 30, huge="pud")
    mm.fault(start)
    caught = []

    def body():
        pywalk.set_role("walker")
        try:
            mm.poke_leaf(start)      # reads device memory from C: an oops
        except pywalk.KernelOops as e:
            caught.append(e)

    t = threading.Thread(target=body, name="poker")
    t.start()
    t.join()
    (e,) = caught
    assert e.thread_name == "poker" and e.role == "walker" and e.thread >= 1000
    assert e.address_class and e.address_class.startswith("device memory")
    assert f"({e.address_class})" in str(e).splitlines()[0]
    assert e.signature.startswith("SEGV ") and e.race is None
    assert e.as_json()["thread_name"] == "poker"
    # another thread that calls the tainted mm gets told so
    with pytest.raises(pywalk.MMTainted):
        mm.fault(start)


def test_threads_get_their_own_ids(v61):
    ids = []

    def body():
        m = v61.new_mm()
        try:
            m.selftest("bug")
        except pywalk.KernelOops as e:
            ids.append((e.thread, e.thread_name))

    ts = [threading.Thread(target=body, name=f"t{i}") for i in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(n for _, n in ids) == ["t0", "t1", "t2"]
    assert len({i for i, _ in ids}) == 3


def test_hunt_checks_its_inputs(v61):
    hunt = pywalk.Hunt(v61)
    with pytest.raises(UsageError):
        hunt.run(ops=10)                            # no thread
    with pytest.raises(UsageError):
        hunt.add(lambda mm, ctx, rng: None, count=0)
    with pytest.raises(UsageError):
        hunt.add(lambda mm, ctx, rng: None, count=100_000)
    with pytest.raises(UsageError):
        hunt.add("not a function")
    hunt.add(lambda mm, ctx, rng: None)
    with pytest.raises(UsageError):
        hunt.run(ops=0)
    with pytest.raises(UsageError):
        hunt.run(seconds=-1)


def test_hunt_counts_calls_and_raises_a_threads_own_error(v61):
    hunt = pywalk.Hunt(v61, delays=False)
    calls = []

    @hunt.setup
    def mapping(mm):
        return mm.map(1 << 30, huge="pud")

    @hunt.thread(role="reader", count=2)
    def fault(mm, start, rng):
        calls.append(mm.fault(start))

    r = hunt.run(ops=500)
    assert r.ops >= 500 and not r.findings and len(calls) >= 500
    assert set(r.threads) == {"fault-0", "fault-1"}

    broken = pywalk.Hunt(v61)
    broken.add(lambda mm, ctx, rng: 1 / 0, name="broken")
    with pytest.raises(ZeroDivisionError):
        broken.run(ops=10)


def test_hunt_keep_going_collects_one_finding_per_mm(v61):
    hunt = pywalk.Hunt(v61, delays=False, keep_going=True)
    n = itertools.count()
    mms = set()

    @hunt.thread(role="walker", name="bugger")
    def every_third_call_oopses(mm, ctx, rng):
        mms.add(id(mm))
        if next(n) % 3 == 2:
            mm.selftest("bug")

    r = hunt.run(ops=20)
    # one thread: calls 0..28, of which 2, 5, ..., 26 oops; each on its own mm
    assert r.ops == 20 and len(r.findings) == 9 and len(mms) == 10
    assert all(f.thread_name == "bugger" and f.role == "walker" and f.kind == "BUG"
               for f in r.findings)
    assert [f.ops for f in r.findings] == [2 * k for k in range(1, 10)]

    n = itertools.count()
    r = hunt.run(ops=20, stop_when=lambda e: e.ops >= 4)
    assert len(r.findings) == 2 and r.ops == 4
