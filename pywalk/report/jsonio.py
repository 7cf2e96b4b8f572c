# SPDX-License-Identifier: GPL-2.0-only
"""Reports on disk: written atomically, so a reader never sees half of one
and Ctrl-C never leaves a truncated file."""

from __future__ import annotations

import json
import os
import tempfile

from pywalk.errors import UsageError

# reports the command line could not write: the command goes on (its table
# is printed, its verdict computed) and then exits 3 (pywalk/cli/__init__.py)
_failed: list[str] = []


def check_writable(path: str) -> None:
    """Before a run: can a report be written at path?  One line, exit 2, if not."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    if os.path.isdir(path):
        raise UsageError(f"pywalk: cannot write the report {path}: it is a directory")
    if not os.path.isdir(directory):
        raise UsageError(f"pywalk: cannot write the report {path}: no directory {directory}")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".pywalk-", suffix=".check", dir=directory)
    except OSError as e:
        raise UsageError(f"pywalk: cannot write the report {path}: {e.strerror}") from None
    os.close(fd)
    os.unlink(tmp)


def write_report(path: str, data) -> bool:
    """write_json_atomic() for the command line: a failure is remembered for
    the exit code (failed_writes()), not raised, so nothing else is lost."""
    try:
        write_json_atomic(path, data)
        return True
    except OSError as e:
        _failed.append(f"pywalk: cannot write the report {path}: {e.strerror or e}")
        return False


def failed_writes() -> list[str]:
    return list(_failed)


def write_json_atomic(path: str, data) -> None:
    """Write a report so that a reader never sees half of it."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    fd, tmp = tempfile.mkstemp(prefix=".pywalk-", suffix=".json", dir=directory)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
