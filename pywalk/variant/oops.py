# SPDX-License-Identifier: GPL-2.0-only
"""Kernel oops reports: from the C report struct to a Python exception.

Backtraces are return addresses; they are turned into ``function file:line``
with ``addr2line`` against the variant's -g build (inlined frames included),
so a fault in ``walk_pmd_range()`` inlined into ``walk_pgd_range()`` shows
both, as the kernel's own oops does.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field

_RUNTIME_FRAMES = {"pw_fill_report", "pw_oops", "pw_warn", "pw_warn_kind", "pw_report_bad_entry",
                   "pw_lockdep_store", "pw_history_store", "pw_hist_frames",
                   "pw_kcsan_watch", "pw_kcsan_check", "pw_kc_side", "pw_tsan"}
_BUILD_DIR = re.compile(r"^.*/build/[^/]+/(tree/)?")
KINDS = {1: "SEGV", 2: "BUS", 3: "BUG", 4: "WARN", 5: "LOCKUP", 6: "PANIC", 7: "LOCK", 8: "LEAK", 9: "DATA-RACE"}
HEADLINES = {
    "SEGV": "BUG: unable to handle page fault for address: {addr:#x}",
    "BUS": "BUG: bus error for address: {addr:#x}",
    "BUG": "{msg} at {where}",
    "WARN": "WARNING: {msg} at {where}",
    "LOCKUP": "{msg}",
    "LOCK": "WARNING: {msg} at {where}",
    "LEAK": "BUG: {msg}",
}


@dataclass
class Report:
    kind: str
    address: int
    thread: int
    role: int
    message: str
    where: str | None
    backtrace: list[str] = field(default_factory=list)
    # SEGV/BUS: the stores to the entry that mapped the address, newest first
    # (shim/src/history.c): {thread, role, op, entry, old, new, backtrace}
    racing: list[dict] = field(default_factory=list)

    def text(self) -> str:
        head = HEADLINES.get(self.kind, "{msg}").format(
            addr=self.address, msg=self.message, where=self.where or "?")
        lines = [head, f"thread {self.thread} (role {self.role})", "Call Trace:"]
        lines += [f" {f}" for f in self.backtrace]
        for r in self.racing:
            lines.append(f"racing: thread {r['thread']} (role {r['role']}) {r['op']} "
                         f"{r['old']:#x} -> {r['new']:#x}")
            lines += [f"  {f}" for f in r["backtrace"]]
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"kind": self.kind, "address": self.address, "thread": self.thread,
                "role": self.role, "message": self.message, "where": self.where,
                "backtrace": self.backtrace, "racing": self.racing}


class KernelOops(Exception):
    """Kernel code oopsed (fault, BUG, WARN or lockup) during a call."""

    def __init__(self, report: Report):
        super().__init__(report.text())
        self.report = report
        self.kind = report.kind
        self.address = report.address
        self.backtrace = report.backtrace


class MMTainted(Exception):
    """The mm oopsed earlier: its locks may be held forever; use a new mm."""


def _module_base(path: str) -> int | None:
    real = os.path.realpath(path)
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 6 and os.path.realpath(parts[5]) == real and int(parts[2], 16) == 0:
                return int(parts[0].split("-")[0], 16)
    return None


@functools.lru_cache(maxsize=4096)
def _addr2line(path: str, offsets: tuple[int, ...]) -> tuple[tuple[str, ...], ...]:
    """For each offset, its frames (innermost inline first) as 'fn file:line'."""
    exe = shutil.which("addr2line")
    if not exe or not offsets:
        return tuple(() for _ in offsets)
    proc = subprocess.run([exe, "-a", "-f", "-i", "-C", "-e", path, *[hex(o) for o in offsets]],
                          capture_output=True, text=True)
    groups: list[list[str]] = []
    lines = proc.stdout.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].startswith("0x") and (not groups or len(lines[i]) > 10):
            groups.append([])
            i += 1
            continue
        if i + 1 < len(lines) and groups:
            fn, loc = lines[i], lines[i + 1].split(" (discriminator")[0]
            loc = _BUILD_DIR.sub("", loc)
            groups[-1].append(f"{fn} {loc}")
        i += 2
    groups += [[] for _ in range(len(offsets) - len(groups))]
    return tuple(tuple(g) for g in groups[:len(offsets)])


def symbolize(module_path: str, frames: list[int], *, first_is_ip: bool) -> list[str]:
    """'function file:line' for each frame (inlined callers expanded)."""
    base = _module_base(module_path)
    result: list[str] = []
    inside: list[tuple[int, int]] = []
    for i, a in enumerate(frames):
        if base is not None and a >= base:
            # return addresses point after the call: look up the call itself
            off = a - base - (0 if (i == 0 and first_is_ip) else 1)
            inside.append((i, off))
    names = dict(zip([i for i, _ in inside],
                     _addr2line(module_path, tuple(o for _, o in inside)))) if inside else {}
    for i, a in enumerate(frames):
        syms = names.get(i)
        if syms and not syms[0].startswith("??"):
            result.extend(syms)
        else:
            result.append(f"?? {a:#x}")
    # drop frames below the harness entry (cffi wrapper, Python itself)
    cut = next((k for k, s in enumerate(result) if s.startswith("_cffi_f_")), None)
    return result[:cut] if cut is not None else result


def read_report(c_report, module_path: str, ffi) -> Report:
    kind = KINDS.get(c_report.kind, str(c_report.kind))
    frames = [int(ffi.cast("unsigned long", c_report.frames[i])) for i in range(c_report.nframes)]
    where = None
    if c_report.file != ffi.NULL:
        where = f"{ffi.string(c_report.file).decode()}:{c_report.line}"
    bt = symbolize(module_path, frames, first_is_ip=c_report.ip != 0)
    # the oops machinery's own frames are not part of the story
    _drop_runtime(bt)
    if where is None or where.startswith("shim/src/runtime.c"):
        kernel = next((b.split(" ", 1)[1] for b in bt if " " in b and not b.split(" ", 1)[1]
                       .startswith(("shim/", "csrc/", "??"))), None)
        where = kernel or where
    return Report(kind, int(c_report.address), c_report.tid, c_report.role,
                  ffi.string(c_report.msg).decode(errors="replace"), where, bt,
                  read_racing(c_report, module_path, ffi))


def _drop_runtime(bt: list[str]) -> list[str]:
    """Without the leading frames of the oops, history and watchpoint machinery."""
    while bt and (bt[0].split(" ", 1)[0] in _RUNTIME_FRAMES or bt[0].startswith("__tsan_")):
        bt.pop(0)
    return bt


_PRESENT, _PSE = 1, 1 << 7


def store_op(old: int, new: int) -> str:
    """What an entry store did, by its old and new value (x86 encoding)."""
    def what(v: int) -> str:
        return "none" if not v & _PRESENT else "leaf" if v & _PSE else "table"
    if not new:
        return f"clear {what(old)}"
    return f"set {what(new)}" + (f" over {what(old)}" if old else "")


def read_racing(c_report, module_path: str, ffi) -> list[dict]:
    """The report's entry-store history (newest first), symbolised."""
    out = []
    for i in range(getattr(c_report, "nracing", 0)):
        r = c_report.racing[i]
        frames = [int(ffi.cast("unsigned long", r.frames[k])) for k in range(r.nframes)]
        bt = _drop_runtime(symbolize(module_path, frames, first_is_ip=False))
        out.append({"thread": r.tid, "role": r.role, "op": store_op(r.old, r.new),
                    "entry": int(r.entry), "old": int(r.old), "new": int(r.new),
                    "backtrace": bt})
    return out
