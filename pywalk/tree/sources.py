# SPDX-License-Identifier: GPL-2.0-only
"""Kernel source provider: find, fetch and unpack the Linux tree pywalk builds from.

A kernel is named by ``resolve(spec)``:

* ``None`` or a series name ("6.1", "7.3"): Debian's ``linux-source-<series>``
  package (debian.py), its ``NEEDED`` subset unpacked into the cache; the
  cached unpack is used as is, else the newest version the archive has is
  fetched through pywalk's private apt state (apt_state.py).
* ``SERIES=VERSION`` ("6.1=6.1.176-1"): that exact package version, cached or
  downloaded while the archive still has it.
* a directory: a user's kernel tree, read in place and never written to.
* a tarball (linux-*.tar.xz, .tar.gz, .tgz, or any tarball whose top directory
  holds a kernel tree): the ``NEEDED`` subset is unpacked into the cache, keyed
  by the tarball's sha256, and reused next time.

Cache layout (``cache_root()`` is $PYWALK_CACHE or ~/.cache/pywalk)::

    src/debian-linux-source-6.1-<package version>/  Makefile mm/ include/ arch/x86/include/
                                                    pywalk-source.json (origin, subset, sha256)
    src/tarball-linux-6.9.3-<sha256[:16]>/          ...
    apt/                                            the private apt state, kept .debs
    locks/<name>.lock                               one filelock per cache entry
"""

import os
import pathlib
import re
import sys
import tarfile

from pywalk.errors import FetchError, SourceError
from pywalk.tree import apt_sources, apt_state, cache, debian, kernel
from pywalk.tree.cache import METADATA, cache_root  # noqa: F401 (public)
from pywalk.tree.kernel import (  # noqa: F401 (public)
    NEEDED, REQUIRED_FILES, KernelSource, parse_version, validate_tree)

DEFAULT_KERNEL = "6.1"
SERIES = tuple(apt_sources.SERIES_SUITES)  # the series pywalk knows where Debian ships
TARBALL_SUFFIXES = (".tar.xz", ".tar.gz", ".tgz")

Progress = cache.Progress


def is_series(spec) -> bool:
    """Whether ``spec`` names a Debian series ("7.3") or pinned package ("6.1=6.1.176-1")."""
    return isinstance(spec, str) and debian.parse_spec(spec) is not None


# --------------------------------------------------------------------------
# Tarballs


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
    sha256 = cache.sha256(tarball)
    name = f"tarball-{_tarball_stem(tarball)}-{sha256[:16]}"
    origin = f"tarball:{tarball}"
    entry = cache.src_dir() / name
    if cached := kernel.load_entry(entry, origin):
        return cached
    with cache.locked(name, progress):
        if cached := kernel.load_entry(entry, origin):
            return cached
        with cache.work_dir(name) as work:
            tree, version = kernel.unpack_tarball(tarball, work, label, progress)
            meta = {"origin": origin, "tarball": str(tarball), "sha256": sha256,
                    "kernel_version": version, "package": None, "package_version": None}
            return kernel.install_entry(tree, name, meta)


# --------------------------------------------------------------------------
# Public entry points


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def resolve(spec: str | os.PathLike | None = None, *, fetch: bool = True,
            progress: Progress = _stderr) -> KernelSource:
    """The kernel source named by ``spec`` (see the module docstring).

    A series is taken from the cache, or else unpacked from an installed
    /usr/src tarball, or else downloaded if ``fetch`` (with ``fetch=False`` an
    uncached, uninstalled series is a FetchError); progress goes to stderr.
    Errors are one-line SourceError / FetchError."""
    if spec is None:
        spec = DEFAULT_KERNEL
    if is_series(spec):
        series, pin = debian.parse_spec(spec)
        return debian.source(series, pin, allow_fetch=fetch, progress=progress)
    text = os.fspath(spec)
    label = f"--kernel {text}"
    path = pathlib.Path(text).expanduser()
    if path.is_dir():
        return KernelSource(root=path.resolve(), version=validate_tree(path, label),
                            origin=f"tree:{path.resolve()}")
    if path.is_file():
        return _from_tarball(path, label, progress)
    if isinstance(spec, str) and re.fullmatch(r"[\d.]+(=.*)?", spec):
        raise SourceError(f"pywalk: {label}: not a kernel series (SERIES or SERIES=VERSION, "
                          f"e.g. {DEFAULT_KERNEL} or 7.3; see pywalk kernels) nor a path to a "
                          "kernel tree or tarball")
    raise SourceError(f"pywalk: {label}: no such file or directory")


def fetch(spec: str = DEFAULT_KERNEL, *, progress: Progress = print) -> KernelSource:
    """Make sure Debian's linux-source-<series> (newest, or SERIES=VERSION) is in the cache.

    Without a pin the package lists are refreshed when a day old and the
    newest version is fetched unless it is cached already."""
    parsed = debian.parse_spec(spec) if isinstance(spec, str) else None
    if parsed is None:
        raise SourceError(f"pywalk: {spec}: not a kernel series (SERIES or SERIES=VERSION, "
                          f"e.g. {DEFAULT_KERNEL} or 7.3)")
    series, pin = parsed
    return debian.source(series, pin, newest=True, progress=progress)


def _series_key(series: str) -> tuple[int, ...]:
    return tuple(int(n) for n in series.split("."))


def list_kernels(progress: Progress = _stderr, *,
                 refresh: bool = False) -> tuple[list[dict], str | None]:
    """(rows, warning) for `pywalk kernels`: one row per series that the archive offers
    or the cache holds (newest version offered, versions cached), then cached tarballs.

    ``warning`` says why the archive could not be read (the rows then show the cache)."""
    warning = None
    try:
        index = apt_state.index(progress, refresh=refresh)
    except (SourceError, FetchError) as e:  # no apt, no mirror, no network
        index, warning = {"packages": {}}, str(e)
    series = set(debian.fetchable_series(index))
    for entry in cache.src_dir().glob("debian-linux-source-*"):
        match = apt_state.PACKAGE.match((cache.read_metadata(entry) or {}).get("package") or "")
        series.update([match.group(1)] if match else [])
    rows = []
    for name in sorted(series, key=_series_key):
        package = debian.package_name(name)
        have = debian.cached(package)
        offered = sorted(index["packages"].get(package, []),
                         key=lambda v: debian.version_key(v["version"]))
        newest = offered[-1] if offered else {}
        rows.append({"name": name, "package": package, "newest": newest.get("version"),
                     "suite": newest.get("suite"), "cached": bool(have),
                     "cached_versions": [s.package_version for s in have],
                     "version": have[-1].version if have else None,
                     "path": str(have[-1].root) if have else None,
                     "origin": have[-1].origin if have else None})
    for entry in sorted(cache.src_dir().glob("tarball-*")):
        if source := kernel.load_entry(entry):
            rows.append({"name": pathlib.Path(cache.read_metadata(entry)["tarball"]).name,
                         "package": None, "newest": None, "suite": None, "cached": True,
                         "cached_versions": [], "version": source.version,
                         "path": str(source.root), "origin": source.origin})
    return rows, warning
