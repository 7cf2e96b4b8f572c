# SPDX-License-Identifier: GPL-2.0-only
"""Patch files: loading and the metadata pywalk needs.

A ``--patch`` argument is a patch file (plain ``diff -u``, ``git diff`` or a
``git format-patch`` mail), a quilt directory (its ``series`` file gives the
order) or a directory whose ``*.patch`` / ``*.diff`` files are taken in name
order.  This module reads them: name, mail subject, sha256 of the file, and
for each file the patch touches its paths (as written: ``a/mm/x.c`` or
``mm/x.c``; the strip level is decided against the tree when applying) and
its hunks.  The hunks are parsed only to cut a patch into one section per
file, to label notes and to show a rejected hunk next to the tree's lines;
placing them is GNU patch's job (pywalk/variant/patch_apply.py).

Bad input (missing path, empty directory, a file that is no unified diff)
raises :class:`~pywalk.errors.UsageError` with a one-line message
``pywalk: --patch X: ...``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import os
import pathlib
import re
from dataclasses import dataclass, field
from typing import Iterable

from pywalk.errors import UsageError

__all__ = ["DEV_NULL", "FilePatch", "Hunk", "Patch", "load_patch", "load_patches"]

DEV_NULL = "/dev/null"

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_HEADER_LINE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_PATCH_TAG_RE = re.compile(r"^\s*\[[^\]]*PATCH[^\]]*\]\s*", re.IGNORECASE)


@dataclass
class Hunk:
    """One ``@@ -old_start,old_len +new_start,new_len @@`` block.

    ``lines`` keep their one-character prefix (' ', '-', '+'), without the
    "\\ No newline at end of file" markers; ``raw`` is the block as GNU patch
    gets it (header, lines and markers; an empty context line that a mailer
    stripped to "" is given back its space)."""

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    header: str
    lines: list[str]
    raw: list[str] = field(default_factory=list)

    @property
    def range(self) -> str:
        """The ``@@ -a,b +c,d @@`` part of the header."""
        return f"@@ -{self.old_start},{self.old_len} +{self.new_start},{self.new_len} @@"

    @property
    def section(self) -> str:
        """What follows the second ``@@`` (usually a function signature)."""
        m = _HUNK_RE.match(self.header)
        return m.group(5).strip() if m else ""

    @property
    def old_lines(self) -> list[str]:
        """Lines the file must have (context and '-' lines), without prefix."""
        return [l[1:] for l in self.lines if l[:1] in (" ", "-")]


def _strip(path: str, level: int) -> str:
    if path == DEV_NULL or level == 0:
        return path
    parts = path.split("/", level)
    return parts[level] if len(parts) > level else ""


@dataclass
class FilePatch:
    """The hunks for one file, paths as the diff writes them (``old_path``
    is ``/dev/null`` for a file the patch creates)."""

    old_path: str
    new_path: str
    hunks: list[Hunk]

    @property
    def is_new(self) -> bool:
        return self.old_path == DEV_NULL

    @property
    def prefixed(self) -> bool:
        """Paths with git's a/ and b/ prefixes (so certainly -p1)."""
        return ((self.old_path == DEV_NULL or self.old_path.startswith("a/"))
                and self.new_path.startswith("b/"))

    def names(self, strip: int) -> list[str]:
        """Candidate paths in the tree at a strip level, best first.

        For plain diffs of two differently named copies ("--- x.c.orig" /
        "+++ x.c") the best name is, as GNU patch has it, the one with the
        fewest components, then the shortest basename, then the shortest."""
        names = [_strip(p, strip) for p in (self.old_path, self.new_path) if p != DEV_NULL]
        names = [n for n in dict.fromkeys(names) if n]
        return sorted(names, key=lambda p: (p.count("/"), len(p.rsplit("/", 1)[-1]), len(p)))

    def text(self, target: str) -> str:
        """This section as a unified diff of ``target`` alone (-p0)."""
        old = DEV_NULL if self.is_new else target
        out = [f"--- {old}", f"+++ {target}"]
        for h in self.hunks:
            out += h.raw
        return "\n".join(out) + "\n"


@dataclass
class Patch:
    """A patch file: one or more file patches, and the mail subject if any."""

    path: pathlib.Path
    subject: str | None
    files: list[FilePatch]
    sha256: str
    text: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def plain_paths(self) -> bool:
        """No a/ b/ prefixes anywhere: maybe a -p0 diff (``diff -u`` in a tree)."""
        return not any(fp.prefixed for fp in self.files)


class _ParseError(Exception):
    pass


def _unquote_c(s: str) -> str:
    """Undo git's C-style quoting of unusual path names ("a/x\\ty")."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return s
    body, out, i = s[1:-1], bytearray(), 0
    simple = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11, "\\": 92, '"': 34}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            if body[i + 1] in simple:
                out.append(simple[body[i + 1]])
                i += 2
                continue
            if re.match(r"[0-7]{3}", body[i + 1:i + 4]):
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
        out += c.encode("utf-8", "surrogateescape")
        i += 1
    return out.decode("utf-8", "surrogateescape")


def _header_path(rest: str) -> str:
    """The path of a '--- ' / '+++ ' line, without timestamp."""
    rest = rest.rstrip("\r")
    if rest.startswith('"'):
        end = rest.find('"', 1)
        while end > 0 and rest[end - 1] == "\\":
            end = rest.find('"', end + 1)
        if end > 0:
            return _unquote_c(rest[: end + 1])
    if "\t" in rest:
        rest = rest.split("\t", 1)[0]
    else:
        # "diff -u" without tabs: "path  2024-01-01 00:00:00.000 +0000"
        m = re.match(r"^(.*?)\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", rest)
        if m:
            rest = m.group(1)
    return rest.rstrip()


def _check_relpath(path: str) -> None:
    if path == DEV_NULL:
        return
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise _ParseError(f"refusing unsafe path {path!r} in the diff")


def _subject(raw: str) -> str:
    s = " ".join(raw.split())
    while (m := _PATCH_TAG_RE.match(s)):
        s = s[m.end():]
    return s.strip()


def _split_mail(text: str) -> tuple[str | None, str]:
    """If text is a mail (git format-patch / mbox), return (subject, body)."""
    lines = text.split("\n")
    i = 1 if lines and lines[0].startswith("From ") else 0  # mbox "From <sha> Mon Sep 17 ..."
    if i == 0 and not (lines and _HEADER_LINE_RE.match(lines[0])):
        return None, text
    j = i
    while j < len(lines) and lines[j].strip() != "":
        if not (_HEADER_LINE_RE.match(lines[j]) or lines[j][:1] in (" ", "\t")):
            return None, text  # not a header block after all
        j += 1
    head = "\n".join(lines[i:j]) + "\n\n"
    msg = email.parser.HeaderParser(policy=email.policy.default).parsestr(head)
    if msg.get("Subject") is None and msg.get("From") is None:
        return None, text
    subject = _subject(str(msg["Subject"])) if msg.get("Subject") is not None else None
    body = "\n".join(lines[j + 1:])
    cte = str(msg.get("Content-Transfer-Encoding", "")).strip().lower()
    if cte in ("quoted-printable", "base64"):
        full = email.parser.Parser(policy=email.policy.default).parsestr("\n".join(lines[i:]))
        payload = full.get_payload(decode=True)
        if isinstance(payload, bytes):
            body = payload.decode(full.get_content_charset() or "utf-8", "surrogateescape")
    return subject or None, body


def _parse_hunk(lines: list[str], i: int, m: re.Match) -> tuple[Hunk, int]:
    """The hunk starting at lines[i]; ends after its stated line counts (so a
    mail's "-- " signature or trailing text is not part of it)."""
    old_len = int(m.group(2)) if m.group(2) is not None else 1
    new_len = int(m.group(4)) if m.group(4) is not None else 1
    header = lines[i].rstrip("\r")
    hunk = Hunk(int(m.group(1)), old_len, int(m.group(3)), new_len, header, [], [header])
    i, old_left, new_left = i + 1, old_len, new_len
    while i < len(lines):
        line = lines[i]
        if line.startswith("\\"):          # "\ No newline at end of file"
            if hunk.lines:
                hunk.raw.append(line.rstrip("\r"))
            i += 1
            continue
        if old_left == 0 and new_left == 0:
            break
        kind = line[:1]
        if line in ("", "\r"):
            kind, line = " ", " "  # mailers eat the space of empty context
        if kind == " " and old_left > 0 and new_left > 0:
            old_left, new_left = old_left - 1, new_left - 1
        elif kind == "-" and old_left > 0:
            old_left -= 1
        elif kind == "+" and new_left > 0:
            new_left -= 1
        else:
            raise _ParseError(
                f"hunk {hunk.header!r} is truncated or malformed at line {i + 1}"
                f" (still expecting {old_left} old and {new_left} new lines)")
        hunk.lines.append(line)
        hunk.raw.append(line)
        i += 1
    if old_left or new_left:
        raise _ParseError(f"hunk {hunk.header!r} is truncated at end of file")
    return hunk, i


def _parse_diff(body: str) -> list[FilePatch]:
    lines = body.split("\n")
    files: list[FilePatch] = []
    git: dict | None = None  # extended header info of the current "diff --git"
    i, n = 0, len(lines)

    def flush_git() -> None:
        # a "diff --git" block without ---/+++ (mode change, pure rename,
        # binary): refuse what we cannot represent, ignore mode changes.
        if git is None:
            return
        if git.get("binary"):
            raise _ParseError(f"binary diff for {git['name']} is not supported")
        if git.get("rename") or git.get("copy"):
            raise _ParseError(f"renames/copies ({git['name']}) are not supported")
        if git.get("deleted"):
            raise _ParseError(f"deleting files ({git['name']}) is not supported")
        if git.get("new"):
            files.append(FilePatch(DEV_NULL, git["new_path"], []))  # empty new file

    while i < n:
        line = lines[i]
        if line.startswith("diff --git "):
            flush_git()
            m = re.match(r'^diff --git ("?a/.*?"?) ("?b/.*"?)$', line.rstrip("\r"))
            git = {"name": line[len("diff --git "):],
                   "new_path": _unquote_c(m.group(2)) if m else ""}
            i += 1
            continue
        if git is not None:
            for prefix, key in (("new file mode", "new"), ("deleted file mode", "deleted"),
                                ("rename from", "rename"), ("rename to", "rename"),
                                ("copy from", "copy"), ("copy to", "copy"),
                                ("GIT binary patch", "binary"), ("Binary files", "binary")):
                if line.startswith(prefix):
                    git[key] = True
        if (line.startswith("--- ") and i + 2 < n and lines[i + 1].startswith("+++ ")
                and _HUNK_RE.match(lines[i + 2].rstrip("\r"))):
            old, new = _header_path(line[4:]), _header_path(lines[i + 1][4:])
            _check_relpath(old)
            _check_relpath(new)
            if old == DEV_NULL and new == DEV_NULL:
                raise _ParseError("a diff from /dev/null to /dev/null")
            if new == DEV_NULL or (git and git.get("deleted")):
                raise _ParseError(f"deleting files ({old}) is not supported")
            if git is not None and (git.get("rename") or git.get("copy")):
                raise _ParseError(f"renames/copies ({old} -> {new}) are not supported")
            fp = FilePatch(old, new, [])
            git = None
            i += 2
            while i < n and (m := _HUNK_RE.match(lines[i].rstrip("\r"))):
                hunk, i = _parse_hunk(lines, i, m)
                fp.hunks.append(hunk)
            files.append(fp)
            continue
        i += 1
    flush_git()
    return files


def _read_patch(path: pathlib.Path, spec: str) -> Patch:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"pywalk: --patch {spec}: no such file") from None
    except OSError as e:
        raise UsageError(f"pywalk: --patch {spec}: cannot read: {e.strerror}") from None
    text = data.decode("utf-8", "surrogateescape")
    try:
        subject, body = _split_mail(text)
        files = _parse_diff(body)
        if not files:
            raise _ParseError("no unified diff found (no '--- ' / '+++ ' / '@@' lines)")
    except _ParseError as e:
        raise UsageError(f"pywalk: --patch {spec}: not a usable unified diff: {e}") from None
    return Patch(path=path, subject=subject, files=files,
                 sha256=hashlib.sha256(data).hexdigest(), text=text)


def load_patch(path: str | os.PathLike) -> Patch:
    """Parse one patch file (plain unified diff or git format-patch mail)."""
    p = pathlib.Path(path)
    if p.is_dir():
        raise UsageError(f"pywalk: --patch {path}: is a directory, not a patch file")
    return _read_patch(p, str(path))


def _series_entries(series: pathlib.Path, spec: str) -> list[str]:
    names: list[str] = []
    try:
        text = series.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as e:
        raise UsageError(f"pywalk: --patch {spec}: cannot read series: {e.strerror}") from None
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        words = line.split()
        for opt in words[1:]:
            if opt != "-p1":
                raise UsageError(
                    f"pywalk: --patch {spec}: series line {lineno}: option {opt!r}"
                    " is not supported (only -p1)")
        names.append(words[0])
    return names


def load_patches(specs: Iterable[str | os.PathLike]) -> list[Patch]:
    """Expand --patch arguments into an ordered list of patches."""
    patches: list[Patch] = []
    for spec in specs:
        p = pathlib.Path(spec)
        if not p.exists():
            raise UsageError(f"pywalk: --patch {spec}: no such file or directory")
        if not p.is_dir():
            patches.append(_read_patch(p, str(spec)))
            continue
        series = p / "series"
        if series.is_file():
            names = _series_entries(series, str(spec))
            if not names:
                raise UsageError(f"pywalk: --patch {spec}: the series file lists no patches")
            for name in names:
                f = p / name
                if not f.is_file():
                    raise UsageError(
                        f"pywalk: --patch {spec}: series lists {name}, which does not exist")
                patches.append(_read_patch(f, str(f)))
            continue
        files = sorted((f for f in p.iterdir() if f.is_file()
                        and f.name.endswith((".patch", ".diff"))), key=lambda f: f.name)
        if not files:
            raise UsageError(f"pywalk: --patch {spec}: directory has no series file and no"
                             " *.patch or *.diff files")
        patches += [_read_patch(f, str(f)) for f in files]
    return patches
