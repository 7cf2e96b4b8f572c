# SPDX-License-Identifier: GPL-2.0-only
"""The tree files a build uses, after patches; notes, warnings, unused patches.

Every file patch is applied (pywalk/variant/patch_apply.py), so a hunk that
does not apply, or a file the tree lacks, stops the build even when the
build does not use that file.  One exception, with a warning: a cached
Debian package or tarball is unpacked only in part (sources.NEEDED), so a
file patch for a file outside that part (fs/, drivers/, ...), which the
build does not use, cannot be checked and is left out.

A patch "changes nothing the build uses" when, with the whole stack
applied, no file it touches differs in what the build takes from it: the
whole file for a file compiled whole (mm/pagewalk.c), the sliced
definitions for the others, the detected API facts for the headers those
are read from.  `pywalk build` warns; `stress`, `matrix` and `bench` stop
with exit 125 unless --allow-unused-patch (``allow_unused``).
"""

from __future__ import annotations

import dataclasses

from pywalk.errors import BuildError, PatchError
from pywalk.tree import facts as tree_facts
from pywalk.tree import sources
from pywalk.variant import manifest, slicer
from pywalk.variant.patch_apply import apply_patches
from pywalk.variant.patch_files import Patch

EXTRA_READS = tuple(f for f in tree_facts.READS if f not in manifest.files_used())


# the tree's walk clients and drivers (pywalk/variant/clients.py): read when
# the source has them; a source without one builds without that client
CLIENT_READS = tuple(f for f in manifest.client_files()
                     if f not in manifest.files_used() and f not in EXTRA_READS)


def wanted_files() -> list[str]:
    return manifest.files_used() + list(EXTRA_READS) + list(CLIENT_READS)


def _outside_subset(src: sources.KernelSource, rel: str) -> bool:
    """Is rel outside the part of the kernel a cached source unpacks?
    (A user's tree is read in place and whole.)"""
    if not src.origin.startswith(("debian:", "tarball:")):
        return False
    return not any(rel == n or rel.startswith(n + "/") for n in sources.NEEDED)


def _applicable(src: sources.KernelSource, patches: list[Patch], wanted: list[str],
                notes: list[str]) -> tuple[list[Patch], list[list[str]]]:
    """The patches, less the file patches for files outside the part of the
    tree a cached source holds that the build does not use (with a warning);
    and per patch the files so left out."""
    out, left_out = [], []
    for p in patches:
        keep, gone = [], []
        for fp in p.files:
            names = fp.names(1) + fp.names(0)
            if (not fp.is_new and not set(names) & set(wanted)
                    and not any(src.has(n) for n in names)
                    and all(_outside_subset(src, n) for n in names)):
                gone.append(fp.names(1)[0] if fp.names(1) else fp.new_path)
                notes.append(f"warning: {p.name}: {gone[-1]} not applied: {src.origin} holds only "
                             f"{', '.join(sources.NEEDED)} and the build does not use it")
            else:
                keep.append(fp)
        out.append(p if len(keep) == len(p.files) else dataclasses.replace(p, files=keep))
        left_out.append(gone)
    return out, left_out


def _used_part(rel: str, text: str | None):
    """What a build takes from one file, for comparison."""
    if text is None:
        return None
    if rel in manifest.WHOLE:
        return text
    taken = []
    for take in manifest.SLICES:
        if take.relpath == rel:
            try:
                defs = slicer.slice_symbols(text, rel, list(take.names), optional=set(take.names))
            except slicer.SliceError as e:    # the build will say so
                return ("error", str(e))
            taken += [(d.name, d.kind, d.text, tuple(d.conditions)) for d in defs]
    return taken


def _unused(patches: list[Patch], touched: list[list[str]], before, after,
            wanted: list[str]) -> list[int]:
    """The indexes of the patches without effect on the build."""
    facts_differ = (any(f in tree_facts.READS for t in touched for f in t)
                    and tree_facts.detect(before) != tree_facts.detect(after))
    differs: dict[str, bool] = {}
    for rel in {f for t in touched for f in t if f in wanted}:
        differs[rel] = (_used_part(rel, before(rel)) != _used_part(rel, after(rel))
                        or (facts_differ and rel in tree_facts.READS))
    return [i for i, t in enumerate(touched) if not any(differs.get(f) for f in t)]


def read_tree(src: sources.KernelSource, patches: list[Patch], *, fuzz: int | None = None,
              allow_unused: bool = True) -> tuple[dict[str, str], list[str]]:
    """Contents of every file the build uses, after patches; and notes.

    Notes are one line each: a -p0 patch, hunks applied at an offset or with
    fuzz (only with ``fuzz``), and warnings.  With ``allow_unused`` False a
    patch that changes nothing the build uses is a PatchError (exit 125)."""
    wanted = wanted_files()
    cache: dict[str, str | None] = {}

    def read(rel: str) -> str | None:
        if rel not in cache:
            cache[rel] = src.read(rel) if src.has(rel) and src.path(rel).is_file() else None
        return cache[rel]

    notes: list[str] = []
    patches, left_out = _applicable(src, patches, wanted, notes)
    applied = apply_patches(patches, read, fuzz=fuzz) if patches else None
    patched = applied.files if applied else {}
    notes += [str(n) for n in applied.notes] if applied else []

    def after(rel: str) -> str | None:
        return patched[rel] if rel in patched else read(rel)

    for i in (_unused(patches, applied.touched, read, after, wanted) if applied else []):
        p, touched = patches[i], applied.touched[i]
        what = (f"touches only files this build does not use ({', '.join(touched)})"
                if not set(touched) & set(wanted) else
                f"does not change what this build takes from "
                f"{', '.join(f for f in touched if f in wanted)}")
        if not touched:
            gone = left_out[i]
            what = (f"touches only files outside the part of the tree {src.origin} holds, which "
                    f"this build does not use ({', '.join(gone)})")
        if not allow_unused:
            raise PatchError(f"pywalk: patch {p.name} changes nothing this build uses: it {what};"
                             " the variant would run unpatched code (--allow-unused-patch runs"
                             " it anyway)")
        notes.append(f"warning: patch {p.name} {what}: it has no effect on the variant")
    files: dict[str, str] = {}
    for rel in wanted:
        text = after(rel)
        if text is None:
            if rel in EXTRA_READS:
                continue
            if rel in CLIENT_READS:
                notes.append(f"note: {src.origin} lacks {rel}: its walk client or driver is "
                             "left out of this build")
                continue
            raise BuildError(f"pywalk: kernel source {src.origin} lacks {rel}")
        files[rel] = text
    return files, notes
