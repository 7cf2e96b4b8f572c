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

from pywalk.variant import manifest, slicer

_TYPE_KINDS = ("struct", "union", "enum", "typedef", "macro")


def slice_clients(files: dict[str, str]) -> tuple[dict[str, list[slicer.Definition]],
                                                   dict[str, list[str]]]:
    """Definitions found per group ("clients", "drivers"), and names per file."""
    by_group: dict[str, list[slicer.Definition]] = {"clients": [], "drivers": []}
    taken: dict[str, list[str]] = {}
    for take in manifest.CLIENT_SLICES:
        text = files.get(take.relpath)
        if text is None:
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


def _render_group(defs: list[slicer.Definition]) -> str:
    types = [d for d in defs if d.kind in _TYPE_KINDS]
    rest = [d for d in defs if d.kind not in _TYPE_KINDS]
    return (slicer.render(types, prototypes=False) + slicer.render_prototypes(rest)
            + slicer.render(rest, prototypes=False))


def render(files: dict[str, str]) -> tuple[list[str], dict[str, list[str]]]:
    """C text for the clients and drivers (shim header first), and names taken per file."""
    by_group, taken = slice_clients(files)
    found = {d.name for defs in by_group.values() for d in defs}
    have = available(found)
    flags = "".join(f"#define PW_SLICED_{n} 1\n" for n in sorted(found) if n.isidentifier())
    flags += "".join(f"#define PW_HAVE_{c.upper().replace('-', '_')} 1\n" for c in have)
    parts = [
        "/* ---- the tree's walk clients and drivers (pywalk/variant/clients.py) ---- */\n",
        "#line 1 \"<pywalk>\"\n", flags,
        "#include \"pywalk/clients.h\"\n",
        _render_group(by_group["clients"]),
        "#line 1 \"<pywalk>\"\n#include \"pywalk/drivers.h\"\n",
        _render_group(by_group["drivers"]),
    ]
    return parts, taken
