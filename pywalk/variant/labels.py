# SPDX-License-Identifier: GPL-2.0-only
"""Labels that tell variants apart.

A variant is labelled by its kernel version, the tree's commit when it is a
git worktree (``git describe --always --dirty``) and its patches' file
names: ``6.1.176+0001-fix.patch``, ``6.1.176(v6.1-3-gabc1234-dirty)``.
Where two variants of one run would get the same label from different
patch contents (two ``fix.patch`` from different directories), the short
content hash of each patch set is added: ``6.1.176+fix.patch@1a2b3c4``.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence


def kernel_label(version: str, git: str | None) -> str:
    return f"{version}({git})" if git else version


def set_hash(sha256s: Iterable[str]) -> str:
    """Short content hash of a patch set (its patches' sha256, in order)."""
    return hashlib.sha256("\n".join(sha256s).encode()).hexdigest()[:7]


def label(version: str, git: str | None, patch_names: Sequence[str],
          sha256s: Sequence[str] = (), *, with_hash: bool = False) -> str:
    """The label; with the patch set's content hash if with_hash, or if a
    patch name repeats within the set (dir1/fix.patch, dir2/fix.patch)."""
    out = kernel_label(version, git) + "".join(f"+{n}" for n in patch_names)
    if sha256s and (with_hash or len(set(patch_names)) != len(patch_names)):
        out += "@" + set_hash(sha256s)
    return out


def clashing(items: Sequence[tuple[str, str]]) -> list[bool]:
    """For (label, content hash) pairs: which must show the hash, because
    another item has the same label and other contents."""
    return [any(l2 == lab and h2 != h for l2, h2 in items) for lab, h in items]
