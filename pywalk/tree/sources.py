# SPDX-License-Identifier: GPL-2.0-only
"""Kernel source provider: find, fetch and unpack the Linux tree pywalk builds from.

A kernel is named by ``resolve(spec)``:

* ``None`` or a series name ("6.1", "6.12"): Debian's ``linux-source-<series>``
  package, unpacked (only the ``NEEDED`` subset) into the cache.  An installed
  ``/usr/src/linux-source-<series>.tar.xz`` is reused; otherwise the .deb is
  fetched with ``apt-get download`` (never ``apt-get install``).
* a directory: a user's kernel tree, read in place and never written to.
* a tarball (linux-*.tar.xz, .tar.gz, .tgz, or any tarball whose top directory
  holds a kernel tree): the ``NEEDED`` subset is unpacked into the cache, keyed
  by the tarball's sha256, and reused next time.

Cache layout (``cache_root()`` is $PYWALK_CACHE or ~/.cache/pywalk)::

    src/debian-linux-source-6.1-6.1.192-2/   Makefile mm/ include/ arch/x86/include/
                                             pywalk-source.json
    src/tarball-linux-6.9.3-<sha256[:16]>/   ...
    locks/<name>.lock                        one filelock per cache entry

An entry is unpacked into a ``src/.work-<name>-*`` temporary directory and
renamed into place atomically once complete, under the entry's lock, so
concurrent processes (pytest-xdist workers) wait for each other and reuse the
result.  Unpacked files are made read-only.
"""

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from typing import Callable

import filelock

from pywalk.errors import FetchError, SourceError

DEFAULT_KERNEL = "6.1"
KNOWN_SERIES = {"6.1": "linux-source-6.1", "6.12": "linux-source-6.12"}
NEEDED = ("Makefile", "mm", "include", "arch/x86/include",
          "fs/proc", "drivers/dax", "drivers/vfio/pci")  # subset of a tree the builds use

REQUIRED_FILES = (
    "mm/pagewalk.c",
    "mm/memory.c",
    "mm/huge_memory.c",
    "include/linux/pgtable.h",
    "include/linux/mm.h",
    "include/linux/huge_mm.h",
    "include/linux/pagewalk.h",
)
METADATA = "pywalk-source.json"
USR_SRC = pathlib.Path("/usr/src")  # where Debian's linux-source-* packages put their tarball
TARBALL_SUFFIXES = (".tar.xz", ".tar.gz", ".tgz")

Progress = Callable[[str], object]

_MAKE_VARS = re.compile(
    r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*=[ \t]*(\S*)[ \t]*$", re.MULTILINE
)
_NOT_A_TREE = "is not a Linux kernel source tree (no Makefile with VERSION/PATCHLEVEL, mm/ or include/linux/)"


def cache_root() -> pathlib.Path:
    """The pywalk cache directory ($PYWALK_CACHE or ~/.cache/pywalk), created on demand."""
    root = pathlib.Path(os.environ.get("PYWALK_CACHE") or "~/.cache/pywalk").expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclasses.dataclass(frozen=True)
class KernelSource:
    """A validated kernel tree; pywalk only ever reads from it."""

    root: pathlib.Path
    version: str
    origin: str
    package_version: str | None = None

    def path(self, relpath: str) -> pathlib.Path:
        """Absolute path of ``relpath`` inside the tree."""
        rel = pathlib.PurePosixPath(relpath)
        if rel.is_absolute() or ".." in rel.parts:
            raise ValueError(f"not a path inside the kernel tree: {relpath!r}")
        return self.root / rel

    def has(self, relpath: str) -> bool:
        """Whether the tree holds ``relpath`` (file or directory)."""
        return self.path(relpath).exists()

    def read(self, relpath: str) -> str:
        """Text of a file of the tree; SourceError if it is missing."""
        try:
            return self.path(relpath).read_text(encoding="utf-8", errors="surrogateescape")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise SourceError(f"pywalk: kernel source {self.origin} lacks {relpath}") from None


# --------------------------------------------------------------------------
# Validation


def parse_version(makefile_text: str) -> str | None:
    """Kernel version from a top-level Makefile, as the kernel itself spells it
    (VERSION.PATCHLEVEL.SUBLEVEL + EXTRAVERSION), or None if VERSION/PATCHLEVEL
    are missing."""
    values: dict[str, str] = {}
    for name, value in _MAKE_VARS.findall(makefile_text):
        values.setdefault(name, value)
    if not values.get("VERSION") or not values.get("PATCHLEVEL"):
        return None
    version = f"{values['VERSION']}.{values['PATCHLEVEL']}"
    if values.get("SUBLEVEL"):
        version += f".{values['SUBLEVEL']}"
    return version + values.get("EXTRAVERSION", "")


def _tree_version(root: pathlib.Path) -> str | None:
    """Version of the kernel tree at ``root``, or None if it does not look like one."""
    try:
        version = parse_version((root / "Makefile").read_text(errors="replace"))
    except OSError:
        return None
    if version and (root / "mm").is_dir() and (root / "include/linux").is_dir():
        return version
    return None


def validate_tree(root: pathlib.Path, label: str) -> str:
    """Check that ``root`` is a kernel tree with the files pywalk builds; return its version.

    ``label`` names the tree in error messages (e.g. "--kernel /x")."""
    version = _tree_version(root)
    if version is None:
        raise SourceError(f"pywalk: {label} {_NOT_A_TREE}")
    missing = [rel for rel in REQUIRED_FILES if not (root / rel).is_file()]
    if missing:
        raise SourceError(f"pywalk: {label} lacks {', '.join(missing)}")
    return version


# --------------------------------------------------------------------------
# Cache entries


def _src_dir() -> pathlib.Path:
    src = cache_root() / "src"
    src.mkdir(exist_ok=True)
    return src


@contextlib.contextmanager
def _locked(name: str, progress: Progress):
    """Hold the cache lock for entry ``name``; say so if another process holds it."""
    locks = cache_root() / "locks"
    locks.mkdir(exist_ok=True)
    lock = filelock.FileLock(locks / f"{name}.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        progress(f"pywalk: waiting for another pywalk process to unpack {name}")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()


@contextlib.contextmanager
def _work_dir(name: str):
    """A scratch directory in the cache for building entry ``name`` (call with its lock held).

    Leftovers of an earlier, interrupted attempt are removed first."""
    src = _src_dir()
    for stale in src.glob(f".work-{name}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    with tempfile.TemporaryDirectory(dir=src, prefix=f".work-{name}-") as work:
        yield pathlib.Path(work)


def _read_metadata(entry: pathlib.Path) -> dict | None:
    try:
        return json.loads((entry / METADATA).read_text())
    except (OSError, ValueError):
        return None


def _load_entry(entry: pathlib.Path, origin: str | None = None) -> KernelSource | None:
    """The KernelSource of a complete cache entry, or None if there is none at ``entry``.

    An entry unpacked with a different NEEDED subset counts as absent (it gets replaced)."""
    meta = _read_metadata(entry)
    current = meta is not None and meta.get("needed") == list(NEEDED)
    version = _tree_version(entry) if current else None
    if version is None:
        return None
    return KernelSource(
        root=entry,
        version=version,
        origin=origin or meta["origin"],
        package_version=meta.get("package_version"),
    )


def _make_read_only(tree: pathlib.Path) -> None:
    """chmod a-w every file below ``tree`` (directories stay writable so the cache can be removed)."""
    for dirpath, _dirnames, filenames in os.walk(tree):
        for filename in filenames:
            path = os.path.join(dirpath, filename)
            if not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode & ~0o222)


def _install(tree: pathlib.Path, name: str, meta: dict) -> KernelSource:
    """Record ``meta`` in ``tree``, make it read-only and rename it atomically to src/<name>."""
    meta = {**meta, "needed": list(NEEDED)}
    (tree / METADATA).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    _make_read_only(tree)
    final = _src_dir() / name
    if final.exists():  # an incomplete or outdated entry; we hold its lock
        shutil.rmtree(final)
    os.rename(tree, final)
    return _load_entry(final)


def _sha256(path: pathlib.Path) -> str:
    stat = path.stat()
    return _sha256_cached(str(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _sha256_cached(path: str, _size: int, _mtime_ns: int) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


# --------------------------------------------------------------------------
# Tarballs


def _tar_failure(stderr: str) -> str | None:
    """The first real error in tar's stderr; patterns that matched nothing do not count."""
    for line in stderr.splitlines():
        if "Not found in archive" in line or "Exiting with failure status" in line:
            continue
        if line.strip():
            return line.strip()
    return None


def _unpack_tarball(tarball: pathlib.Path, work: pathlib.Path, label: str,
                    progress: Progress) -> tuple[pathlib.Path, str]:
    """Extract the NEEDED subset of ``tarball`` below ``work``.

    Returns the kernel tree found in the tarball's top directory and its version."""
    if shutil.which("tar") is None:
        raise SourceError(f"pywalk: {label}: cannot unpack: tar not found")
    out = work / "unpack"
    out.mkdir()
    progress(f"pywalk: unpacking {', '.join(NEEDED)} from {tarball.name}")
    patterns = [f"*/{member}" for member in NEEDED]
    proc = subprocess.run(
        ["tar", "-x", "-f", str(tarball), "-C", str(out), "--no-same-owner",
         "--warning=no-timestamp", "--wildcards", "--no-wildcards-match-slash", *patterns],
        capture_output=True, text=True, errors="replace",
    )
    if proc.returncode != 0 and (error := _tar_failure(proc.stderr)):
        raise SourceError(f"pywalk: {label}: cannot unpack: {error}")
    for top in sorted(out.iterdir()):
        if _tree_version(top):
            return top, validate_tree(top, label)
    raise SourceError(f"pywalk: {label} {_NOT_A_TREE}")


def _tarball_stem(path: pathlib.Path) -> str:
    """File name without its tar suffixes, safe as a directory name."""
    name = path.name
    for suffix in TARBALL_SUFFIXES + (".tar.bz2", ".tar.zst", ".tar"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return re.sub(r"[^A-Za-z0-9._+-]", "_", name) or "kernel"


def _from_tarball(tarball: pathlib.Path, label: str, progress: Progress) -> KernelSource:
    """Kernel from a tarball: its NEEDED subset, unpacked once into the cache."""
    if not tarball.name.endswith(TARBALL_SUFFIXES) and not tarfile.is_tarfile(tarball):
        raise SourceError(f"pywalk: {label} is neither a directory nor a tarball")
    tarball = tarball.resolve()
    sha256 = _sha256(tarball)
    name = f"tarball-{_tarball_stem(tarball)}-{sha256[:16]}"
    origin = f"tarball:{tarball}"
    entry = _src_dir() / name
    if cached := _load_entry(entry, origin):
        return cached
    with _locked(name, progress):
        if cached := _load_entry(entry, origin):
            return cached
        with _work_dir(name) as work:
            tree, version = _unpack_tarball(tarball, work, label, progress)
            meta = {"origin": origin, "tarball": str(tarball), "sha256": sha256,
                    "kernel_version": version, "package": None, "package_version": None}
            return _install(tree, name, meta)


# --------------------------------------------------------------------------
# Debian linux-source packages


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, errors="replace", **kwargs)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def _dpkg_version(package: str) -> str | None:
    """Installed version of ``package`` according to dpkg, or None."""
    if shutil.which("dpkg-query") is None:
        return None
    proc = _run(["dpkg-query", "-W", "-f=${Version}", package])
    if proc.returncode != 0:
        return None
    return proc.stdout.strip() or None


def _installed_tarball(package: str) -> tuple[pathlib.Path, str | None] | None:
    """(tarball, package version) of an installed linux-source package, or None."""
    tarball = USR_SRC / f"{package}.tar.xz"
    return (tarball, _dpkg_version(package)) if tarball.is_file() else None


def _apt_download(package: str, work: pathlib.Path, progress: Progress) -> pathlib.Path:
    """``apt-get download`` the package's .deb into ``work``; `apt-get update` once if needed."""
    if shutil.which("apt-get") is None:
        raise FetchError(f"pywalk: cannot fetch {package}: apt-get not found; "
                         "pass --kernel PATH to a kernel tree or tarball")
    progress(f"pywalk: downloading {package} (apt-get download)")
    proc = _run(["apt-get", "download", package], cwd=work)
    if proc.returncode != 0 and re.search(
            r"Unable to locate package|has no installation candidate", proc.stdout + proc.stderr):
        progress("pywalk: package lists are empty or stale: running apt-get update")
        update = _run(["apt-get", "update"])
        if update.returncode != 0:
            raise FetchError(f"pywalk: cannot fetch {package}: apt-get update failed: "
                             f"{_last_line(update.stderr or update.stdout)}")
        proc = _run(["apt-get", "download", package], cwd=work)
    debs = sorted(work.glob(f"{package}_*.deb"))
    if proc.returncode != 0 or not debs:
        raise FetchError(f"pywalk: cannot fetch {package}: apt-get download failed: "
                         f"{_last_line(proc.stderr or proc.stdout)}")
    return debs[0]


def _extract_deb(deb: pathlib.Path, work: pathlib.Path, package: str) -> tuple[pathlib.Path, str]:
    """(source tarball, package version) from a downloaded linux-source .deb."""
    for argv in (["dpkg-deb", "-x", str(deb), str(work / "deb")],
                 ["dpkg-deb", "-f", str(deb), "Version"]):
        proc = _run(argv)
        if proc.returncode != 0:
            raise FetchError(f"pywalk: cannot fetch {package}: {' '.join(argv[:2])} "
                             f"{deb.name} failed: {_last_line(proc.stderr)}")
    tarball = work / "deb" / USR_SRC.relative_to("/") / f"{package}.tar.xz"
    if not tarball.is_file():
        raise FetchError(f"pywalk: cannot fetch {package}: {deb.name} holds no {tarball.name}")
    return tarball, proc.stdout.strip()


def _debian_entries(package: str) -> list[KernelSource]:
    """Cached unpacks of ``package``, newest kernel version last."""
    entries = []
    for entry in _src_dir().glob(f"debian-{package}-*"):
        meta = _read_metadata(entry)
        if meta and meta.get("package") == package and (source := _load_entry(entry)):
            entries.append(source)
    return sorted(entries, key=lambda s: (_version_key(s.version), s.package_version or ""))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


def _cached_debian(package: str, package_version: str | None) -> KernelSource | None:
    """The cached unpack of ``package``: of that package version if given, else the newest."""
    entries = _debian_entries(package)
    if package_version is not None:
        entries = [s for s in entries if s.package_version == package_version]
    return entries[-1] if entries else None


def _debian_source(series: str, *, allow_fetch: bool, progress: Progress) -> KernelSource:
    """Kernel from Debian's linux-source-<series>, from the cache or unpacked into it."""
    package = KNOWN_SERIES[series]
    installed = _installed_tarball(package)
    wanted = installed[1] if installed else None
    if cached := _cached_debian(package, wanted):
        return cached
    if not allow_fetch and not installed:
        raise FetchError(f"pywalk: {package} is not in the cache {_src_dir()} and fetching is "
                         "disabled; pass --kernel PATH to a kernel tree or tarball")
    name = f"debian-{package}"
    with _locked(name, progress), _work_dir(name) as work:
        if cached := _cached_debian(package, wanted):
            return cached
        if installed:
            tarball, package_version = installed
            tarball_name = str(tarball)
        else:
            deb = _apt_download(package, work, progress)
            tarball, package_version = _extract_deb(deb, work, package)
            tarball_name = f"{deb.name}:{USR_SRC / tarball.name}"
        tree, version = _unpack_tarball(tarball, work, package, progress)
        origin = f"debian:{package}" + (f"={package_version}" if package_version else "")
        meta = {"origin": origin, "package": package, "package_version": package_version,
                "kernel_version": version, "tarball": tarball_name, "sha256": _sha256(tarball)}
        return _install(tree, f"debian-{package}-{package_version or version}", meta)


# --------------------------------------------------------------------------
# Public entry points


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve(spec: str | os.PathLike | None = None, *, fetch: bool = True) -> KernelSource:
    """The kernel source named by ``spec`` (see the module docstring).

    A series name is taken from the cache, or else unpacked from an installed
    /usr/src tarball, or else downloaded if ``fetch`` (with ``fetch=False`` an
    uncached, uninstalled series is a FetchError); progress goes to stderr.  Errors are one-line SourceError / FetchError."""
    if spec is None:
        spec = DEFAULT_KERNEL
    if isinstance(spec, str) and spec in KNOWN_SERIES:
        return _debian_source(spec, allow_fetch=fetch, progress=_stderr)
    text = os.fspath(spec)
    label = f"--kernel {text}"
    path = pathlib.Path(text).expanduser()
    if path.is_dir():
        return KernelSource(root=path.resolve(), version=validate_tree(path, label),
                            origin=f"tree:{path.resolve()}", package_version=None)
    if path.is_file():
        return _from_tarball(path, label, _stderr)
    if isinstance(spec, str) and re.fullmatch(r"\d+\.\d+(\.\d+)?", spec):
        raise SourceError(f"pywalk: {label}: unknown kernel series; known: "
                          f"{', '.join(KNOWN_SERIES)} (or pass a path to a kernel tree or tarball)")
    raise SourceError(f"pywalk: {label}: no such file or directory")


def fetch(series: str = DEFAULT_KERNEL, *, progress: Progress = print) -> KernelSource:
    """Download (if needed) and unpack Debian's linux-source-<series> into the cache.

    Idempotent: a cached unpack is returned as is."""
    if series not in KNOWN_SERIES:
        raise SourceError(f"pywalk: unknown kernel series {series}; known: {', '.join(KNOWN_SERIES)}")
    return _debian_source(series, allow_fetch=True, progress=progress)


def list_kernels() -> list[dict]:
    """The known series (cached or not) and every cached tarball unpack, for `pywalk kernels`."""
    rows = []
    for series, package in KNOWN_SERIES.items():
        installed = _installed_tarball(package)
        source = _cached_debian(package, installed[1] if installed else None)
        rows.append({
            "name": series,
            "package": package,
            "cached": source is not None,
            "version": source.version if source else None,
            "path": str(source.root) if source else None,
            "origin": source.origin if source else None,
            "package_version": source.package_version if source else None,
        })
    for entry in sorted(_src_dir().glob("tarball-*")):
        if source := _load_entry(entry):
            rows.append({
                "name": pathlib.Path(_read_metadata(entry)["tarball"]).name,
                "package": None,
                "cached": True,
                "version": source.version,
                "path": str(source.root),
                "origin": source.origin,
                "package_version": None,
            })
    return rows
