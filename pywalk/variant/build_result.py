# SPDX-License-Identifier: GPL-2.0-only
"""What a build made: the variant's module, the tree files and functions it
took (one record per file), its notes and facts; ``build --json`` prints it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pywalk.tree import sources
from pywalk.variant import labels
from pywalk.variant import model as build_model
from pywalk.variant.patches import Patch


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
    instrumented: bool = False  # the tree's code built with -fsanitize=thread (instrument.py)
    model: str = "native"       # pywalk/variant/model.py

    @property
    def label(self) -> str:
        """kernel version (and git describe), patch names (pywalk/variant/labels.py);
        the model when it is not the default"""
        return labels.label(self.kernel.version, self.kernel_git,
                            [p.name for p in self.patches],
                            [p.sha256 for p in self.patches]) + build_model.suffix(self.model)

    def as_json(self) -> dict:
        return {
            "variant": self.variant_id,
            "kernel": self.kernel.version,
            "origin": self.kernel.origin,
            "package": self.kernel.package,
            "package_version": self.kernel.package_version,
            "archive_sha256": self.kernel.archive_sha256,
            "kernel_git": self.kernel_git,
            "label": self.label,
            "patches": [{"name": p.name, "subject": p.subject, "sha256": p.sha256}
                        for p in self.patches],
            "module": str(self.module_path),
            "sources": [s.as_json() for s in self.sources],
            "notes": self.notes,
            "facts": self.facts,
            "instrumented": self.instrumented,
            "model": self.model,
            "cache_hit": not self.compiled,
            "seconds": round(self.seconds, 3),
        }
