# SPDX-License-Identifier: GPL-2.0-only
"""A kernel tree: what pywalk reads from it, how it is validated and unpacked.

``NEEDED`` is the subset of a tree the builds use.  Debian packages and
tarballs are unpacked only in that part; every cache entry records the subset
it holds, and an entry that lacks part of ``NEEDED`` (because the tuple grew)
is unpacked again.  Editing ``NEEDED`` is all it takes to unpack more.
"""

import dataclasses
import pathlib
import re
import shutil
import subprocess

from pywalk.errors import SourceError
from pywalk.tree import cache

NEEDED = ("Makefile", "mm", "include", "arch/x86/include",
          "fs/proc", "drivers/dax", "drivers/vfio/pci",
          "kernel/sys.c")  # subset of a tree the builds use (sys.c: prctl(PR_SET_THP_DISABLE))

REQUIRED_FILES = (
    "mm/pagewalk.c",
    "mm/memory.c",
    "mm/huge_memory.c",
    "include/linux/pgtable.h",
    "include/linux/mm.h",
    "include/linux/huge_mm.h",
    "include/linux/pagewalk.h",
)

_MAKE_VARS = re.compile(
    r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)[ \t]*=[ \t]*(\S*)[ \t]*$", re.MULTILINE
)
NOT_A_TREE = "is not a Linux kernel source tree (no Makefile with VERSION/PATCHLEVEL, mm/ or include/linux/)"


@dataclasses.dataclass(frozen=True)
class KernelSource:
    """A validated kernel tree; pywalk only ever reads from it.

    ``package`` / ``package_version`` name the Debian package it came from
    (None for a user's tree or tarball); ``archive_sha256`` is the sha256 of
    the .deb or tarball it was unpacked from (None for a user's tree)."""

    root: pathlib.Path
    version: str
    origin: str
    package_version: str | None = None
    package: str | None = None
    archive_sha256: str | None = None

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

    def as_json(self) -> dict:
        """Where the tree came from, exactly (for reports)."""
        return {"kernel": self.version, "origin": self.origin, "package": self.package,
                "package_version": self.package_version, "archive_sha256": self.archive_sha256,
                "root": str(self.root)}


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


def tree_version(root: pathlib.Path) -> str | None:
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
    version = tree_version(root)
    if version is None:
        raise SourceError(f"pywalk: {label} {NOT_A_TREE}")
    missing = [rel for rel in REQUIRED_FILES if not (root / rel).is_file()]
    if missing:
        raise SourceError(f"pywalk: {label} lacks {', '.join(missing)}")
    return version


# --------------------------------------------------------------------------
# Cache entries holding (part of) a tree


def holds_needed(held: list[str] | None) -> bool:
    """Whether an entry that unpacked ``held`` covers every member of NEEDED."""
    if not isinstance(held, list):
        return False
    return all(any(n == h or n.startswith(h + "/") for h in held) for n in NEEDED)


def load_entry(entry: pathlib.Path, origin: str | None = None) -> KernelSource | None:
    """The KernelSource of a complete cache entry that holds NEEDED, or None.

    An entry unpacked with a smaller subset counts as absent (it gets replaced)."""
    meta = cache.read_metadata(entry)
    if meta is None or not holds_needed(meta.get("needed")):
        return None
    version = tree_version(entry)
    if version is None:
        return None
    return KernelSource(
        root=entry,
        version=version,
        origin=origin or meta["origin"],
        package_version=meta.get("package_version"),
        package=meta.get("package"),
        archive_sha256=meta.get("sha256"),
    )


def install_entry(tree: pathlib.Path, name: str, meta: dict) -> KernelSource:
    """Install an unpacked tree as cache entry src/<name>, recording the subset it holds."""
    return load_entry(cache.install(tree, name, {**meta, "needed": list(NEEDED)}))


# --------------------------------------------------------------------------
# Unpacking


def _tar_failure(stderr: str) -> str | None:
    """The first real error in tar's stderr; patterns that matched nothing do not count."""
    for line in stderr.splitlines():
        if "Not found in archive" in line or "Exiting with failure status" in line:
            continue
        if line.strip():
            return line.strip()
    return None


def unpack_tarball(tarball: pathlib.Path, work: pathlib.Path, label: str,
                   progress: cache.Progress) -> tuple[pathlib.Path, str]:
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
        if tree_version(top):
            return top, validate_tree(top, label)
    raise SourceError(f"pywalk: {label} {NOT_A_TREE}")
