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

from pywalk.variant.consts import OOPS_KINDS
from pywalk.variant import explain as _explain

_RUNTIME_FRAMES = {"pw_fill_report", "pw_oops", "pw_warn", "pw_warn_kind", "pw_report_bad_entry",
                   "pw_printk_err", "pw_warn_entry", "pw_lockdep_store", "pw_stale_store", "pw_history_store", "pw_hist_frames",
                   "pw_kcsan_watch", "pw_kcsan_check", "pw_kc_side", "pw_tsan"}
_BUILD_DIR = re.compile(r"^.*/build/[^/]+/(tree/)?")
KINDS = OOPS_KINDS      # enum pw_oops_kind (shim/include/pywalk/report.h), read by consts.py
HEADLINES = {
    "SEGV": "BUG: unable to handle page fault for address: {addr:#x}",
    "BUS": "BUG: bus error for address: {addr:#x}",
    "BUG": "{msg} at {where}",
    "WARN": "WARNING: {msg} at {where}",
    "LOCKUP": "{msg}",
    "LOCK": "WARNING: {msg} at {where}",
    "LEAK": "BUG: {msg}",
    "STALE": "WARNING: {msg}",
    "ERR": "{msg}",             # a kernel error message (pr_err()), as the console shows it
}


_FAULT_PREFIX = "BUG: unable to handle page fault ("


def signature(kind: str, backtrace: list[str]) -> str:
    """Kind and the innermost kernel frames: findings with one cause share it."""
    frames = [b.split(" ", 1)[0] for b in backtrace
              if " " in b and not b.split(" ", 1)[1].startswith(("shim/", "csrc/", "??"))]
    return " ".join([kind, "<".join(frames[:3])])


def address_class(message: str) -> str | None:
    """What a faulting address is ("device memory", ...), from a fault's message
    (shim/src/physmem.c pw_classify_address())."""
    if message.startswith(_FAULT_PREFIX) and message.endswith(")"):
        return message[len(_FAULT_PREFIX):-1]
    return None


@dataclass
class Report:
    kind: str
    address: int
    thread: int
    role: int
    message: str
    where: str | None
    backtrace: list[str] = field(default_factory=list)
    thread_name: str | None = None      # the Python thread's name, when known
    role_name: str | None = None        # its role ("walker", ...), when known
    # SEGV/BUS: the stores to the entry that mapped the address, newest first
    # (shim/checkers/history.c): {thread, role, op, entry, old, new, backtrace}
    racing: list[dict] = field(default_factory=list)
    # does the tree recheck the pud after pmd_alloc() (pywalk/tree/facts.py)?
    # None: not known (pywalk/hunt/races.py then names as before)
    pmd_alloc_recheck: bool | None = None
    # SEGV/BUS: the entry the faulting access derived from, its level, this
    # thread's loads of it (newest first; instrumented builds) and which one
    # the fault used (shim/checkers/history.c); the build model (variant/model.py)
    entry: int = 0
    entry_level: int = -1
    loads: list[dict] = field(default_factory=list)
    used: int = -1
    model: str = "native"

    @property
    def signature(self) -> str:
        return signature(self.kind, self.backtrace)

    def explain(self, role_names: dict | None = None) -> dict | None:
        """The fault down to the loads (pywalk/variant/explain.py), or None."""
        if self.kind not in ("SEGV", "BUS"):
            return None
        return _explain.explain(address=self.address, backtrace=self.backtrace,
                                thread=self.thread, entry=self.entry, level=self.entry_level,
                                loads=self.loads, used=self.used, racing=self.racing,
                                model=self.model, role_names=role_names)

    def text(self) -> str:
        head = HEADLINES.get(self.kind, "{msg}").format(
            addr=self.address, msg=self.message, where=self.where or "?")
        cls = address_class(self.message)
        if cls:
            head += f" ({cls})"
        who = f"thread {self.thread_name!r}" if self.thread_name else f"thread {self.thread}"
        lines = [head, f"{who} ({self.role_name or f'role {self.role}'})", "Call Trace:"]
        lines += [f" {f}" for f in self.backtrace]
        for r in self.racing:
            lines.append(f"racing: thread {r['thread']} (role {r['role']}) {r['op']} "
                         f"{r['old']:#x} -> {r['new']:#x}")
            lines += [f"  {f}" for f in r["backtrace"]]
        ex = self.explain()
        if ex:
            lines += ["Explanation:"] + [f" {x}" for x in ex["lines"]]
        return "\n".join(lines)

    def as_json(self) -> dict:
        return {"kind": self.kind, "signature": self.signature, "address": self.address,
                "address_class": address_class(self.message), "thread": self.thread,
                "thread_name": self.thread_name, "role": self.role_name or self.role,
                "message": self.message, "where": self.where, "backtrace": self.backtrace,
                "racing": self.racing, "model": self.model, "explain": self.explain()}


# Known races are hunt knowledge (pywalk/hunt/races.py, an upper layer): it
# installs the function that names a finding's race here when it is imported
# (``import pywalk`` does).
_race_namer = None


def set_race_namer(fn) -> None:
    """fn(oops) -> the known race's name or None (pywalk.hunt.races installs it)."""
    global _race_namer
    _race_namer = fn


class KernelOops(Exception):
    """Kernel code oopsed (fault, BUG, WARN or lockup) during a call.

    kind, address, message, where, backtrace: the report; address_class:
    what the faulting address is; thread (the C thread id), thread_name
    (the Python thread's name), role (its declared role, pywalk.set_role());
    signature: kind and innermost kernel frames; race: the known race
    (pywalk.hunt.races) it is, or None.  A hunt (pywalk.Hunt) also sets ops
    and elapsed_s: when it was found."""

    def __init__(self, report: Report):
        super().__init__(report.text())
        self.report = report
        self.kind = report.kind
        self.address = report.address
        self.message = report.message
        self.where = report.where
        self.backtrace = report.backtrace
        self.thread = report.thread
        self.thread_name = report.thread_name
        self.role = report.role_name
        self.address_class = address_class(report.message)
        self.pmd_alloc_recheck = report.pmd_alloc_recheck
        self.ops: int | None = None
        self.elapsed_s: float | None = None

    @property
    def signature(self) -> str:
        return self.report.signature

    @property
    def race(self) -> str | None:
        return _race_namer(self) if _race_namer is not None else None

    def as_json(self) -> dict:
        d = self.report.as_json()
        d.update(race=self.race, ops=self.ops,
                 elapsed_s=None if self.elapsed_s is None else round(self.elapsed_s, 4))
        return d


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
    rep = Report(kind, int(c_report.address), c_report.tid, c_report.role,
                 ffi.string(c_report.msg).decode(errors="replace"), where, bt,
                 racing=read_racing(c_report, module_path, ffi))
    if kind in ("SEGV", "BUS") and hasattr(c_report, "nloads"):
        rep.entry, rep.entry_level = int(c_report.entry), int(c_report.entry_level)
        rep.used = int(c_report.used)
        loads = [c_report.loads[i] for i in range(c_report.nloads)]
        sites = symbolize_sites(module_path, [int(ld.site) for ld in loads])
        rep.loads = [{"value": int(ld.val), "kind": int(ld.kind), "seq": int(ld.seq),
                      "site": s} for ld, s in zip(loads, sites)]
    return rep


def symbolize_sites(module_path: str, addrs: list[int]) -> list[list[str]]:
    """Each return address's call site as its inline chain ('fn file:line',
    innermost first): the site of the load made right after the call."""
    base = _module_base(module_path)
    if base is None or not addrs:
        return [[f"?? {a:#x}"] for a in addrs]
    got = _addr2line(module_path, tuple(a - base - 1 for a in addrs))
    return [list(g) if g and not g[0].startswith("??") else [f"?? {a:#x}"]
            for a, g in zip(addrs, got)]


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
                    "seq": int(getattr(r, "seq", 0)), "backtrace": bt})
    return out
