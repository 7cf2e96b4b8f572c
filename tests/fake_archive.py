# SPDX-License-Identifier: GPL-2.0-only
"""Tiny fake kernel trees, tarballs and a local Debian archive (file: URIs) for tests.

The archive is real enough for apt: dists/<suite>/Release and
main/binary-<arch>/Packages listing linux-source-<series> .debs built with
dpkg-deb, served as ``file:`` mirrors marked ``Trusted: yes``.  Nothing
here depends on what Debian ships today.
"""

import email.utils
import hashlib
import pathlib
import re
import subprocess
import tarfile

from pywalk.tree.kernel import REQUIRED_FILES

MAKEFILE = """\
# SPDX-License-Identifier: GPL-2.0
VERSION = 6
PATCHLEVEL = 9
SUBLEVEL = 3
EXTRAVERSION = -rc1
NAME = Hurr durr I'ma ninja sloth
"""


def makefile(version: str) -> str:
    major, minor, sub = (version.split(".") + ["0"])[:3]
    return f"VERSION = {major}\nPATCHLEVEL = {minor}\nSUBLEVEL = {sub}\nEXTRAVERSION =\n"


def make_tree(root: pathlib.Path, text: str = MAKEFILE) -> pathlib.Path:
    """A fake kernel tree: the Makefile, the required files as stubs, an arch header,
    and tools/include (outside the unpacked subset)."""
    root.mkdir(parents=True)
    (root / "Makefile").write_text(text)
    for rel in REQUIRED_FILES + ("arch/x86/include/asm/pgtable.h",):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"/* stub {rel} */\n")
    (root / "tools/include").mkdir(parents=True)
    (root / "tools/include/stub.h").write_text("")
    return root


def make_tarball(path: pathlib.Path, tree: pathlib.Path, top: str) -> pathlib.Path:
    mode = "w:xz" if path.name.endswith(".xz") else "w:gz"
    with tarfile.open(path, mode) as tar:
        tar.add(tree, arcname=top)
    return path


def _sha256(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class FakeArchive:
    """A local Debian archive and security archive, and an /etc/apt that names them."""

    def __init__(self, root: pathlib.Path):
        self.root = root
        self.arch = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                                   text=True, check=True).stdout.strip()
        self.packages: dict[str, list[str]] = {}  # suite -> Packages stanzas
        self.etc = root / "etc-apt"

    def mirror(self, suite: str) -> pathlib.Path:
        return self.root / ("debian-security" if suite.endswith("-security") else "debian")

    def add(self, series: str, version: str, suite: str) -> pathlib.Path:
        """A linux-source-<series> .deb of package ``version`` in ``suite``."""
        package = f"linux-source-{series}"
        kernel = re.match(r"[\d.]+", version).group().rstrip(".")
        work = self.root / "build" / f"{package}-{version}"
        tree = make_tree(work / "tree" / package, makefile(kernel))
        pkg = work / "pkg"
        (pkg / "DEBIAN").mkdir(parents=True)
        (pkg / "usr/src").mkdir(parents=True)
        make_tarball(pkg / f"usr/src/{package}.tar.xz", tree, package)
        (pkg / "DEBIAN/control").write_text(
            f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
            "Maintainer: pywalk tests <tests@example.invalid>\n"
            f"Description: fake Linux kernel source {series}\n")
        pool = self.mirror(suite) / "pool"
        pool.mkdir(parents=True, exist_ok=True)
        deb = pool / f"{package}_{version.replace(':', '%3a')}_all.deb"
        subprocess.run(["dpkg-deb", "-Zgzip", "--root-owner-group", "--build", str(pkg), str(deb)],
                       check=True, capture_output=True)
        self.packages.setdefault(suite, []).append(
            f"Package: {package}\nVersion: {version}\nArchitecture: all\n"
            f"Maintainer: pywalk tests <tests@example.invalid>\n"
            f"Filename: pool/{deb.name}\nSize: {deb.stat().st_size}\n"
            f"SHA256: {_sha256(deb)}\nDescription: fake Linux kernel source {series}\n")
        return deb

    def publish(self, suites) -> None:
        """Write Packages and Release of every suite (an empty one for suites with no .deb)."""
        for suite in suites:
            dist = self.mirror(suite) / "dists" / suite
            packages = dist / f"main/binary-{self.arch}/Packages"
            packages.parent.mkdir(parents=True, exist_ok=True)
            packages.write_text("\n".join(self.packages.get(suite, [])))
            rel = packages.relative_to(dist)
            (dist / "Release").write_text(
                f"Origin: pywalk-tests\nSuite: {suite}\nCodename: {suite}\n"
                f"Date: {email.utils.formatdate(usegmt=True)}\n"
                f"Architectures: {self.arch} all\nComponents: main\n"
                f"SHA256:\n {_sha256(packages)} {packages.stat().st_size} {rel}\n")

    def etc_apt(self, archive_uri: str | None = None) -> pathlib.Path:
        """An /etc/apt whose deb822 sources name the archive (or ``archive_uri``)."""
        parts = self.etc / "sources.list.d"
        parts.mkdir(parents=True, exist_ok=True)
        archive = archive_uri or f"file:{self.root / 'debian'}"
        security = archive_uri + "-security" if archive_uri else f"file:{self.root}/debian-security"
        (parts / "debian.sources").write_text(
            f"Types: deb\nURIs: {archive}\nSuites: bookworm bookworm-updates\n"
            "Components: main\nTrusted: yes\n\n"
            f"Types: deb\nURIs: {security}\nSuites: bookworm-security\n"
            "Components: main\nTrusted: yes\n")
        return self.etc
