# SPDX-License-Identifier: GPL-2.0-only
"""Build a variant: a kernel source plus patches, compiled against the shim.

The translation unit is generated (see :func:`generate`): shim headers, the
tree's types and helpers sliced verbatim, the fault/split/alloc functions
sliced verbatim, ``mm/pagewalk.c`` included whole and unmodified, then the
shim's and the harness's own C.  cffi (API mode: ``set_source`` and
``emit_c_code``) makes the Python binding; we run gcc ourselves so that its
diagnostics can be captured, mapped to kernel ``file:line`` and summarised.

Each variant is one extension module in the cache, keyed by a content hash
of everything that goes into it.  A cache hit does not recompile; builds of
the same variant by several processes at once are serialised by a file lock
and published by an atomic rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sysconfig
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock

from pywalk.tree import sources
from pywalk.variant import manifest
from pywalk.variant import slicer
from pywalk.variant import clients
from pywalk.tree import facts as tree_facts
from pywalk.assets import asset_dir
from pywalk.errors import BuildError
from pywalk.tree import gitinfo
from pywalk.variant import labels, patched_tree
from pywalk.variant.patches import Patch, load_patches

GENERATOR_VERSION = "3"
CC = os.environ.get("CC", "gcc")
CFLAGS = ("-O2", "-g", "-std=gnu11", "-fPIC", "-pthread", "-fno-strict-aliasing",
          "-fno-omit-frame-pointer", "-Wall", "-Wno-unused-function",
          "-Wno-unused-variable", "-Wno-unused-label", "-Wno-unused-but-set-variable",
          # something the shim lacks must stop the build (not become an
          # undefined symbol at load time or a silently truncated value)
          "-Werror=implicit-function-declaration", "-Werror=int-conversion",
          "-Werror=incompatible-pointer-types", "-Werror=return-type")

SHIM = asset_dir("shim")
CSRC = asset_dir("csrc")
SHIM_SOURCES = ("src/runtime.c", "src/physmem.c", "src/mm.c")
CSRC_SOURCES = ("driver.c", "walkers.c", "clients.c", "api.c", "scenarios.c", "bench.c")
# files read besides the manifest's, for API detection (treeinfo)
EXTRA_READS = patched_tree.EXTRA_READS


@dataclass
class SourceRecord:
    path: str
    sha256: str
    whole: bool
    functions: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        d: dict = {"path": self.path, "sha256": self.sha256}
        if self.whole:
            d["whole"] = True
        else:
            d["functions"] = self.functions
        return d


@dataclass
class BuildResult:
    variant_id: str
    module_path: Path
    kernel: sources.KernelSource
    patches: list[Patch]
    sources: list[SourceRecord]
    notes: list[str]
    compiled: bool            # False on a cache hit
    seconds: float
    facts: dict = field(default_factory=dict)   # PW_TREE_* (pywalk/tree/facts.py)
    kernel_git: str | None = None   # `git describe --always --dirty` of a git worktree

    @property
    def label(self) -> str:
        """kernel version (and git describe), patch names (pywalk/variant/labels.py)"""
        return labels.label(self.kernel.version, self.kernel_git,
                            [p.name for p in self.patches], [p.sha256 for p in self.patches])

    def as_json(self) -> dict:
        return {
            "variant": self.variant_id,
            "kernel": self.kernel.version,
            "origin": self.kernel.origin,
            "kernel_git": self.kernel_git,
            "label": self.label,
            "patches": [{"name": p.name, "subject": p.subject, "sha256": p.sha256}
                        for p in self.patches],
            "module": str(self.module_path),
            "sources": [s.as_json() for s in self.sources],
            "notes": self.notes,
            "facts": self.facts,
            "cache_hit": not self.compiled,
            "seconds": round(self.seconds, 3),
        }


def _sha(text: str | bytes) -> str:
    if isinstance(text, str):
        text = text.encode("utf-8", "surrogateescape")
    return hashlib.sha256(text).hexdigest()


def _dir_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".c", ".h"):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


_CC_VERSION: str | None = None


def _cc_version() -> str:
    global _CC_VERSION
    if _CC_VERSION is None:
        try:
            out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            raise BuildError(f"pywalk: C compiler {CC!r} not usable: {e}") from None
        _CC_VERSION = out.stdout.splitlines()[0] if out.stdout else CC
    return _CC_VERSION


def _read_tree(src: sources.KernelSource, patches: list[Patch], *, fuzz: int | None = None,
               allow_unused: bool = True) -> tuple[dict[str, str], list[str]]:
    """Contents of every file the build uses, after patches; and notes
    (pywalk/variant/patched_tree.py)."""
    return patched_tree.read_tree(src, patches, fuzz=fuzz, allow_unused=allow_unused)


def check_patches(src: sources.KernelSource, patches: list[Patch], *,
                  fuzz: int | None = None) -> list[str]:
    """Apply patches (in order) to a scratch copy of the tree's files; their
    notes, or PatchError."""
    return _read_tree(src, patches, fuzz=fuzz)[1]


def generate(files: dict[str, str], scratch: Path,
             origin: str = "the tree") -> tuple[str, list[SourceRecord]]:
    """The variant's C translation unit, and what it took from each file.

    A name the manifest requires (for this tree's facts) that no file
    defines is a one-line SliceError listing every such name."""
    facts = tree_facts.detect(files.get)
    by_group: dict[str, list[slicer.Definition]] = {g: [] for g in manifest.GROUP_ORDER}
    found: set[str] = set()
    taken: dict[str, list[str]] = {}
    for take in manifest.SLICES:
        defs = slicer.slice_symbols(files[take.relpath], take.relpath, list(take.names),
                                    optional=set(take.names))
        by_group[take.group].extend(defs)
        names = []
        for d in defs:
            found.add(d.name)
            if d.name not in names:
                names.append(d.name)
        taken.setdefault(take.relpath, []).extend(n for n in names if n not in taken.get(take.relpath, []))
    missing = [n for n in manifest.required_names(facts) if n not in found]
    if missing:
        where = sorted({t.relpath for t in manifest.SLICES})
        raise slicer.SliceError(
            f"pywalk: {origin}: cannot find {', '.join(missing)} (searched {', '.join(where)}): "
            "renamed or moved in this tree? the shim cannot serve it yet")

    parts = [
        "/* Generated by pywalk: one variant's translation unit. Do not edit. */\n",
        "/* ---- facts about the tree's API (pywalk/tree/facts.py) ---- */\n",
        tree_facts.render(facts),
        "#include \"pywalk/shim.h\"\n",
        "/* ---- types from the tree ---- */\n",
        slicer.render(by_group["types"], prototypes=False),
        "#line 1 \"<pywalk>\"\n#include \"pywalk/mm_late.h\"\n#include \"pywalk/unmodelled.h\"\n",
        "/* ---- declarations of everything sliced below, as the headers give them ---- */\n",
        slicer.render_prototypes(by_group["helpers"] + by_group["functions"]),
        "/* ---- helpers from the tree's headers ---- */\n",
        slicer.render(by_group["helpers"], prototypes=False),
        "/* ---- fault, alloc, split and zap paths from the tree ---- */\n",
        slicer.render(by_group["functions"], prototypes=False),
    ]
    records = []
    for rel in manifest.WHOLE:
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(files[rel], encoding="utf-8", errors="surrogateescape")
        parts.append(f"/* ---- {rel}, whole and unmodified ---- */\n#include \"{dest}\"\n")
        records.append(SourceRecord(rel, _sha(files[rel]), True))
    for rel, names in taken.items():
        if names:
            records.append(SourceRecord(rel, _sha(files[rel]), False, names))
    client_parts, client_taken = clients.render(files)
    parts += client_parts
    records += [SourceRecord(rel, _sha(files[rel]), False, names)
                for rel, names in client_taken.items() if names]
    parts.append(f"/* ---- shim and harness ---- */\n#include \"{CSRC / 'pywalk_api.h'}\"\n")
    parts += [f"#include \"{SHIM / s}\"\n" for s in SHIM_SOURCES]
    parts += [f"#include \"{CSRC / s}\"\n" for s in CSRC_SOURCES]
    return "".join(parts), records


def cdef_text() -> str:
    """Declarations for cffi, from the shim's report.h and csrc/pywalk_api.h."""
    out = []
    for path in (SHIM / "include/pywalk/report.h", CSRC / "pywalk_api.h"):
        for line in path.read_text().splitlines():
            s = line.strip()
            if s.startswith("#") and not re.match(r"#define\s+\w+\s+-?\d+\b", s):
                continue
            out.append(re.sub(r"/\*.*?\*/", "", line))
    out.append('extern "Python" int pw_py_callback(void *, int, unsigned long, unsigned long, '
               'unsigned long, int);')
    return "\n".join(out)


def variant_key(files: dict[str, str], patches: list[Patch]) -> str:
    h = hashlib.sha256()
    h.update(json.dumps({
        "gen": GENERATOR_VERSION,
        "files": {k: _sha(v) for k, v in sorted(files.items())},
        "patches": [p.sha256 for p in patches],
        "shim": _dir_digest(SHIM),
        "csrc": _dir_digest(CSRC),
        "cc": _cc_version(),
        "cflags": CFLAGS,
    }, sort_keys=True).encode())
    return h.hexdigest()[:20]


_Q = "[\u2018'\"]"   # gcc quotes names with \u2018...\u2019 (UTF-8 locale) or '...'
_QE = "[\u2019'\"]"
_DIAG = re.compile(r"^(?P<where>[^:\s]+:\d+)(?::\d+)?: (?:error|warning): (?P<msg>.*)$")
_GAPS = (
    ("function", re.compile(rf"implicit declaration of function {_Q}(\w+){_QE}")),
    ("identifier", re.compile(rf"{_Q}(\w+){_QE} undeclared")),
    ("type", re.compile(rf"unknown type name {_Q}(\w+){_QE}")),
    ("type", re.compile(rf"(?:invalid use of undefined type|storage size of .* isn.t known).*"
                        rf"{_Q}((?:struct|union|enum) \w+){_QE}")),
    ("member", re.compile(rf"{_Q}((?:struct|union) \w+){_QE} has no member named {_Q}(\w+){_QE}")),
    ("signature", re.compile(rf"too (?:many|few) arguments to function {_Q}(\w+){_QE}")),
    ("signature", re.compile(rf"macro {_Q}(\w+){_QE} (?:requires|passed) \d+ arguments")),
)


def _summarise_errors(log: str, scratch: Path) -> str:
    """One line: what the shim lacks for this tree (each with where the
    tree's code first uses it, as kernel file:line), the number of errors
    and the first one."""
    log = log.replace(str(scratch) + "/", "")
    errors = []
    gaps: dict[tuple[str, str], str] = {}
    for line in log.splitlines():
        m = _DIAG.match(line.strip())
        if not m:
            continue
        msg = m.group("msg")
        if ": error:" in line:
            errors.append(line.strip())
        for kind, rx in _GAPS:
            g = rx.search(msg)
            if g:
                name = g.group(1) if kind != "member" else f"{g.group(1)}.{g.group(2)}"
                gaps.setdefault((kind, name), m.group("where"))
                break
    parts = []
    kinds = {"function": "function", "identifier": "macro/identifier", "type": "type",
             "member": "struct member", "signature": "signature differs"}
    if gaps:
        listed = [f"{kinds[k]} {n} ({w})" for (k, n), w in gaps.items()]
        parts.append("the shim does not provide for this tree: " + ", ".join(listed))
    parts.append(f"{len(errors)} compiler error(s)")
    if errors and not gaps:
        parts.append(f"first: {errors[0]}")
    return "; ".join(parts)


def _compile(workdir: Path, tu: str, module_name: str, scratch: Path) -> Path:
    import cffi

    ffi = cffi.FFI()
    ffi.cdef(cdef_text())
    (workdir / "variant.c").write_text(tu)
    ffi.set_source(module_name, '#include "variant.c"\n')
    c_file = workdir / f"{module_name}.c"
    with contextlib.redirect_stdout(io.StringIO()):
        ffi.emit_c_code(str(c_file))
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    out = workdir / f"{module_name}{suffix}"
    cmd = [CC, *CFLAGS, "-shared", f"-I{workdir}", f"-I{SHIM / 'include'}",
           f"-I{sysconfig.get_paths()['include']}",
           f"-ffile-prefix-map={scratch}/=", f"-ffile-prefix-map={SHIM}/=shim/",
           f"-ffile-prefix-map={CSRC}/=csrc/",
           str(c_file), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir)
    (workdir / "compile.log").write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        log = workdir.parent / f"{module_name}.failed.log"
        shutil.copyfile(workdir / "compile.log", log)
        shutil.copyfile(workdir / "variant.c", log.with_suffix(".c"))
        raise BuildError(f"pywalk: build failed: {_summarise_errors(proc.stderr, scratch)} "
                         f"(full log: {log})")
    return out


def build(kernel=None, patches=(), *, fetch: bool = True, fuzz: int | None = None,
          allow_unused: bool = True) -> BuildResult:
    """Build (or find in the cache) the variant kernel + patches.

    fuzz: None applies patches strictly; N allows offsets and N lines of
    context fuzz.  allow_unused False: a patch that changes nothing the
    build uses is a PatchError (pywalk/variant/patched_tree.py)."""
    t0 = time.perf_counter()
    src = sources.resolve(kernel, fetch=fetch)
    plist = load_patches(list(patches)) if patches else []
    files, notes = _read_tree(src, plist, fuzz=fuzz, allow_unused=allow_unused)
    key = variant_key(files, plist)
    root = sources.cache_root() / "build"
    final = root / key
    meta = final / "build.json"
    module_name = f"_pywalk_v_{key}"
    compiled = False
    if not meta.exists():
        root.mkdir(parents=True, exist_ok=True)
        (sources.cache_root() / "locks").mkdir(parents=True, exist_ok=True)
        with FileLock(str(sources.cache_root() / "locks" / f"build-{key}.lock")):
            if not meta.exists():
                work = Path(tempfile.mkdtemp(prefix=f".work-{key}-", dir=root))
                try:
                    scratch = work / "tree"
                    tu, records = generate(files, scratch, f"{src.origin} ({src.version})")
                    _compile(work, tu, module_name, scratch)
                    (work / "build.json").write_text(json.dumps(
                        {"sources": [r.as_json() for r in records], "notes": notes}, indent=1))
                    os.rename(work, final)
                except BaseException:
                    shutil.rmtree(work, ignore_errors=True)
                    raise
                compiled = True
    info = json.loads(meta.read_text())
    records = [SourceRecord(s["path"], s["sha256"], bool(s.get("whole")), s.get("functions", []))
               for s in info["sources"]]
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return BuildResult(key, final / f"{module_name}{suffix}", src, plist, records,
                       notes, compiled, time.perf_counter() - t0, tree_facts.detect(files.get),
                       gitinfo.describe(src.root) if src.origin.startswith("tree:") else None)
