# SPDX-License-Identifier: GPL-2.0-only
"""The kernel the guest boots: Debian's linux-image-*-amd64-unsigned package
whose version is exactly the tree's (the linux-source package records it),
or a user's own build (--image DIR).

The package is found in pywalk's private apt state (tree/apt_state.py) and
downloaded there (``apt/debs/``, kept); its kernel, config and the modules
the guest needs (nvdimm, device-dax and what they depend on, .xz ones
decompressed) are unpacked once into ``$PYWALK_CACHE/confirm/image-<package>-<version>/``::

    vmlinuz  config  modules/<name>.ko ...  pywalk-source.json
"""

from __future__ import annotations

import json
import lzma
import os
import pathlib
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass

from pywalk.errors import FetchError, UsageError
from pywalk.tree import apt_state, cache

# the guest's device-dax stack over legacy (e820) pmem, in load order
MODULES = ("libnvdimm", "nd_btt", "nd_pmem", "nd_e820", "device_dax", "dax_pmem")
IMAGE_REGEX = "^linux-image-[0-9.]+(-[0-9]+|[+]deb[0-9]+)-amd64-unsigned$"  # no -cloud, -rt
_MOD_DIRS = ("kernel/drivers/nvdimm/", "kernel/drivers/dax/")


@dataclass
class Image:
    kernel: pathlib.Path            # the bzImage
    modules: list[pathlib.Path]     # uncompressed .ko files, in load order
    release: str                    # uname -r of the image ("" when unknown)
    package: str | None = None
    version: str | None = None
    sha256: str | None = None       # of the .deb (or of the user's bzImage)
    origin: str = ""

    def as_json(self) -> dict:
        return {"package": self.package, "version": self.version, "sha256": self.sha256,
                "release": self.release, "kernel": str(self.kernel), "origin": self.origin,
                "modules": [m.name for m in self.modules]}


def confirm_dir() -> pathlib.Path:
    d = cache.cache_root() / "confirm"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _norm(name: str) -> str:
    return re.sub(r"\.ko(\.(xz|zst|gz))?$", "", name).replace("-", "_")


# --------------------------------------------------------------------------
# Which package


def _policy_images(progress) -> dict[str, str]:
    """version -> linux-image package name, of every amd64 image the lists offer."""
    apt_state.index(progress)               # package lists present and fresh
    proc = subprocess.run(["apt-cache", *apt_state.apt_options(), "policy", IMAGE_REGEX],
                          capture_output=True, text=True, errors="replace",
                          stdin=subprocess.DEVNULL)
    found: dict[str, str] = {}
    name = None
    for line in proc.stdout.splitlines():
        if not line.startswith(" "):
            name = line.rstrip(":")
        elif name and (m := re.match(r"^ (?: {4}|\*\*\* )(\S+) -?\d+$", line)):
            found.setdefault(m.group(1), name)
    return found


def image_package(version: str, progress) -> str:
    """The linux-image package of Debian version ``version``; FetchError (exit 3) if none."""
    path = confirm_dir() / "images.json"
    try:
        known = json.loads(path.read_text())
    except (OSError, ValueError):
        known = {}
    if version not in known:
        progress(f"pywalk: looking up the linux-image package of {version}")
        known.update(_policy_images(progress))
        cache.write_json(path, known)
    if version not in known:
        raise FetchError(f"pywalk: Debian's archive has no linux-image-*-amd64-unsigned "
                         f"{version} (the suites pywalk reads); pass --image DIR with a "
                         "bzImage and its modules")
    return known[version]


# --------------------------------------------------------------------------
# Unpacking


def _depends(ko: pathlib.Path) -> list[str]:
    """The ``depends=`` of a module's .modinfo."""
    m = re.search(rb"(?:^|\0)depends=([^\0]*)\0", ko.read_bytes())
    return [d for d in m.group(1).decode().split(",") if d] if m else []


def _write_module(data: bytes, name: str, out: pathlib.Path) -> pathlib.Path:
    if name.endswith(".xz"):
        data = lzma.decompress(data)
    elif name.endswith(".zst"):
        data = subprocess.run(["zstd", "-dc"], input=data, capture_output=True, check=True).stdout
    path = out / (_norm(pathlib.PurePath(name).name) + ".ko")
    path.write_bytes(data)
    return path


def _extract(deb: pathlib.Path, out: pathlib.Path, wanted) -> dict[str, bytes | None]:
    """Stream the .deb's data tarball once; {member name: data} for ``wanted(name)``."""
    proc = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    got: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                name = member.name.lstrip("./")
                if member.isfile() and wanted(name):
                    got[name] = tar.extractfile(member).read()
    except tarfile.TarError as e:
        raise FetchError(f"pywalk: cannot unpack {deb.name}: {e}") from None
    finally:
        proc.stdout.close()
        err = proc.stderr.read().decode(errors="replace")
        if proc.wait() != 0:
            raise FetchError(f"pywalk: cannot unpack {deb.name}: {apt_state.last_line(err)}")
    return got


def order_modules(available: dict[str, pathlib.Path],
                  builtin_ok: bool = False) -> list[pathlib.Path]:
    """MODULES and what they depend on, dependencies first; UsageError naming one
    missing (unless ``builtin_ok``: a user's kernel may have them built in)."""
    done: list[str] = []

    def visit(name: str, chain: tuple) -> None:
        if name in done or name in chain:
            return
        if name not in available:
            if builtin_ok:
                return
            raise UsageError(f"pywalk: the image has no module {name} (needed by "
                             f"{chain[-1] if chain else 'the device-dax guest'})")
        for dep in _depends(available[name]):
            visit(_norm(dep), chain + (name,))
        done.append(name)

    for name in MODULES:
        visit(name, ())
    return [available[n] for n in done]


def _unpack_deb(deb: pathlib.Path, work: pathlib.Path) -> dict:
    mods = work / "modules"
    mods.mkdir()
    got = _extract(deb, work, lambda n: n.startswith("boot/vmlinuz-")
                   or n.startswith("boot/config-") or n.endswith("/modules.order")
                   or any(d in n for d in _MOD_DIRS))
    kernels = sorted(n for n in got if n.startswith("boot/vmlinuz-"))
    if not kernels:
        raise FetchError(f"pywalk: {deb.name} holds no boot/vmlinuz-*")
    release = kernels[0][len("boot/vmlinuz-"):]
    (work / "vmlinuz").write_bytes(got[kernels[0]])
    if f"boot/config-{release}" in got:
        (work / "config").write_bytes(got[f"boot/config-{release}"])
    available = {_norm(pathlib.PurePath(n).name): _write_module(data, n, mods)
                 for n, data in got.items() if "/kernel/" in n}
    # a dependency outside nvdimm/ and dax/: one more pass, by modules.order's paths
    order = next((d for n, d in got.items() if n.endswith("/modules.order")), b"").decode()
    missing = _missing(available)
    if missing:
        paths = {_norm(pathlib.PurePath(p).name): p for p in order.split()}
        want = {f"lib/modules/{release}/{paths[m]}" for m in missing if m in paths}
        more = _extract(deb, work, lambda n: any(n.startswith(w) for w in want))
        available.update({_norm(pathlib.PurePath(n).name): _write_module(d, n, mods)
                          for n, d in more.items()})
    modules = order_modules(available)
    return {"release": release, "modules": [m.name for m in modules]}


def _missing(available: dict[str, pathlib.Path]) -> set[str]:
    missing = set()
    todo = list(MODULES)
    while todo:
        name = todo.pop()
        if name not in available:
            missing.add(name)
            continue
        todo += [_norm(d) for d in _depends(available[name]) if _norm(d) not in missing]
    return missing


def _load(entry: pathlib.Path) -> Image | None:
    meta = cache.read_metadata(entry)
    if not meta or not (entry / "vmlinuz").is_file():
        return None
    return Image(kernel=entry / "vmlinuz", modules=[entry / "modules" / m for m in meta["modules"]],
                 release=meta["release"], package=meta["package"], version=meta["version"],
                 sha256=meta["sha256"], origin=f"debian:{meta['package']}={meta['version']}")


def debian_image(version: str, progress) -> Image:
    """The unpacked linux-image of Debian version ``version`` (downloaded and
    unpacked once, then taken from the cache)."""
    for entry in confirm_dir().glob("image-*"):
        meta = cache.read_metadata(entry)
        if meta and meta.get("version") == version and (image := _load(entry)):
            return image
    package = image_package(version, progress)
    name = f"image-{package}-{version}"
    entry = confirm_dir() / name
    with cache.locked(f"confirm-{name}", progress):
        if image := _load(entry):
            return image
        deb = apt_state.download(package, version, progress)
        progress(f"pywalk: unpacking {deb.name}")
        work = confirm_dir() / f".work-{name}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        try:
            meta = _unpack_deb(deb, work)
            meta.update(package=package, version=version, deb=str(deb), sha256=cache.sha256(deb))
            (work / cache.METADATA).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
            shutil.rmtree(entry, ignore_errors=True)
            os.rename(work, entry)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return _load(entry)


def user_image(path: str) -> Image:
    """A user's own kernel: a directory holding a bzImage (bzImage, vmlinuz*,
    arch/x86/boot/bzImage) and the nvdimm/dax modules (*.ko anywhere below it:
    a build tree or an INSTALL_MOD_PATH; modules not found are taken as built in)."""
    root = pathlib.Path(path).expanduser()
    if root.is_file():
        kernel, root = root, root.parent
    elif root.is_dir():
        candidates = (root / "arch/x86/boot/bzImage", root / "bzImage",
                      *sorted(root.glob("vmlinuz*")), *sorted(root.glob("boot/vmlinuz*")))
        kernel = next((p for p in candidates if p.is_file()), None)
        if kernel is None:
            raise UsageError(f"pywalk: --image {path}: no bzImage, vmlinuz* or "
                             "arch/x86/boot/bzImage in it")
    else:
        raise UsageError(f"pywalk: --image {path}: no such file or directory")
    found: dict[str, pathlib.Path] = {}
    for ko in sorted(root.rglob("*.ko*")):
        found.setdefault(_norm(ko.name), ko)
    work = confirm_dir() / "user-modules" / cache.sha256(kernel)[:16]
    work.mkdir(parents=True, exist_ok=True)
    available: dict[str, pathlib.Path] = {}
    todo = list(MODULES)
    while todo:                         # MODULES and their dependencies, as found
        name = todo.pop()
        if name in available or name not in found:
            continue
        available[name] = _write_module(found[name].read_bytes(), found[name].name, work)
        todo += [_norm(d) for d in _depends(available[name])]
    return Image(kernel=kernel, modules=order_modules(available, builtin_ok=True), release="",
                 sha256=cache.sha256(kernel), origin=f"image:{kernel.resolve()}")
