# SPDX-License-Identifier: GPL-2.0-only
"""The tree's own walk clients and huge-fault drivers, sliced like the core.

``manifest.CLIENT_SLICES`` names them: the numa_maps walk of
fs/proc/task_mmu.c, the write-protect/clean walks of
mm/mapping_dirty_helpers.c, device-dax's and VFIO's huge_fault.  They are
rendered after the core (fault, split, zap) code, below the shim each
needs (shim/include/pywalk/clients.h, drivers.h); the generated code says
which names were found with ``#define PW_SLICED_<name> 1``, so the harness
(csrc/clients.c) offers only the clients and drivers this tree has.
"""

from __future__ import annotations

import re

from pywalk.variant import manifest, slicer

_TYPE_KINDS = ("struct", "union", "enum", "typedef", "macro")


GROUPS = ("clients", "drivers")
# what a build tries when the tree's clients or drivers do not compile
# against the shim (a newer tree than the shim knows): without the drivers,
# then without both; the core variant does not depend on them
FALLBACKS = (GROUPS, ("clients",), ())
# where a compile error says a client or driver broke the build
_CLIENT_ERROR = re.compile(r"pywalk/(clients|drivers|proc_walkers)\.h|csrc/(clients|proc_walkers)\.c|"
                           + "|".join(re.escape(f) for f in manifest.client_files()))


def broke_build(message: str) -> bool:
    """Does a build error's summary point at a client or driver (or their shim)?"""
    return bool(_CLIENT_ERROR.search(message.split("(full log", 1)[0]))


def patched_file_broke(message: str, patched: set[str]) -> str | None:
    """The client or driver file a patch changed that a build error's
    summary points at, if any: then the patch broke the build (exit 125),
    and building without the clients would hide it."""
    summary = message.split("(full log", 1)[0]
    for rel in manifest.client_files():
        if rel in patched and rel in summary:
            return rel
    return None


def slice_clients(files: dict[str, str], groups=GROUPS) -> tuple[dict[str, list[slicer.Definition]],
                                                              dict[str, list[str]]]:
    """Definitions found per group ("clients", "drivers"), and names per file."""
    by_group: dict[str, list[slicer.Definition]] = {"clients": [], "drivers": []}
    taken: dict[str, list[str]] = {}
    for take in manifest.CLIENT_SLICES:
        text = files.get(take.relpath)
        if text is None or take.group not in groups:
            continue
        defs = slicer.slice_symbols(text, take.relpath, list(take.names),
                                    optional=set(take.names))
        by_group[take.group].extend(defs)
        names = taken.setdefault(take.relpath, [])
        for d in defs:
            if d.name not in names:
                names.append(d.name)
    return by_group, taken


def available(found: set[str]) -> list[str]:
    """The clients and drivers whose every needed name was found."""
    return [c for c, need in manifest.CLIENT_NEEDS.items() if all(n in found for n in need)]


# What the harness (csrc/clients.c) takes from the slices, by name: reached
# through a hidden global pointer pw_tree_<name>, defined beside the tree's
# code, so that it links when the tree's code is its own instrumented
# translation unit (pywalk/variant/instrument.py: static functions called
# across that cut get aliases; objects and function pointers do not).
EXPORTS = {"show_numa_ops": "const struct mm_walk_ops", "wp_walk_ops": "const struct mm_walk_ops",
           "clean_walk_ops": "const struct mm_walk_ops",
           "smaps_walk_ops": "const struct mm_walk_ops", "pagemap_ops": "const struct mm_walk_ops",
           "mincore_walk_ops": "const struct mm_walk_ops", "do_mincore": None,
           "vfio_pci_mmap_huge_fault": None, "vfio_pci_mmap_page_fault": None,
           "dev_dax_huge_fault": None, "dev_dax_fault": None,
           "prctl_set_thp_disable": None}   # None: a function
_HIDDEN = '__attribute__((visibility("hidden")))'


def _export_decl(name: str) -> str:
    ty = EXPORTS[name]
    if ty is None:
        return f"extern __typeof__(&{name}) const pw_tree_{name} {_HIDDEN};\n"
    return f"extern {ty} *const pw_tree_{name} {_HIDDEN};\n"


def _export_def(name: str) -> str:
    ty = EXPORTS[name]
    if ty is None:
        return f"__typeof__(&{name}) const pw_tree_{name} = {name};\n"
    return f"{ty} *const pw_tree_{name} = &{name};\n"


def render(files: dict[str, str], groups=GROUPS) -> tuple[list[str], list[str],
                                                          dict[str, list[str]]]:
    """C text for the clients and drivers, and names taken per file: the
    declarations (the shim headers, the slices' types and prototypes; they
    go before the tree's code, where the harness sees them too) and the
    definitions (with the tree's code)."""
    by_group, taken = slice_clients(files, groups)
    found = {d.name for defs in by_group.values() for d in defs}
    have = available(found)
    flags = "".join(f"#define PW_SLICED_{n} 1\n" for n in sorted(found) if n.isidentifier())
    flags += "".join(f"#define PW_CLIENT_{c.upper().replace('-', '_')} 1\n" for c in have)
    split = {g: ([d for d in defs if d.kind in _TYPE_KINDS],
                 [d for d in defs if d.kind not in _TYPE_KINDS]) for g, defs in by_group.items()}
    exports = [n for n in EXPORTS if n in found]
    decls = [
        "/* ---- the tree's walk clients and drivers: shim, types, declarations"
        " (pywalk/variant/clients.py) ---- */\n",
        "#line 1 \"<pywalk>\"\n", flags,
        "#include \"pywalk/clients.h\"\n" if "clients" in groups else "",
        slicer.render(split["clients"][0], prototypes=False),
        "#line 1 \"<pywalk>\"\n#include \"pywalk/drivers.h\"\n" if "drivers" in groups else "",
        slicer.render(split["drivers"][0], prototypes=False),
        slicer.render_prototypes(split["clients"][1] + split["drivers"][1]),
        "#line 1 \"<pywalk>\"\n", "".join(_export_decl(n) for n in exports),
    ]
    defs = [
        "/* ---- the tree's walk clients and drivers (pywalk/variant/clients.py) ---- */\n",
        slicer.render(split["clients"][1], prototypes=False),
        slicer.render(split["drivers"][1], prototypes=False),
        "#line 1 \"<pywalk>\"\n", "".join(_export_def(n) for n in exports),
    ]
    return decls, defs, taken
