# SPDX-License-Identifier: GPL-2.0-only
"""Which commit a user's kernel tree is at, when it is a git worktree.

``--kernel PATH`` on a git worktree (``git bisect run`` uses ``--kernel .``)
is labelled with ``git describe --always --dirty``, so that runs at
different commits of the same Makefile version can be told apart.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess


def _git(root: pathlib.Path, *args: str) -> str | None:
    env = dict(os.environ, LC_ALL="C", GIT_OPTIONAL_LOCKS="0")
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                              text=True, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else None


def describe(root: str | os.PathLike) -> str | None:
    """``git describe --always --dirty`` of the worktree whose top is root,
    or None (not a git worktree, a tree inside some other repository, no
    git)."""
    root = pathlib.Path(root).resolve()
    if shutil.which("git") is None or not (root / ".git").exists():
        return None
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or pathlib.Path(top).resolve() != root:
        return None
    return _git(root, "describe", "--always", "--dirty")
