# SPDX-License-Identifier: GPL-2.0-only
"""pywalk's private apt state: package lists of the suites that carry kernel sources.

It lives in the cache (``$PYWALK_CACHE/apt``) and is driven with ``apt-get`` /
``apt-cache`` options that point every list, cache and source file there, so
no root is needed and nothing of the machine's apt changes::

    apt/etc/sources.list.d/pywalk.sources   the machine's Debian mirrors + SERIES_SUITES
    apt/lists/                              package lists (apt-get update)
    apt/debs/                               downloaded linux-source .debs, kept
    apt/kernels.json                        the linux-source-X.Y versions the lists offer

The lists are refreshed when they are older than ``MAX_AGE`` seconds, when the
source list changed, or when a wanted version is missing; never merely to use
a tree that is already cached.
"""

import hashlib
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

from pywalk.errors import FetchError
from pywalk.tree import apt_sources, cache

ETC_APT = pathlib.Path("/etc/apt")  # the machine's apt configuration (read only)
MAX_AGE = 24 * 3600                 # refresh package lists older than a day
PACKAGE = re.compile(r"^linux-source-(\d+\.\d+)$")
APT_OPTIONS = {                     # besides the private Dir:: settings
    "Dir::Cache::pkgcache": "",     # no 70 MB binary caches: the lists are read once
    "Dir::Cache::srcpkgcache": "",
    "Acquire::Languages": "none",
    "Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled": "false",
}


def state_dir() -> pathlib.Path:
    return cache.cache_root() / "apt"


def deb_dir() -> pathlib.Path:
    d = state_dir() / "debs"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _index_path() -> pathlib.Path:
    return state_dir() / "kernels.json"


def _run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, errors="replace",
                          stdin=subprocess.DEVNULL, **kwargs)


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def source_list() -> str:
    """The private deb822 source list; FetchError if apt or a Debian mirror is missing."""
    if shutil.which("apt-get") is None or shutil.which("apt-cache") is None:
        raise FetchError("pywalk: cannot fetch kernel sources: apt-get not found; "
                         "pass --kernel PATH to a kernel tree or tarball")
    archive, security = apt_sources.debian_mirrors(apt_sources.read_system_sources(ETC_APT))
    if not archive and not security:
        raise FetchError(f"pywalk: cannot fetch kernel sources: no Debian mirror is configured "
                         f"in {ETC_APT}/sources.list(.d); pass --kernel PATH to a kernel tree "
                         "or tarball")
    return apt_sources.private_sources(archive, security)


def apt_options() -> list[str]:
    """The -o options that make apt-get / apt-cache use the private state only."""
    root = state_dir()
    etc = root / "etc"
    for d in (etc / "sources.list.d", etc / "preferences.d", root / "lists/partial",
              root / "cache/archives/partial"):
        d.mkdir(parents=True, exist_ok=True)
    (etc / "sources.list").touch()
    options = {
        "Dir::Etc::sourcelist": etc / "sources.list",
        "Dir::Etc::sourceparts": etc / "sources.list.d",
        "Dir::Etc::preferences": etc / "preferences",
        "Dir::Etc::preferencesparts": etc / "preferences.d",
        "Dir::State::Lists": root / "lists",
        "Dir::State::status": "/dev/null",
        "Dir::State::extended_states": root / "extended_states",
        "Dir::Cache": root / "cache",
        **APT_OPTIONS,
    }
    if os.geteuid() == 0:  # apt would drop to _apt, who cannot write into root's cache
        options["APT::Sandbox::User"] = "root"
    return [arg for k, v in options.items() for arg in ("-o", f"{k}={v}")]


def _write_sources(text: str) -> None:
    path = state_dir() / "etc/sources.list.d/pywalk.sources"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file() or path.read_text() != text:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text)
        os.replace(tmp, path)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def read_index() -> dict | None:
    """The last index of available linux-source packages, or None."""
    try:
        index = json.loads(_index_path().read_text())
    except (OSError, ValueError):
        return None
    return index if isinstance(index.get("packages"), dict) else None


def is_fresh(index: dict | None, sources_text: str) -> bool:
    return (index is not None and index.get("sources") == _digest(sources_text)
            and time.time() - index.get("updated", 0) < MAX_AGE)


def _policy(options: list[str]) -> dict[str, list[dict]]:
    """linux-source-X.Y -> [{version, uri, suite}], newest first (apt's order), from one
    ``apt-cache policy REGEX`` (one pass over the lists: they are large)."""
    proc = _run(["apt-cache", *options, "policy", "^linux-source-[0-9]+[.][0-9]+$"])
    found: dict[str, list[dict]] = {}
    versions = None
    for line in proc.stdout.splitlines():
        if not line.startswith(" "):
            name = line.rstrip(":")
            versions = found.setdefault(name, []) if PACKAGE.match(name) else None
        elif versions is None:
            continue
        elif match := re.match(r"^ (?: {4}|\*\*\* )(\S+) -?\d+$", line):
            versions.append({"version": match.group(1), "uri": "", "suite": ""})
        elif (match := re.match(r"^ {8}-?\d+ (\S+) (\S+)", line)) and versions \
                and not versions[-1]["uri"]:
            versions[-1].update(uri=match.group(1), suite=match.group(2).split("/")[0])
    return {name: v for name, v in found.items() if v}


def update(progress: cache.Progress, newer_than: float = 0.0) -> dict:
    """apt-get update the private state and index its linux-source-X.Y packages
    (unless another process did so after ``newer_than`` while we waited for the lock)."""
    text = source_list()
    with cache.locked("apt", progress, "update"):
        index = read_index()
        if index and index.get("sources") == _digest(text) and index["updated"] > newer_than:
            return index
        _write_sources(text)
        options = apt_options()
        progress("pywalk: updating the package lists of " + ", ".join(
            dict.fromkeys(s for suites in apt_sources.SERIES_SUITES.values() for s in suites))
            + f" in {state_dir()}")
        proc = _run(["apt-get", *options, "-q", "update"])
        output = proc.stdout + proc.stderr
        errors = [line for line in output.splitlines()
                  if line.startswith(("E:", "W: Failed to fetch"))]
        packages = _policy(options)
        if proc.returncode != 0 or errors:
            if not packages:
                raise FetchError("pywalk: cannot update the package lists: "
                                 f"{_apt_error(errors, proc.stdout + proc.stderr)}")
            # some suite failed: use what the lists hold
            progress(f"pywalk: warning: apt-get update: {_apt_error(errors, output)}")
        index = {"updated": time.time(), "sources": _digest(text), "packages": packages}
        cache.write_json(_index_path(), index)
        return index


def _apt_error(errors: list[str], output: str) -> str:
    """The most telling line of apt's complaints."""
    detail = [e for e in errors if not e.startswith("E: Some index files")] or errors
    return re.sub(r"^[EW]: |\s+", lambda m: " " if m.group().isspace() else "",
                  last_line(detail[0] if detail else output))


def index(progress: cache.Progress, *, refresh: bool = False) -> dict:
    """The index of available linux-source packages, refreshed if stale or ``refresh``.

    If the refresh fails (no network) and an older index exists, that one is
    used, with a warning."""
    text = source_list()
    current = read_index()
    if not refresh and is_fresh(current, text):
        return current
    try:
        return update(progress, current.get("updated", 0) if current else time.time())
    except FetchError as e:
        if current is None or current.get("sources") != _digest(text):
            raise
        age = time.strftime("%Y-%m-%d %H:%M", time.localtime(current.get("updated", 0)))
        progress(f"{e}; using the package lists of {age}")
        return current


def download(package: str, version: str, progress: cache.Progress) -> pathlib.Path:
    """``apt-get download package=version`` into the kept .deb directory; its path."""
    debs = deb_dir()
    for deb in debs.glob(f"{package}_*.deb"):
        if deb_version(deb) == version:
            return deb
    progress(f"pywalk: downloading {package} {version}")
    with tempfile.TemporaryDirectory(dir=debs, prefix=".download-") as tmp:
        work = pathlib.Path(tmp)
        proc = _run(["apt-get", *apt_options(), "-q", "download", f"{package}={version}"],
                    cwd=work)
        got = sorted(work.glob(f"{package}_*.deb"))
        if proc.returncode != 0 or not got:
            raise FetchError(f"pywalk: cannot fetch {package} {version}: apt-get download "
                             f"failed: {last_line(proc.stderr or proc.stdout)}")
        final = debs / got[0].name
        os.replace(got[0], final)
    return final


def deb_version(deb: pathlib.Path) -> str:
    """The package version a downloaded .deb's name carries (package_version_arch.deb)."""
    return deb.name.split("_")[1].replace("%3a", ":") if deb.name.count("_") == 2 else ""
