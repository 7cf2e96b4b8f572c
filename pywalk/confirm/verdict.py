# SPDX-License-Identifier: GPL-2.0-only
"""The verdict of a guest run, from its console alone.

The kernel's own messages count once the reproducer has started (its
``pywalk-repro: start`` line gives the guest's uptime, so the time to the
first message is kernel time, not the host's): bad pte/pmd/pud lines, BUG,
Oops, WARNING, soft lockup, "Bad rss-counter state", a panic.  A burst is a
run of such lines less than BURST_GAP_S apart (one bad-pmd clear prints a
line per entry of the table it reads, 512, but under TCG a few of its gaps
are longer).
The reproducer's check of the patterned device data adds its corrupt pages.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

KINDS = (("bad", re.compile(r"\bbad (pte|pmd|pud|p4d|pgd)\b")),   # first match names a line:
         ("Bad rss-counter state", re.compile(r"Bad rss-counter state")),  # "BUG: Bad rss-..."
         ("soft lockup", re.compile(r"soft lockup")),                   # "watchdog: BUG: soft ..."
         ("BUG", re.compile(r"\bBUG: |kernel BUG at")),
         ("Oops", re.compile(r"\bOops\b")),
         ("WARNING", re.compile(r"\bWARNING: ")),
         ("panic", re.compile(r"Kernel panic")))
STAMP = re.compile(r"^\[\s*(\d+\.\d+)\]\s?")
BURST_GAP_S = 0.05          # kernel time between two lines of one hit, at most
FIRST_LINES = 10


def kind_of(text: str) -> str | None:
    for name, pattern in KINDS:
        if m := pattern.search(text):
            return f"bad {m.group(1)}" if name == "bad" else name
    return None


@dataclass
class Verdict:
    started: bool = False
    finished: bool = False          # the reproducer printed its "done" line
    counts: Counter = field(default_factory=Counter)    # kind -> lines
    bursts: int = 0                 # runs of such lines less than BURST_GAP_S apart
    first_lines: list[str] = field(default_factory=list)
    first_s: float | None = None    # reproducer start -> first message, kernel time
    first_wall_s: float | None = None
    corrupt_pages: int | None = None
    corrupt_lines: list[str] = field(default_factory=list)
    ops: dict = field(default_factory=dict)
    boot_s: float | None = None     # host seconds from qemu start to the reproducer's start
    guest_errors: list[str] = field(default_factory=list)
    before_start: list[str] = field(default_factory=list)  # messages during boot
    last_lines: list[str] = field(default_factory=list)
    _start_k: float | None = None
    _start_wall: float | None = None
    _last_k: float | None = None

    @property
    def lines(self) -> int:
        return sum(self.counts.values())

    @property
    def confirmed(self) -> bool:
        return bool(self.counts) or bool(self.corrupt_pages)

    def feed(self, wall: float, text: str) -> None:
        """One console line (host seconds since qemu started)."""
        m = STAMP.match(text)
        k = float(m.group(1)) if m else None
        body = text[m.end():] if m else text
        self.last_lines = (self.last_lines + [text])[-20:]
        if body.startswith("pywalk-repro: "):
            self._repro(wall, k, body[len("pywalk-repro: "):], text)
            return
        if body.startswith("pywalk-guest: error: "):
            self.guest_errors.append(body)
            return
        kind = kind_of(body)
        if kind is None:
            return
        if not self.started:
            self.before_start.append(text)
            return
        self.counts[kind] += 1
        if len(self.first_lines) < FIRST_LINES:
            self.first_lines.append(text)
        if self.first_wall_s is None:
            self.first_wall_s = wall - self._start_wall
            if k is not None and self._start_k is not None:
                self.first_s = k - self._start_k
        if k is None or self._last_k is None or k - self._last_k > BURST_GAP_S:
            self.bursts += 1
        self._last_k = k

    def _repro(self, wall: float, k: float | None, what: str, text: str) -> None:
        if what.startswith("start:"):
            if not self.started:
                self.started, self._start_wall, self.boot_s = True, wall, wall
            if (m := re.search(r"uptime (\d+\.\d+)", what)) and self._start_k is None:
                self._start_k = float(m.group(1))
        elif what.startswith("done:"):
            self.finished = True
            m = re.search(r"(\d+) corrupt page\(s\) in all", what)
            self.corrupt_pages = int(m.group(1)) if m else None
        elif what.startswith("corrupt:"):
            self.corrupt_lines.append(what)
        elif what.startswith("ops:"):
            parts = what.split()
            if len(parts) == 3 and parts[2].isdigit():
                self.ops[parts[1]] = int(parts[2])
        elif what.startswith("error:"):
            self.guest_errors.append(text)

    def as_json(self) -> dict:
        return {"confirmed": self.confirmed, "started": self.started,
                "finished": self.finished, "lines": self.lines, "bursts": self.bursts,
                "counts": dict(self.counts), "first_lines": self.first_lines,
                "first_s": None if self.first_s is None else round(self.first_s, 3),
                "first_wall_s": None if self.first_wall_s is None else round(self.first_wall_s, 3),
                "corrupt_pages": self.corrupt_pages, "corrupt_lines": self.corrupt_lines,
                "ops": self.ops, "uptime_at_start": self._start_k,
                "boot_s": None if self.boot_s is None else round(self.boot_s, 2),
                "guest_errors": self.guest_errors, "messages_during_boot": self.before_start}
