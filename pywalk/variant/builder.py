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
from pywalk.variant import diagnostics
from pywalk.variant import manifest
from pywalk.variant import slicer
from pywalk.variant import instrument
from pywalk.variant import clients
from pywalk.tree import facts as tree_facts
from pywalk.assets import asset_dir
from pywalk.errors import BuildError
from pywalk.tree import gitinfo
from pywalk.variant import patched_tree
from pywalk.variant import model as build_model
from pywalk.variant.patches import Patch, load_patches
from pywalk.variant.build_result import BuildResult, SourceRecord  # noqa: F401 (builder.BuildResult)

GENERATOR_VERSION = "5"   # 4: the tree-sitter slicer; 5: one source record per file
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
# shim/src: kernel stand-ins; shim/checkers: the checkers (lockdep, leaks,
# stale views, data races and the entry history they report); csrc: the
# harness, the controlled scheduler with it.  (shim/checkers/tsan.c is
# instrumented builds' only: pywalk/variant/instrument.py.)
SHIM_SOURCES = ("src/runtime.c", "src/physmem.c", "src/mm.c", "checkers/history.c",
                "checkers/lockdep.c", "checkers/leaks.c", "checkers/kcsan.c",
                "checkers/stale.c", "checkers/watchdog.c")
CSRC_SOURCES = ("sched.c", "driver.c", "walkers.c", "proc_walkers.c", "clients.c", "madvise.c", "api.c", "scenarios.c",
                "sched_run.c", "bench.c", "bench_paced.c")
# files read besides the manifest's, for API detection (treeinfo)
EXTRA_READS = patched_tree.EXTRA_READS


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
            out = subprocess.run([CC, "--version"], capture_output=True, text=True, check=True,
                                 env=diagnostics.gcc_env())
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


@dataclass
class Generated:
    """A variant's translation unit, in the parts an instrumented build
    compiles apart (pywalk/variant/instrument.py); ``text`` is the whole."""
    common: str     # facts, shim headers, the tree's types, prototypes and header
                    # helpers, the clients' declarations: seen by the tree's code
                    # and the harness alike
    tree: str       # the tree's code: sliced fault/alloc/split/zap functions,
                    # whole files, the clients' and drivers' definitions
    harness: str    # the shim's and the harness's own C
    records: list[SourceRecord] = field(default_factory=list)   # what each file gave

    @property
    def text(self) -> str:
        return self.common + self.tree + self.harness


def generate(files: dict[str, str], scratch: Path, origin: str = "the tree",
             client_groups=clients.GROUPS) -> Generated:
    """The variant's C translation unit, and what it took from each file.

    A name the manifest requires (for this tree's facts) that no file
    defines is a one-line SliceError listing every such name."""
    facts = tree_facts.detect(files.get)
    have = tree_facts.api(files, shim_api_names())
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

    client_decls, client_defs, client_taken = clients.render(files, client_groups)
    common = [
        "/* Generated by pywalk: one variant's translation unit. Do not edit. */\n",
        "/* ---- facts about the tree's API (pywalk/tree/facts.py) ---- */\n",
        tree_facts.render(facts),
        "/* ---- which kernel names the shim may define: those the tree defines ---- */\n",
        tree_facts.render(have),
        "#include \"pywalk/shim.h\"\n",
        "/* ---- types from the tree ---- */\n",
        slicer.render(by_group["types"], prototypes=False),
        "#line 1 \"<pywalk>\"\n#include \"pywalk/mm_late.h\"\n#include \"pywalk/unmodelled.h\"\n",
        "/* ---- declarations of everything sliced below, as the headers give them ---- */\n",
        slicer.render_prototypes(by_group["helpers"] + by_group["functions"]),
        "/* ---- helpers from the tree's headers ---- */\n",
        slicer.render(by_group["helpers"], prototypes=False),
        *client_decls,      # the clients' types: where the harness sees them too
    ]
    tree = [
        "/* ---- fault, alloc, split and zap paths from the tree ---- */\n",
        slicer.render(by_group["functions"], prototypes=False),
    ]
    records = []
    for rel in manifest.WHOLE:
        dest = scratch / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(files[rel], encoding="utf-8", errors="surrogateescape")
        tree.append(f"/* ---- {rel}, whole and unmodified ---- */\n#include \"{dest}\"\n")
        records.append(SourceRecord(rel, _sha(files[rel]), True))
    for rel, names in taken.items():
        if names:
            records.append(SourceRecord(rel, _sha(files[rel]), False, names))
    tree += client_defs
    for rel, names in client_taken.items():    # one record per file: the core's, extended
        have = next((r for r in records if r.path == rel), None)
        if have is None and names:
            records.append(SourceRecord(rel, _sha(files[rel]), False, list(names)))
        elif have is not None and not have.whole:
            have.functions += [n for n in names if n not in have.functions]
    harness = [f"/* ---- shim and harness ---- */\n#include \"{CSRC / 'pywalk_api.h'}\"\n"]
    harness += [f"#include \"{SHIM / s}\"\n" for s in SHIM_SOURCES]
    harness += [f"#include \"{CSRC / s}\"\n" for s in CSRC_SOURCES]
    return Generated("".join(common), "".join(tree), "".join(harness), records)


def shim_api_names() -> list[str]:
    """Kernel names the shim defines only for trees that have them
    (PW_API / PW_HAVE_ / PW_U in shim/ and csrc/)."""
    texts = [p.read_text() for root in (SHIM, CSRC) for p in sorted(root.rglob("*"))
             if p.suffix in (".c", ".h")]
    return tree_facts.probe_names(texts)


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


def variant_key(files: dict[str, str], patches: list[Patch], instrumented: bool = False,
                model: str = "native") -> str:
    h = hashlib.sha256()
    h.update(json.dumps({
        "gen": GENERATOR_VERSION,
        "files": {k: _sha(v) for k, v in sorted(files.items())},
        "patches": [p.sha256 for p in patches],
        "shim": _dir_digest(SHIM),
        "csrc": _dir_digest(CSRC),
        "cc": _cc_version(),
        "cflags": CFLAGS,
        **instrument.key_part(instrumented),
        **build_model.key_part(model),
    }, sort_keys=True).encode())
    return h.hexdigest()[:20]


def _compile(workdir: Path, gen: Generated, module_name: str, scratch: Path,
             instrumented: bool = False, files: dict[str, str] | None = None,
             model: str = "native") -> Path:
    import cffi

    cflags = CFLAGS + build_model.flags(model)
    tu, objs = (instrument.compile_tree(workdir, gen, CC, cflags, scratch) if instrumented
                else (gen.text, []))
    ffi = cffi.FFI()
    ffi.cdef(cdef_text())
    (workdir / "variant.c").write_text(tu)
    ffi.set_source(module_name, '#include "variant.c"\n')
    c_file = workdir / f"{module_name}.c"
    with contextlib.redirect_stdout(io.StringIO()):
        ffi.emit_c_code(str(c_file))
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    out = workdir / f"{module_name}{suffix}"
    cmd = [CC, *cflags, "-shared", f"-I{workdir}", *instrument.include_flags(),
           f"-I{sysconfig.get_paths()['include']}",
           f"-ffile-prefix-map={scratch}/=", f"-ffile-prefix-map={SHIM}/=shim/",
           f"-ffile-prefix-map={CSRC}/=csrc/",
           str(c_file), *objs, "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir,
                          env=diagnostics.gcc_env())     # the messages diagnostics.py reads
    (workdir / "compile.log").write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        log = workdir.parent / f"{module_name}.failed.log"
        shutil.copyfile(workdir / "compile.log", log)
        shutil.copyfile(workdir / "variant.c", log.with_suffix(".c"))
        strip = diagnostics.strip_prefixes(scratch, workdir, SHIM, CSRC)
        raise BuildError("pywalk: " + diagnostics.summarise(proc.stderr, files or {}, strip,
                                                            str(log)))
    return out


def _patched_paths(plist: list[Patch]) -> set[str]:
    """Tree paths the patches change (git's a/ b/ prefixes taken off)."""
    out = set()
    for p in plist:
        for fp in p.files:
            path = fp.new_path
            out.add(path.split("/", 1)[1] if fp.prefixed and "/" in path else path)
    return out


def _generate_and_compile(work: Path, files: dict[str, str], module_name: str, origin: str,
                          instrumented: bool,
                          patched: set[str] = frozenset(),
                          model: str = "native") -> tuple[list[SourceRecord], list[str]]:
    """Generate and compile the variant; where the tree's walk clients or
    drivers do not compile against the shim, without them (clients.FALLBACKS),
    and a note says so.  A core failure is raised as it is, and so is one in
    a client or driver file that a patch changed: the patch broke it."""
    first = None
    for groups in clients.FALLBACKS:
        scratch = work / "tree"
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            gen = generate(files, scratch, origin, groups)
            _compile(work, gen, module_name, scratch, instrumented, files, model)
        except BuildError as e:
            first = first or e
            if not groups or not clients.broke_build(str(e)) or \
                    clients.patched_file_broke(str(e), patched):
                raise e from None
            continue
        left = [g for g in clients.GROUPS if g not in groups]
        if not left:
            return gen.records, []
        return gen.records, [f"note: this tree's walk {' and '.join(left)} do not build against "
                         f"pywalk's shim; built without them "
                         f"({str(first).splitlines()[0].removeprefix('pywalk: ')})"]
    raise first


def build(kernel=None, patches=(), *, fetch: bool = True, fuzz: int | None = None,
          allow_unused: bool = True, instrumented: bool = False,
          model: str = "native") -> BuildResult:
    """Build (or find in the cache) the variant kernel + patches.

    fuzz: None applies patches strictly; N allows offsets and N lines of
    context fuzz.  allow_unused False: a patch that changes nothing the
    build uses is a PatchError (pywalk/variant/patched_tree.py).
    instrumented: the tree's code is compiled with -fsanitize=thread
    (pywalk/variant/instrument.py).  model: how pud_val() & co compile
    (pywalk/variant/model.py)."""
    t0 = time.perf_counter()
    build_model.check(model)
    src = sources.resolve(kernel, fetch=fetch)
    plist = load_patches(list(patches)) if patches else []
    files, notes = _read_tree(src, plist, fuzz=fuzz, allow_unused=allow_unused)
    key = variant_key(files, plist, instrumented, model)
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
                    records, left_out = _generate_and_compile(
                        work, files, module_name, f"{src.origin} ({src.version})", instrumented,
                        _patched_paths(plist), model)
                    (work / "build.json").write_text(json.dumps(
                        {"sources": [r.as_json() for r in records], "notes": notes,
                         "client_notes": left_out}, indent=1))
                    os.rename(work, final)
                except BaseException:
                    shutil.rmtree(work, ignore_errors=True)
                    raise
                compiled = True
    info = json.loads(meta.read_text())
    notes = notes + info.get("client_notes", [])
    records = [SourceRecord(s["path"], s["sha256"], bool(s.get("whole")), s.get("functions", []))
               for s in info["sources"]]
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    return BuildResult(key, final / f"{module_name}{suffix}", src, plist, records,
                       notes, compiled, time.perf_counter() - t0, tree_facts.detect(files.get),
                       gitinfo.describe(src.root) if src.origin.startswith("tree:") else None,
                       instrumented, model)
