# SPDX-License-Identifier: GPL-2.0-only
"""Where the shim, the harness C and our patches are, installed or in a checkout."""

from __future__ import annotations

from pathlib import Path

from pywalk.errors import UsageError

_PKG = Path(__file__).resolve().parent


def asset_dir(name: str) -> Path:
    """shim/, csrc/ or patches/: inside the installed package, or beside it in a checkout."""
    inside = _PKG / name
    return inside if inside.is_dir() else _PKG.parent / name


def patch_path(rel: str) -> str:
    """A patch shipped with pywalk, e.g. '6.1/0001-....patch'."""
    p = asset_dir("patches") / rel
    if not p.exists():
        raise UsageError(f"pywalk: shipped patch {rel} is missing from {p.parent}")
    return str(p)
