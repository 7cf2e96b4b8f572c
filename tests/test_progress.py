# SPDX-License-Identifier: GPL-2.0-only
"""The one progress line: on a terminal only, never with --quiet."""

import io
import subprocess
import sys

from pywalk.report.progress import Progress, factory


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_hunt_line_shows_ops_rate_findings_and_time_left():
    out = Tty()
    p = Progress("6.1 walk-vs-refault", ops=1000, stream=out, interval=0)
    p(250, 2.0, 1)
    text = out.getvalue()
    assert text.startswith("\r\033[K") and "\n" not in text
    assert "250 ops" in text and "125 ops/s" in text and "1 finding," in text
    assert "6.0 s left at most" in text            # (1000 - 250) / 125
    p.done()
    assert out.getvalue().endswith("\r\033[K")


def test_seconds_budget_time_left():
    out = Tty()
    Progress("x", seconds=10, stream=out, interval=0)(10, 4.0, 0)
    assert "6.0 s left at most" in out.getvalue() and "0 findings" in out.getvalue()


def test_nothing_when_not_a_terminal_or_quiet():
    for stream, quiet in ((io.StringIO(), False), (Tty(), True)):
        p = Progress("x", ops=10, stream=stream, quiet=quiet, interval=0)
        p(5, 1.0, 0)
        p.phase("pud: A/B walks", 0.5)
        p.done()
        assert stream.getvalue() == ""


def test_phase_line_for_bench():
    out = Tty()
    p = Progress(stream=out, interval=0)
    p.phase("pud: A/B walks", 0.0)
    p.phase("pud: A/B walks", 0.5)
    text = out.getvalue()
    assert "pud: A/B walks [##########..........]" in text and "in all" in text


def test_factory_numbers_the_cells():
    make = factory(ops=100, quiet=True, total=3)
    assert [make("a").label, make("b").label] == ["[1/3] a", "[2/3] b"]


def test_cli_prints_no_progress_into_a_pipe():
    p = subprocess.run([sys.executable, "-m", "pywalk", "stress", "--kernel", "6.1",
                        "--scenario", "walk-vs-refault", "--ops", "2000", "--quiet"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "\r" not in p.stderr and "ops/s" not in p.stderr


def test_a_long_label_gives_way_to_the_numbers(monkeypatch):
    import os
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((80, 20)))
    out = Tty()
    label = "6.1.y+0001-mm-pagewalk-recheck-pud-after-split.patch walk-vs-refault"
    p = Progress(label, ops=100, stream=out, interval=0)
    p(50, 1.0, 2)
    line = out.getvalue().split("\033[K")[-1]
    assert len(line) <= 79 and line.endswith("1.0 s left at most")
    assert line.startswith("6.1.y+0001-mm") and "…: 50 ops" in line
    monkeypatch.setattr("shutil.get_terminal_size", lambda fallback: os.terminal_size((50, 20)))
    p(50, 1.0, 2)
    assert out.getvalue().split("\033[K")[-1].startswith("50 ops")
