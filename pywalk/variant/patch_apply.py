# SPDX-License-Identifier: GPL-2.0-only
"""Apply patches with GNU patch, on a scratch copy of only the files involved.

The kernel tree (the cache's or the user's, which may be read-only) is only
ever read: each file a patch touches is copied into a private temporary
directory, GNU patch changes the copy, pywalk reads the result and the
directory is removed (also on Ctrl-C).

The rules, unless asked otherwise:

* strict by default, stricter than ``git apply`` (which takes a hunk at an
  offset: "Hunk #1 succeeded at 14 (offset 2 lines)"): no offset, no fuzz;
  ``-p1``, every hunk where it says with its whole context (GNU patch
  ``-F 0``; a hunk that only matches at an offset is refused);
* ``fuzz=N`` (``--fuzz N``): hunks may move (offset) and up to N lines of
  leading/trailing context may be ignored, as patch(1) does; each such hunk
  gives a note;
* a file the patch names that the tree lacks is an error naming the file;
* a ``-p0`` patch (``--- mm/pagewalk.c`` / ``+++ mm/pagewalk.c``, as
  ``diff -u`` run inside a tree makes) is recognised: its paths name files of
  the tree only without stripping, so it is applied with ``-p0`` and a note.

A hunk that does not apply raises :class:`~pywalk.errors.PatchError` (exit
125) showing the hunk next to the closest lines of the tree
(pywalk/variant/patch_report.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from pywalk.errors import BuildError, PatchError
from pywalk.variant.patch_files import FilePatch, Patch
from pywalk.variant.patch_report import rejected

__all__ = ["ApplyNote", "Applied", "apply_patches"]

_OK = re.compile(r"^Hunk #(\d+) succeeded at (\d+)(?: with fuzz (\d+))?"
                 r"(?: \(offset (-?\d+) lines?\))?\.")
_FAILED = re.compile(r"^Hunk #(\d+) FAILED at (\d+)")


@dataclass
class ApplyNote:
    """Something to know about how a patch applied (offset, fuzz, -p0)."""

    patch: str
    file: str
    hunk: str      # "@@ -a,b +c,d @@", or "" for a note about the whole patch
    kind: str      # "offset", "fuzz" or "p0"
    detail: str

    def __str__(self) -> str:
        where = f"hunk {self.hunk}: " if self.hunk else ""
        return f"{self.patch}: {self.file}: {where}{self.detail}"


@dataclass
class Applied:
    files: dict[str, str]                 # relpath -> text after all patches
    notes: list[ApplyNote]
    touched: list[list[str]] = field(default_factory=list)  # per patch, tree paths


def _gnu_patch() -> str:
    exe = shutil.which("patch")
    if exe is None:
        raise BuildError("pywalk: GNU patch is needed to apply --patch and is not on PATH "
                         "(Debian: apt install patch)")
    return exe


def _strip_level(patch: Patch, exists: Callable[[str], bool]) -> tuple[int, ApplyNote | None]:
    """-p1, or -p0 with a note for a patch without a/ b/ whose paths name
    tree files only as they are."""
    olds = [fp for fp in patch.files if not fp.is_new]
    if all(any(exists(n) for n in fp.names(1)) for fp in olds):
        return 1, None
    if patch.plain_paths and olds and all(any(exists(n) for n in fp.names(0)) for fp in olds):
        files = ", ".join(dict.fromkeys(fp.names(0)[0] for fp in olds))
        return 0, ApplyNote(patch.name, files, "", "p0",
                            "paths have no a/ b/ prefix (diff -u inside the tree?): "
                            "applied with -p0")
    return 1, None


def _target(patch: Patch, fp: FilePatch, strip: int, exists: Callable[[str], bool]) -> str:
    names = fp.names(strip)
    for n in names:
        if exists(n):
            return n
    if fp.is_new and names:
        return names[0]
    shown = names[0] if names else fp.new_path
    also = ""
    if strip == 1 and patch.plain_paths and fp.names(0) and fp.names(0)[0] != shown:
        also = f" (nor does {fp.names(0)[0]}, read as a -p0 path)"
    raise PatchError(f"pywalk: patch {patch.name} does not apply to {shown}:"
                     f" the file does not exist in the kernel tree{also}")


def _run(exe: str, scratch: Path, target: str, diff: str, fuzz: int | None) -> tuple[int, str]:
    cmd = [exe, "-p0", f"-F{fuzz or 0}", "-f", "-r", "-", "--no-backup-if-mismatch",
           "--quoting-style=literal", target]
    env = {k: v for k, v in os.environ.items() if k not in ("POSIXLY_CORRECT", "PATCH_GET",
                                                              "QUOTING_STYLE", "VERSION_CONTROL",
                                                              "SIMPLE_BACKUP_SUFFIX")}
    env["LC_ALL"] = "C"
    proc = subprocess.run(cmd, input=diff.encode("utf-8", "surrogateescape"), cwd=scratch,
                          capture_output=True, env=env)
    out = (proc.stdout + proc.stderr).decode("utf-8", "replace")
    return proc.returncode, out


def _apply_file(exe: str, scratch: Path, patch: Patch, fp: FilePatch, target: str,
                before: str | None, changed: bool, fuzz: int | None,
                notes: list[ApplyNote]) -> str:
    """GNU patch on one file's section; the new text or PatchError."""
    dest = scratch / target
    dest.parent.mkdir(parents=True, exist_ok=True)
    if before is None:
        dest.unlink(missing_ok=True)
    else:
        dest.write_bytes(before.encode("utf-8", "surrogateescape"))
    rc, out = _run(exe, scratch, target, fp.text(target), fuzz)
    count = len(fp.hunks)
    failed = []
    for line in out.splitlines():
        m = _FAILED.match(line)
        if m:
            failed.append(int(m.group(1)))
            continue
        m = _OK.match(line)
        if not m:
            continue
        index, fz, off = int(m.group(1)), int(m.group(3) or 0), int(m.group(4) or 0)
        hunk = fp.hunks[index - 1]
        if fuzz is None and (fz or off):
            raise PatchError(rejected(patch.name, target, hunk, index, count, before or "",
                                      fuzz=None, changed=changed, offset=off))
        lines = "line" if abs(off) == 1 else "lines"
        if fz:
            detail = f"applied with fuzz {fz}" + (f" at offset {off:+d} {lines}" if off else "")
        elif off:
            detail = f"applied at offset {off:+d} {lines}"
        else:
            continue
        notes.append(ApplyNote(patch.name, target, hunk.range, "fuzz" if fz else "offset", detail))
    if failed:
        index = failed[0]
        msg = rejected(patch.name, target, fp.hunks[index - 1], index, count, before or "",
                       fuzz=fuzz, changed=changed)
        if len(failed) > 1:
            msg += "\n  (also failed: " + ", ".join(
                f"hunk {i} {fp.hunks[i - 1].range}" for i in failed[1:]) + ")"
        raise PatchError(msg)
    if rc != 0:
        last = [l for l in out.splitlines() if l.strip()]
        raise PatchError(f"pywalk: patch {patch.name} does not apply to {target}: GNU patch: "
                         + (last[-1] if last else f"exit status {rc}"))
    return dest.read_bytes().decode("utf-8", "surrogateescape")


def apply_patches(patches: list[Patch], read: Callable[[str], str | None], *,
                  fuzz: int | None = None) -> Applied:
    """Apply patches in order to copies of the tree's files.

    ``read(relpath)`` returns a file's text, or None if the tree has no such
    file.  ``fuzz`` None is strict; an int allows offsets and that much fuzz.
    Returns the text of every touched file after all patches, the notes,
    and per patch the tree paths it touched.  Raises PatchError."""
    exe = _gnu_patch()
    state: dict[str, str | None] = {}
    changed: set[str] = set()
    notes: list[ApplyNote] = []
    touched: list[list[str]] = []

    def current(rel: str) -> str | None:
        if rel not in state:
            state[rel] = read(rel)
        return state[rel]

    def exists(rel: str) -> bool:
        return bool(rel) and current(rel) is not None

    with tempfile.TemporaryDirectory(prefix="pywalk-patch-") as tmp:
        scratch = Path(tmp)
        for patch in patches:
            strip, note = _strip_level(patch, exists)
            if note is not None:
                notes.append(note)
            mine: list[str] = []
            for fp in patch.files:
                target = _target(patch, fp, strip, exists)
                before = current(target)
                if fp.is_new and before:
                    raise PatchError(f"pywalk: patch {patch.name} does not apply to {target}:"
                                     " it creates the file, but the tree already has it")
                if fp.hunks:
                    state[target] = _apply_file(exe, scratch, patch, fp, target, before,
                                                target in changed, fuzz, notes)
                else:
                    state[target] = ""    # an empty new file (git: "new file mode")
                changed.add(target)
                if target not in mine:
                    mine.append(target)
            touched.append(mine)
    return Applied({rel: state[rel] or "" for rel in changed}, notes, touched)
