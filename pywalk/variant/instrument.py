# SPDX-License-Identifier: GPL-2.0-only
"""Access-level instrumentation of the tree's code (KCSAN's way, our runtime).

An instrumented variant is built from two translation units instead of one:

* the **tree's code** (the shim's headers, the tree's types and header
  helpers, the sliced fault/alloc/split/zap functions and ``mm/pagewalk.c``
  whole), compiled with gcc's ``-fsanitize=thread`` and the parameters the
  kernel's ``scripts/Makefile.kcsan`` gives gcc: every load and store the
  optimised code still makes calls ``__tsan_read8()``, ``__tsan_volatile_write4()``,
  ``__tsan_atomic64_load()``... first;
* the **shim and the harness** (``shim/src/*.c``, ``shim/checkers/*.c``,
  ``csrc/*.c`` and cffi's glue), compiled as before, uninstrumented.
  ``shim/checkers/tsan.c`` there is pywalk's own runtime for those entry
  points (libtsan is never linked): it does the access and calls the shim's hook ``pw_hook()`` with the access's
  kind (plain, marked = volatile = ``READ_ONCE()``/``WRITE_ONCE()``, atomic).

What a separate translation unit gives that attributes do not (gcc 12,
measured): a ``no_sanitize_thread`` shim inline is no longer inlined into
instrumented callers (it becomes a call, so gcc cannot merge the tree's
``pud_none(*pud)`` read with ``pmd_offset()``'s as it does in a real
build), while an ``always_inline`` one is inlined anyway and its body then
instrumented.  So shim inlines that the tree's code calls are instrumented
with it, as the kernel's own arch inlines are under KCSAN; the shim's and
the harness's out-of-line code is not.

Static functions called across the cut (``__handle_mm_fault()`` from the
harness, the shim's ``handle_pte_fault()`` from the tree's fault path) get
a hidden global alias in the translation unit that defines them, and the
other unit calls that alias; nothing else changes in either unit.
"""

from __future__ import annotations

import re
import subprocess
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

from pywalk.assets import asset_dir
from pywalk.errors import BuildError
from pywalk.variant import diagnostics, slicer

if TYPE_CHECKING:       # builder imports this module
    from pywalk.variant.builder import Generated

# scripts/Makefile.kcsan, for gcc (the read-before-write params are clang/gcc-13+ only)
KCSAN_FLAGS = ("-fsanitize=thread", "-fno-optimize-sibling-calls",
               "--param", "tsan-distinguish-volatile=1",
               "--param", "tsan-instrument-func-entry-exit=0", "-Wno-tsan")
MODES = ("on", "off")

_STATIC = re.compile(r"^static\b[^;{()]*?\b(\w+)\s*\(", re.M)


def include_flags() -> list[str]:
    """Header search paths of both translation units: the shim's headers
    (-I: <linux/...>, "pywalk/..."); the checkers' and the harness's, which
    the shim's headers include by bare name ("history.h", "sched.h"):
    -iquote, so that <sched.h> stays libc's."""
    shim, csrc = asset_dir("shim"), asset_dir("csrc")
    return [f"-I{shim / 'include'}", f"-iquote{shim / 'checkers'}", f"-iquote{csrc}"]


def key_part(instrument: bool) -> dict:
    """What instrumentation adds to a variant's cache key."""
    return {"instrument": list(KCSAN_FLAGS)} if instrument else {}


def _static_defs(text: str) -> set[str]:
    """Names of the static functions text defines (not merely declares)."""
    out = set()
    for m in _STATIC.finditer(text):
        i = m.end()
        depth = 1
        while i < len(text) and depth:       # past the parameter list
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        rest = text[i:i + 400].lstrip()
        if rest.startswith("{") or re.match(r"^(__\w+(\(\([^)]*\)\))?\s*)*\{", rest):
            out.add(m.group(1))
    return out


def _used(names: set[str], text: str) -> list[str]:
    return sorted(n for n in names if re.search(rf"\b{re.escape(n)}\s*\(", text))


def _defines(names: list[str]) -> str:
    return "".join(f"#define {n} pw_ext_{n}\n" for n in names)


def _aliases(names: list[str]) -> str:
    return "".join(f"extern __typeof__({n}) pw_ext_{n} "
                   f"__attribute__((alias(\"{n}\"), visibility(\"hidden\")));\n" for n in names)


def split(gen: Generated) -> tuple[str, str]:
    """The tree's and the harness's translation units, from the parts of the
    one builder generates."""
    common, tree, harness = gen.common, gen.tree, gen.harness
    harness_text = "".join(t for _, t in _read_included(harness))
    whole = list(_read_included(tree))         # mm/pagewalk.c, compiled whole
    tree_text = tree + "".join(t for _, t in whole)
    to_harness = _used(_static_defs(tree_text), harness_text)
    to_tree = _used(_static_defs(harness_text), tree_text + common)
    # the harness calls global functions of whole files (walk_page_range()),
    # which no sliced header declares: their prototypes, from the file
    protos = []
    for path, text in whole:
        for name, defs in slicer.find_definitions(text, str(path).rsplit("/tree/", 1)[-1]).items():
            fdefs = [d for d in defs if d.kind == "function"
                     and not d.head.lstrip().startswith("static")]
            if fdefs and _used({name}, harness_text):
                protos.append(slicer.render_prototypes(fdefs))
    head = "/* pywalk: calls across the instrumentation cut (pywalk/variant/instrument.py) */\n"
    # cffi's glue includes Python.h (and so the libc headers) before the
    # variant's code; the tree's half gets the same context
    tree_tu = (head + "#include <Python.h>\n" + _defines(to_tree) + common + tree
               + _aliases(to_harness))
    harness_tu = (head + _defines(to_harness) + common + "".join(protos) + harness
                  + _aliases(to_tree)
                  + f'#include "{asset_dir("shim") / "checkers/tsan.c"}"\n')
    return tree_tu, harness_tu


def _read_included(text: str):
    for m in re.finditer(r'^#include "([^"]+)"', text, re.M):
        p = Path(m.group(1))
        if p.is_file():
            yield p, p.read_text(errors="surrogateescape")


def compile_tree(workdir: Path, gen: Generated, cc: str, cflags: tuple[str, ...],
                 scratch: Path) -> tuple[str, list[str]]:
    """Compile the tree's half of gen instrumented; the harness's half (to
    compile as before) and the object files to link with it."""
    tree_tu, harness_tu = split(gen)
    shim, csrc = asset_dir("shim"), asset_dir("csrc")
    (workdir / "tree.c").write_text(tree_tu)
    obj = workdir / "tree.o"
    cmd = [cc, *cflags, *KCSAN_FLAGS, "-c", f"-I{workdir}", *include_flags(),
           f"-I{sysconfig.get_paths()['include']}",
           f"-ffile-prefix-map={scratch}/=", f"-ffile-prefix-map={shim}/=shim/",
           f"-ffile-prefix-map={csrc}/=csrc/", str(workdir / "tree.c"), "-o", str(obj)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir,
                          env=diagnostics.gcc_env())
    (workdir / "compile-tree.log").write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    if proc.returncode != 0:
        log = workdir.parent / f"{workdir.name.lstrip('.')}.tree-failed.log"
        log.write_text((workdir / "compile-tree.log").read_text())
        first = next((ln for ln in proc.stderr.splitlines() if ": error:" in ln), "")
        raise BuildError(f"pywalk: build failed: instrumented tree code: "
                         f"{first.replace(str(scratch) + '/', '') or 'compiler error'} "
                         f"(full log: {log})")
    return harness_tu, [str(obj)]
