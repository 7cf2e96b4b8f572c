# SPDX-License-Identifier: GPL-2.0-only
"""Exit codes a script can trust: bad numbers and unwritable reports are
exit 2 before anything runs, a report that cannot be written after a run is
exit 3 (its table still printed), and a closed pipe keeps the real code."""

import os
import subprocess
import sys

import pytest

PY = [sys.executable, "-m", "pywalk"]
HUNT = ["stress", "--kernel", "6.1", "--scenario", "walk-vs-refault"]


def _run(args, **kw):
    return subprocess.run(PY + args, capture_output=True, text=True, timeout=600, **kw)


@pytest.mark.parametrize("opt,value", [("--seed", "-1"), ("--seed", str(1 << 64)),
                                       ("--seconds", "nan"), ("--seconds", "0"),
                                       ("--ops", "0"), ("--lockup-s", "-3")])
def test_a_number_out_of_range_is_one_line_and_exit_2(opt, value):
    p = _run(HUNT + [opt, value])
    assert p.returncode == 2, p.stderr
    assert p.stderr.count("\n") == 1 and opt in p.stderr and "Traceback" not in p.stderr
    assert p.stdout == ""


def test_the_largest_seed_is_accepted(v61):
    p = _run(HUNT + ["--seed", str((1 << 64) - 1), "--ops", "2000", "--instrument", "off"])
    assert p.returncode == 0, p.stderr
    assert "seed 18446744073709551615" in p.stdout


def test_an_unwritable_report_is_refused_before_the_hunt(tmp_path):
    p = _run(HUNT + ["--json", str(tmp_path / "no" / "such" / "dir" / "r.json")])
    assert p.returncode == 2 and p.stdout == "", (p.stdout, p.stderr)
    assert p.stderr.startswith("pywalk: cannot write the report") and "Traceback" not in p.stderr
    p = _run(HUNT + ["--json", str(tmp_path)])
    assert p.returncode == 2 and "is a directory" in p.stderr


def test_an_unusable_cache_is_one_line():
    p = _run(HUNT, env={**os.environ, "PYWALK_CACHE": "/proc/pywalk-cache"})
    assert p.returncode == 2, p.stderr
    assert "the cache /proc/pywalk-cache is not usable" in p.stderr
    assert "Traceback" not in p.stderr


def test_a_report_lost_after_the_hunt_is_exit_3_and_the_table_is_printed(v61, tmp_path):
    # the disk fills up during the hunt: the write fails, nothing else is lost
    code = ("import errno, sys\n"
            "from pywalk.report import jsonio\n"
            "def full(path, data): raise OSError(errno.ENOSPC, 'No space left on device')\n"
            "jsonio.write_json_atomic = full\n"
            "from pywalk.cli import main\n"
            f"sys.exit(main({HUNT + ['--fail-on-finding', '--json', str(tmp_path / 'r.json')]!r}))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert p.returncode == 3, p.stderr
    assert "1 finding(s)" in p.stdout                    # the table
    assert "cannot write the report" in p.stderr and "No space left" in p.stderr
    assert "Traceback" not in p.stderr


def test_a_closed_pipe_keeps_the_real_exit_code(v61):
    p = subprocess.run(["bash", "-o", "pipefail", "-c",
                        " ".join(PY + HUNT + ["--fail-on-finding"]) + " | true"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 1, p.stderr
    assert "Traceback" not in p.stderr and "BrokenPipe" not in p.stderr
