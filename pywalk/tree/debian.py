# SPDX-License-Identifier: GPL-2.0-only
"""Debian's linux-source-<series> packages, unpacked into the cache.

A series is taken, in this order, from: an installed
``/usr/src/linux-source-<series>.tar.xz`` (unless a pin names another
version); the cache (the pinned version, else the newest cached one: no
network); the .deb kept from an earlier download (when ``NEEDED`` grew); or
``apt-get download`` through pywalk's private apt state (apt_state.py).

Cache entries are ``src/debian-linux-source-<series>-<package version>/``;
the .deb stays in ``apt/debs/`` so a larger ``NEEDED`` is unpacked offline.
"""

import pathlib
import re
import shutil
import subprocess
import time

from debian import debian_support

from pywalk.errors import FetchError, SourceError
from pywalk.tree import apt_state, cache, kernel
from pywalk.tree.kernel import KernelSource

USR_SRC = pathlib.Path("/usr/src")  # where Debian's linux-source-* packages put their tarball
SERIES = re.compile(r"^(\d+\.\d+)(?:=(\S+))?$")  # "7.3" or "6.1=6.1.176-1"


def package_name(series: str) -> str:
    return f"linux-source-{series}"


# --------------------------------------------------------------------------
# Debian version order: python-debian's, dpkg's rules (the epoch ends at the
# first colon; the upstream version may hold more)


def compare_versions(a: str, b: str) -> int:
    """<0, 0, >0 as Debian package version a sorts before, with, after b;
    ValueError for a string that is no Debian version."""
    return debian_support.version_compare(a, b)


version_key = debian_support.Version    # a sort key: Versions compare as dpkg does


# --------------------------------------------------------------------------
# What is here already


def _dpkg_version(package: str) -> str | None:
    """Installed version of ``package`` according to dpkg, or None."""
    if shutil.which("dpkg-query") is None:
        return None
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package],
                          capture_output=True, text=True, errors="replace")
    return (proc.stdout.strip() or None) if proc.returncode == 0 else None


def installed_tarball(package: str) -> tuple[pathlib.Path, str | None] | None:
    """(tarball, package version) of an installed linux-source package, or None."""
    tarball = USR_SRC / f"{package}.tar.xz"
    return (tarball, _dpkg_version(package)) if tarball.is_file() else None


def cached(package: str) -> list[KernelSource]:
    """Cached unpacks of ``package`` holding NEEDED, newest package version last."""
    found = []
    for entry in cache.src_dir().glob(f"debian-{package}-*"):
        meta = cache.read_metadata(entry)
        if meta and meta.get("package") == package and (source := kernel.load_entry(entry)):
            found.append(source)
    return sorted(found, key=lambda s: version_key(s.package_version or s.version))


def _outgrown(package: str) -> list[str]:
    """Package versions of cache entries that lack part of NEEDED, newest last."""
    versions = []
    for entry in cache.src_dir().glob(f"debian-{package}-*"):
        meta = cache.read_metadata(entry)
        if meta and meta.get("package") == package and meta.get("package_version") \
                and not kernel.holds_needed(meta.get("needed")):
            versions.append(meta["package_version"])
    return sorted(versions, key=version_key)


def _pick(sources: list[KernelSource], version: str | None) -> KernelSource | None:
    if version is not None:
        sources = [s for s in sources if s.package_version == version]
    return sources[-1] if sources else None


def _kept_deb(package: str, version: str) -> pathlib.Path | None:
    for deb in apt_state.deb_dir().glob(f"{package}_*.deb"):
        if apt_state.deb_version(deb) == version:
            return deb
    return None


# --------------------------------------------------------------------------
# Getting a package


def available(package: str, index: dict) -> list[str]:
    """Versions of ``package`` in the package lists' index, newest first."""
    return sorted((v["version"] for v in index["packages"].get(package, [])),
                  key=version_key, reverse=True)


def fetchable_series(index: dict) -> list[str]:
    names = (apt_state.PACKAGE.match(p) for p in index["packages"])
    return sorted((m.group(1) for m in names if m), key=lambda s: tuple(map(int, s.split("."))))


def _choose(package: str, pin: str | None, progress: cache.Progress) -> str:
    """The version to download: ``pin`` if the archive has it, else the newest."""
    index = apt_state.index(progress)
    for attempt in (0, 1):
        versions = available(package, index)
        if versions and (pin is None or pin in versions):
            return pin or versions[0]
        if attempt == 0 and not _just_updated(index):
            index = apt_state.index(progress, refresh=True)  # a miss: the lists may be stale
    if not versions:
        series = ", ".join(fetchable_series(index)) or "none"
        raise SourceError(f"pywalk: Debian has no {package} in the suites pywalk reads "
                          f"(fetchable series: {series}); pass --kernel PATH to a kernel tree "
                          "or tarball")
    raise FetchError(f"pywalk: {package} {pin} is not in the archive (it has "
                     f"{', '.join(versions)})")


def _just_updated(index: dict) -> bool:
    return time.time() - index.get("updated", 0) < 60


def _unpack(package: str, version: str | None, tarball: pathlib.Path, label: str,
            work: pathlib.Path, progress: cache.Progress, **extra) -> KernelSource:
    tree, kversion = kernel.unpack_tarball(tarball, work, package, progress)
    origin = f"debian:{package}" + (f"={version}" if version else "")
    digest = cache.sha256(tarball)
    meta = {"origin": origin, "package": package, "package_version": version,
            "kernel_version": kversion, "tarball": label, "tarball_sha256": digest,
            "sha256": digest, **extra}
    return kernel.install_entry(tree, f"debian-{package}-{version or kversion}", meta)


def _unpack_deb(deb: pathlib.Path, package: str, version: str, work: pathlib.Path,
                progress: cache.Progress) -> KernelSource:
    """Unpack NEEDED of the linux-source tarball inside a .deb; the entry records the .deb."""
    proc = subprocess.run(["dpkg-deb", "-x", str(deb), str(work / "deb")],
                          capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        raise FetchError(f"pywalk: cannot fetch {package}: dpkg-deb -x {deb.name} failed: "
                         f"{apt_state.last_line(proc.stderr)}")
    tarball = work / "deb/usr/src" / f"{package}.tar.xz"  # where the package puts it
    if not tarball.is_file():
        raise FetchError(f"pywalk: cannot fetch {package}: {deb.name} holds no {tarball.name}")
    return _unpack(package, version, tarball, f"{deb.name}:/usr/src/{tarball.name}", work,
                   progress, deb=str(deb), sha256=cache.sha256(deb))


def _version_to_fetch(package: str, want: str | None, redo: str | None,
                      progress: cache.Progress) -> str | KernelSource:
    """The version to download; a cached tree instead when the archive cannot be read
    and nothing in particular was asked for."""
    try:
        if redo and want is None:
            try:
                return _choose(package, redo, progress)  # unpack the same version again
            except FetchError:
                pass                                     # gone from the archive: the newest
        return _choose(package, want, progress)
    except FetchError as e:
        if want is None and (hit := _pick(cached(package), None)):
            progress(f"{e}; using the cached {hit.origin}")
            return hit
        raise


def source(series: str, pin: str | None = None, *, allow_fetch: bool = True,
           newest: bool = False, progress: cache.Progress) -> KernelSource:
    """Debian's linux-source-<series>.

    ``pin``'s version if given; else the installed one; else (unless ``newest``)
    the newest cached one; else the newest the archive has.  Only the last
    needs the package lists, and only a missing .deb needs the network."""
    package = package_name(series)
    installed = installed_tarball(package)
    if installed and pin not in (None, installed[1]):
        installed = None
    want = pin or (installed[1] if installed else None)
    if (want or not newest) and (hit := _pick(cached(package), want)):
        return hit
    name = f"debian-{package}"
    with cache.locked(name, progress), cache.work_dir(name) as work:
        if (want or not newest) and (hit := _pick(cached(package), want)):
            return hit  # another process unpacked it meanwhile
        if installed:
            return _unpack(package, installed[1], installed[0], str(installed[0]), work, progress)
        redo = None if newest else next(
            (v for v in reversed(_outgrown(package)) if want in (None, v)), None)
        if redo and (deb := _kept_deb(package, redo)):  # NEEDED grew: unpack again, offline
            return _unpack_deb(deb, package, redo, work, progress)
        if not allow_fetch:
            raise FetchError(f"pywalk: {package} is not in the cache {cache.src_dir()} and "
                             "fetching is disabled; pass --kernel PATH to a kernel tree or tarball")
        version = _version_to_fetch(package, want, redo, progress)
        if isinstance(version, KernelSource):
            return version
        if hit := _pick(cached(package), version):
            return hit
        deb = apt_state.download(package, version, progress)
        return _unpack_deb(deb, package, version, work, progress)


def parse_spec(spec: str) -> tuple[str, str | None] | None:
    """("7.3", None) for "7.3", ("6.1", "6.1.176-1") for "6.1=6.1.176-1", else None."""
    match = SERIES.match(spec)
    return (match.group(1), match.group(2)) if match else None
