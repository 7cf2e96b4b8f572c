# SPDX-License-Identifier: GPL-2.0-only
"""The guest's initramfs: a newc cpio (the format the kernel unpacks, see
Documentation/driver-api/early-userspace/buffer-format.rst) written here,
holding busybox as /init's shell, the image's nvdimm/dax modules, ndctl
with the libraries ``ldd`` names, and the static reproducer.

/init loads the modules in order, makes namespace0.0 a device-dax with the
finding's alignment, runs the reproducer and powers off.  Its console lines
start with ``pywalk-guest:``.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import stat
import subprocess

from pywalk.errors import FetchError

# host tool -> the Debian package that has it (what the user installs)
TOOLS = {"qemu-system-x86_64": "qemu-system-x86", "busybox": "busybox-static",
         "ndctl": "ndctl", "gcc": "gcc"}
INSTALL_HINT = "apt-get install qemu-system-x86 busybox-static ndctl"

INIT = r"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/usr/bin:/sbin
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
say() { echo "pywalk-guest: $*"; }
fail() { say "error: $*"; poweroff -f; }
for m in @MODULES@; do
	insmod /modules/$m.ko 2>/tmp/insmod || grep -q "File exists" /tmp/insmod ||
		fail "insmod $m: $(tail -n1 /tmp/insmod)"
done
ndctl create-namespace -f -e namespace0.0 -m devdax -a @ALIGN@ >/tmp/ndctl 2>&1 ||
	fail "ndctl create-namespace -m devdax -a @ALIGN@: $(tail -n1 /tmp/ndctl)"
[ -c /dev/dax0.0 ] || fail "no /dev/dax0.0 after ndctl create-namespace"
say "ready: /dev/dax0.0 $(cat /sys/bus/dax/devices/dax0.0/size) bytes, align @ALIGN@"
/repro /dev/dax0.0 @SECONDS@ @SEED@
say "exit $?"
poweroff -f
"""


def missing_tools() -> list[str]:
    """The Debian packages whose programs are not on PATH (deduplicated)."""
    return list(dict.fromkeys(pkg for tool, pkg in TOOLS.items() if shutil.which(tool) is None))


def require_tools() -> None:
    """FetchError (exit 3), one line, when qemu or a guest tool is missing."""
    missing = missing_tools()
    if missing:
        raise FetchError(f"pywalk: confirm needs {', '.join(missing)} on this machine "
                         f"(Debian: apt-get install {' '.join(missing)})")


def shared_libraries(program: str) -> list[pathlib.Path]:
    """The libraries (and loader) ``ldd`` names for a program; [] for a static one."""
    proc = subprocess.run(["ldd", program], capture_output=True, text=True, errors="replace")
    libs = []
    for line in proc.stdout.splitlines():
        m = re.search(r"(?:=>\s*)?(/\S+)\s+\(0x", line)
        if m:
            libs.append(pathlib.Path(m.group(1)))
    return libs


class Cpio:
    """A newc ("070701") archive, written in memory."""

    def __init__(self):
        self.parts: list[bytes] = []
        self.ino = 1
        self.dirs: set[str] = set()

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple = (0, 0)) -> None:
        fields = (self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name) + 1, 0)
        self.ino += 1
        head = b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        self.parts += [head, b"\0" * (-len(head) % 4), data, b"\0" * (-len(data) % 4)]

    def directory(self, name: str) -> None:
        name = name.strip("/")
        parent = name.rpartition("/")[0]
        if parent and parent not in self.dirs:
            self.directory(parent)
        if name and name not in self.dirs:
            self.dirs.add(name)
            self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name: str, data: bytes, mode: int = 0o755) -> None:
        name = name.strip("/")
        self.directory(name.rpartition("/")[0])
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name: str, target: str) -> None:
        name = name.strip("/")
        self.directory(name.rpartition("/")[0])
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name: str, major: int, minor: int) -> None:
        name = name.strip("/")
        self.directory(name.rpartition("/")[0])
        self._entry(name, stat.S_IFCHR | 0o600, rdev=(major, minor))

    def program(self, path: str, into: str | None = None) -> None:
        """A host program and the libraries it links, at their own paths."""
        real = pathlib.Path(path).resolve()
        self.file(into or path, real.read_bytes())
        for lib in shared_libraries(str(real)):
            if lib.as_posix().strip("/") not in self.dirs:
                self.file(lib.as_posix(), lib.resolve().read_bytes())

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return b"".join(self.parts)


def build(modules: list[pathlib.Path], reproducer: pathlib.Path, *, align: str,
          seconds: float, seed: int) -> bytes:
    """The initramfs (uncompressed newc) for one run."""
    cpio = Cpio()
    for d in ("dev", "proc", "sys", "tmp", "run", "bin", "sbin", "usr/bin", "modules"):
        cpio.directory(d)
    cpio.chardev("dev/console", 5, 1)   # /init's stdio before devtmpfs is mounted
    cpio.chardev("dev/null", 1, 3)
    cpio.program(shutil.which("busybox"), "bin/busybox")
    cpio.program(shutil.which("ndctl"), "usr/bin/ndctl")
    for ko in modules:
        cpio.file(f"modules/{ko.name}", ko.read_bytes(), 0o644)
    cpio.file("repro", reproducer.read_bytes())
    names = " ".join(ko.name[:-3] for ko in modules)
    init = (INIT.replace("@MODULES@", names).replace("@ALIGN@", align)
            .replace("@SECONDS@", f"{seconds:g}").replace("@SEED@", str(seed)))
    cpio.file("init", init.encode())
    return cpio.finish()
