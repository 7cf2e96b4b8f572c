# SPDX-License-Identifier: GPL-2.0-only
"""The pywalk cache: its root, per-entry locks, atomic installs, file digests.

``cache_root()`` is $PYWALK_CACHE or ~/.cache/pywalk.  An entry of ``src/`` is
unpacked into a ``src/.work-<name>-*`` scratch directory and renamed into place
atomically once complete, under the entry's lock, so concurrent processes
(pytest-xdist workers) wait for each other and reuse the result.  Installed
files are made read-only.
"""

import contextlib
import functools
import hashlib
import json
import os
import pathlib
import shutil
import tempfile
from typing import Callable

import filelock

from pywalk.errors import UsageError

METADATA = "pywalk-source.json"  # what an entry holds and where it came from

Progress = Callable[[str], object]


def cache_root() -> pathlib.Path:
    """The pywalk cache directory ($PYWALK_CACHE or ~/.cache/pywalk), created on demand."""
    root = pathlib.Path(os.environ.get("PYWALK_CACHE") or "~/.cache/pywalk").expanduser()
    if root in _checked:
        return root
    try:
        root.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=root).close()    # writable, even for root on a read-only fs
    except OSError as e:
        raise UsageError(f"pywalk: the cache {root} is not usable ({e.strerror or e}); "
                         "set PYWALK_CACHE to a writable directory") from None
    _checked.add(root)
    return root


_checked: set[pathlib.Path] = set()


def src_dir() -> pathlib.Path:
    """Where unpacked kernel trees live."""
    src = cache_root() / "src"
    src.mkdir(exist_ok=True)
    return src


@contextlib.contextmanager
def locked(name: str, progress: Progress, what: str = "unpack"):
    """Hold the cache lock ``name``; say so if another process holds it."""
    locks = cache_root() / "locks"
    locks.mkdir(exist_ok=True)
    lock = filelock.FileLock(locks / f"{name}.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        progress(f"pywalk: waiting for another pywalk process to {what} {name}")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def work_dir(name: str):
    """A scratch directory in the cache for building entry ``name`` (call with its lock held).

    Leftovers of an earlier, interrupted attempt are removed first."""
    src = src_dir()
    for stale in src.glob(f".work-{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=src, prefix=f".work-{name}-") as work:
        yield pathlib.Path(work)


def read_metadata(entry: pathlib.Path) -> dict | None:
    """The metadata of a cache entry, or None if it has none (incomplete or foreign)."""
    try:
        return json.loads((entry / METADATA).read_text())
    except (OSError, ValueError):
        return None


def make_read_only(tree: pathlib.Path) -> None:
    """chmod a-w every file below ``tree`` (directories stay writable so the cache can be removed)."""
    for dirpath, _dirnames, filenames in os.walk(tree):
        for filename in filenames:
            path = os.path.join(dirpath, filename)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & ~0o222)


def install(tree: pathlib.Path, name: str, meta: dict) -> pathlib.Path:
    """Record ``meta`` in ``tree``, make it read-only and rename it atomically to src/<name>."""
    (tree / METADATA).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    make_read_only(tree)
    final = src_dir() / name
    if final.exists():  # an incomplete or outdated entry; we hold its lock
        shutil.rmtree(final)
    os.rename(tree, final)
    return final


def write_json(path: pathlib.Path, data) -> None:
    """Write JSON atomically (a temporary file renamed over ``path``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def sha256(path: pathlib.Path) -> str:
    """sha256 of a file, remembered per (path, size, mtime) within the process."""
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256_cached(path: str, _size: int, _mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()
