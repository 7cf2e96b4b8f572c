# SPDX-License-Identifier: GPL-2.0-only
"""Compile errors, shown as gcc shows them.

A failed variant build is explained in one of two ways:

* an error in the tree's code or in a patch (a name the tree does not
  define, a typo, a wrong type, ...): gcc's own message at the kernel
  ``file:line`` (scratch and asset prefixes stripped), the source line from
  the patched tree, and gcc's notes (``did you mean ...``), as Kbuild would
  show them;
* a gap in the shim: the tree defines a name (function, macro, type, struct
  member, signature) that the shim does not serve yet, listed on one line
  with where the tree's code first uses it.

Whether the tree defines a name is read from the tree's own (patched)
files, :func:`pywalk.tree.facts.tree_defines`.

gcc runs in the C locale (:func:`gcc_env`), so its messages are English
and quote names with ASCII apostrophes ('name') whatever the user's locale:
the patterns below match that one form.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from pywalk.tree.facts import tree_defines

_HEAD = re.compile(r"^(?P<file>[^:\s][^:]*):(?P<line>\d+)(?::(?P<col>\d+))?: "
                   r"(?P<sev>fatal error|error|warning|note): (?P<msg>.*)$")
_CARET = re.compile(r"^\s*\d*\s*\|")
_GAPS = (
    ("function", re.compile(r"implicit declaration of function '(\w+)'")),
    ("identifier", re.compile(r"'(\w+)' undeclared")),
    ("type", re.compile(r"unknown type name '(\w+)'")),
    ("type", re.compile(r"(?:invalid use of undefined type|storage size of .* isn't known).*"
                        r"'(?:struct|union|enum) (\w+)'")),
    ("member", re.compile(r"'(?:const |volatile )*(?:struct|union) (\w+)' has no member named '(\w+)'")),
    ("signature", re.compile(r"too (?:many|few) arguments to function '(\w+)'")),
    ("signature", re.compile(r"macro '(\w+)' (?:requires|passed) \d+ arguments")),
)
_KINDS = {"function": "function", "identifier": "macro/identifier", "type": "type",
          "member": "struct member", "signature": "signature differs"}
MAX_SHOWN = 3   # errors in the tree's code shown in full


def gcc_env() -> dict[str, str]:
    """The environment to run gcc in: the caller's, in the C locale (English
    messages, ASCII quotes; LANGUAGE is ignored there)."""
    return {**os.environ, "LC_ALL": "C"}


@dataclass
class Diagnostic:
    file: str
    line: int
    col: int | None
    severity: str
    message: str
    caret: list[str] = field(default_factory=list)   # gcc's source/caret/fix-it lines
    notes: list["Diagnostic"] = field(default_factory=list)

    def where(self) -> str:
        return f"{self.file}:{self.line}" + (f":{self.col}" if self.col else "")


def parse(log: str, strip: list[tuple[str, str]]) -> list[Diagnostic]:
    """gcc's errors (and warnings) with their notes and caret lines; strip
    maps path prefixes (scratch copies, asset dirs) to what users know."""
    for prefix, repl in strip:
        log = log.replace(prefix.rstrip("/") + "/", repl)
    out: list[Diagnostic] = []
    last: Diagnostic | None = None
    for raw in log.splitlines():
        m = _HEAD.match(raw.strip())
        if m:
            d = Diagnostic(m.group("file"), int(m.group("line")),
                           int(m.group("col")) if m.group("col") else None,
                           m.group("sev"), m.group("msg"))
            if d.severity == "note" and out:
                out[-1].notes.append(d)
            elif d.severity != "note":
                out.append(d)
            last = d
        elif last is not None and _CARET.match(raw):
            last.caret.append(raw.rstrip())
        else:
            last = None if not raw.startswith(" ") else last
    return out


def _gap(d: Diagnostic) -> tuple[str, str, str | None] | None:
    """(kind, name, member) of a missing-name error, else None."""
    for kind, rx in _GAPS:
        g = rx.search(d.message)
        if g:
            return kind, g.group(1), g.group(2) if kind == "member" else None
    return None


def _source_line(files: dict[str, str], d: Diagnostic) -> list[str]:
    if d.caret:
        return d.caret
    text = files.get(d.file)
    if text is None:
        return []
    lines = text.splitlines()
    if not 1 <= d.line <= len(lines):
        return []
    src = lines[d.line - 1]
    out = [f" {d.line:>5} | {src}"]
    if d.col:
        out.append(f" {'':>5} | {' ' * (d.col - 1)}^")
    return out


def show(d: Diagnostic, files: dict[str, str]) -> list[str]:
    """One error as gcc shows it: message, source line, notes."""
    lines = [f"{d.where()}: {d.severity}: {d.message}", *_source_line(files, d)]
    for n in d.notes:
        lines += [f"{n.where()}: note: {n.message}", *_source_line(files, n)]
    return lines


def summarise(log: str, files: dict[str, str], strip: list[tuple[str, str]],
              log_path: str) -> str:
    """The message of a failed build: gcc's errors in the tree's code or in
    a patch, shown as gcc shows them; or (one line) what the shim lacks for
    names this tree defines; or the first error in the shim or harness."""
    diags = parse(log, strip)
    errors = [d for d in diags if d.severity in ("error", "fatal error")]
    tree_errors: list[Diagnostic] = []
    gaps: dict[tuple[str, str], str] = {}
    ours: list[Diagnostic] = []
    for d in errors:
        g = _gap(d)
        in_tree = d.file in files
        if g is not None:
            kind, name, member = g
            if tree_defines(files, name, member):
                label = f"{name}.{member}" if member else name
                if kind == "member":
                    label = f"struct {label}"
                gaps.setdefault((kind, label), f"{d.file}:{d.line}")
                continue
        (tree_errors if in_tree else ours).append(d)
    count = f"{len(errors)} compiler error(s)"
    if ours and errors and errors[0] is ours[0]:
        # the first error is in the shim or harness: what follows may be its echo
        return "\n".join([f"build failed: in pywalk's own code: {ours[0].where()}: error: "
                          f"{ours[0].message} ({count}; full log: {log_path})",
                          *show(ours[0], files)])
    gap_line = ("the shim does not provide for this tree: "
                + ", ".join(f"{_KINDS[k]} {n} ({w})" for (k, n), w in gaps.items())) if gaps else ""
    if tree_errors:
        first = tree_errors[0]
        head = (f"build failed: {first.where()}: error: {first.message} "
                f"({count}; full log: {log_path})")
        if gaps:   # the errors in the tree's code may follow from what the shim lacks
            head = f"build failed: {gap_line}; {count} (full log: {log_path})"
        body: list[str] = []
        for d in tree_errors[:MAX_SHOWN]:
            body += show(d, files)
        if len(tree_errors) > MAX_SHOWN:
            body.append(f"... and {len(tree_errors) - MAX_SHOWN} more in the tree's code")
        return "\n".join([head, *body])
    parts = [gap_line] if gaps else []
    parts.append(count)
    if ours and not gaps:
        parts.append(f"first, in pywalk's own code: {ours[0].where()}: error: {ours[0].message}")
    return "build failed: " + "; ".join(parts) + f" (full log: {log_path})"


def strip_prefixes(scratch: Path, workdir: Path, shim: Path, csrc: Path) -> list[tuple[str, str]]:
    """Path prefixes in gcc's messages, and what users know them as."""
    return [(str(scratch), ""), (str(workdir), ""), (str(shim), "shim/"), (str(csrc), "csrc/")]
