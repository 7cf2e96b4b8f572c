# SPDX-License-Identifier: GPL-2.0-only
"""Python threads in kernel calls: who a thread is in reports, and the
Python walk callbacks (MM.walk(callbacks=...)) that C calls back into."""

from __future__ import annotations

import threading
from typing import Callable, Mapping

from pywalk.errors import UsageError
from pywalk.variant.consts import CALLBACKS, ROLE_NAMES, ROLES
from pywalk.variant import consts

_PY_ACTION = consts.C["PW_PY_ACTION"]


# -- who a thread is, in reports ------------------------------------------------
# Each Python thread that calls into a variant gets a thread id (from 1000 up;
# pywalk.stress numbers its own threads from 0) that C records in its
# reports; the id leads back to the thread (its name) and the role it said
# it plays (set_role()).
_tls = threading.local()
_tid_lock = threading.Lock()
_next_tid = [1000]
_threads: dict[int, tuple[threading.Thread, str | None]] = {}


def set_role(role: str | None) -> None:
    """Declare the calling thread's role ("walker", "reader", "writer", "zapper",
    "reaper" or a name of your own): KernelOops.role reports it."""
    if role is not None and not isinstance(role, str):
        raise UsageError(f"pywalk: a role is a name, not {role!r}")
    _tls.role = role
    _tls.libs = set()           # register again, with the new role


def _this_thread(lib) -> None:
    libs = getattr(_tls, "libs", None)
    if libs is None:
        libs = _tls.libs = set()
    if id(lib) in libs:
        return
    tid = getattr(_tls, "tid", None)
    if tid is None:
        with _tid_lock:
            tid = _tls.tid = _next_tid[0]
            _next_tid[0] += 1
    role = getattr(_tls, "role", None)
    _threads[tid] = (threading.current_thread(), role)
    lib.pw_set_thread(tid, ROLES.get(role, 0))
    libs.add(id(lib))


def _who(tid: int, role: int) -> tuple[str | None, str | None]:
    """The thread name and role name behind a report's thread id and role code."""
    t = _threads.get(tid)
    if t is None:
        return None, ROLE_NAMES.get(role)
    return t[0].name, t[1] if t[1] is not None else ROLE_NAMES.get(role)


def _register_python_callback(mod) -> None:
    ffi = mod.ffi

    @ffi.def_extern(onerror=_callback_error)
    def pw_py_callback(handle, kind, addr, end, val, depth):
        walker = ffi.from_handle(handle)
        return walker.dispatch(kind, addr, end, val, depth)


def _callback_error(exc, value, tb):
    # a Python exception in a walker callback ends the walk with -EFAULT,
    # and is re-raised by MM.walk()
    _PyWalker.current_error.value = value
    return -14


class _PyWalker:
    """Dispatches C callbacks to Python callables."""

    current_error = threading.local()
    ACTIONS = {"subtree": 0, "continue": 1, "again": 2}  # enum page_walk_action

    def __init__(self, callbacks: Mapping[str, Callable], counts: dict):
        self.by_bit = {CALLBACKS[k]: (k, fn) for k, fn in callbacks.items()}
        self.counts = counts

    def dispatch(self, kind, addr, end, val, depth):
        name, fn = self.by_bit[kind]
        self.counts[name] = self.counts.get(name, 0) + 1
        r = fn(addr, end, val, depth)
        if r is None:
            return 0
        if isinstance(r, str) and r in self.ACTIONS:
            return _PY_ACTION | self.ACTIONS[r]
        if isinstance(r, int) and not isinstance(r, bool) and -4095 <= r <= 0x7fffffff:
            return int(r)
        raise WalkCallbackError(
            f"pywalk: the {name} callback returned {r!r}: expected None, "
            f"{', '.join(repr(a) for a in self.ACTIONS)} or an int (non-zero ends the walk)")


class WalkCallbackError(UsageError, ValueError):
    """A Python walk callback returned something walk_page_range() cannot take."""
