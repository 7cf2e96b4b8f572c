# SPDX-License-Identifier: GPL-2.0-only
"""A small, pure-Python unified-diff engine.

pywalk applies patches to the kernel files it slices *in memory*: a patch
never touches the (read-only) kernel tree.  This module parses unified diffs
(plain ``diff -u`` output, ``git diff`` output, ``git format-patch`` mails and
quilt series) and applies them to strings with the same placement rules as
GNU patch:

* a hunk is first tried at the line it states (corrected by how far earlier
  hunks of the same file moved), then at increasing distance, later lines
  before earlier ones ("offset");
* if the exact context is nowhere, up to 1 and then 2 lines of leading and
  trailing context are ignored ("fuzz 1", "fuzz 2");
* lines are compared byte-exact, trailing whitespace included (no whitespace
  fuzz), and "\\ No newline at end of file" is honoured.

A hunk that cannot be placed raises :class:`~pywalk.errors.PatchError`
(exit code 125, "skip" for ``git bisect run``) whose first line reads::

    pywalk: patch NAME does not apply to FILE: hunk @@ -a,b +c,d @@ failed

followed by the lines the hunk expected and the closest lines the tree has.

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
from dataclasses import dataclass
from typing import Callable, Iterable

from pywalk.errors import PatchError, UsageError

__all__ = [
    "ApplyNote",
    "FilePatch",
    "Hunk",
    "Patch",
    "apply_patches",
    "load_patch",
    "load_patches",
]

DEV_NULL = "/dev/null"
MAX_FUZZ = 2

_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$")
_HEADER_LINE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]")
_PATCH_TAG_RE = re.compile(r"^\s*\[[^\]]*PATCH[^\]]*\]\s*", re.IGNORECASE)


# --------------------------------------------------------------------------
# data model


@dataclass
class Hunk:
    """One ``@@ -old_start,old_len +new_start,new_len @@`` block.

    ``lines`` keep their one-character prefix (' ', '-', '+').  The
    "\\ No newline at end of file" markers are not kept in ``lines``; they are
    recorded in ``old_no_newline`` / ``new_no_newline`` (the last old / new
    line of the hunk has no newline).  ``header`` is the whole ``@@`` line,
    including the function name git/diff -p puts after it.
    """

    old_start: int
    old_len: int
    new_start: int
    new_len: int
    header: str
    lines: list[str]
    old_no_newline: bool = False
    new_no_newline: bool = False

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

    @property
    def new_lines(self) -> list[str]:
        """Lines the file has afterwards (context and '+' lines), without prefix."""
        return [l[1:] for l in self.lines if l[:1] in (" ", "+")]


@dataclass
class FilePatch:
    """The hunks for one file.  Paths are relative, a/ and b/ stripped (-p1);
    ``old_path`` is ``/dev/null`` for a file the patch creates."""

    old_path: str
    new_path: str
    hunks: list[Hunk]

    @property
    def is_new(self) -> bool:
        return self.old_path == DEV_NULL

    @property
    def target(self) -> str:
        """The relative path this file patch changes."""
        if self.old_path == DEV_NULL or self.old_path == self.new_path:
            return self.new_path
        if self.new_path == DEV_NULL:
            return self.old_path
        # Plain (non-git) diffs of two differently named copies, e.g.
        # "--- mm/pagewalk.c.orig" / "+++ mm/pagewalk.c": like GNU patch,
        # prefer the "best" name (fewest components, shortest basename,
        # shortest name).  Git renames are refused when parsing.
        return min(
            (self.old_path, self.new_path),
            key=lambda p: (p.count("/"), len(p.rsplit("/", 1)[-1]), len(p)),
        )


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

    def touched(self) -> list[str]:
        """Relative paths the patch changes, in order of first appearance."""
        seen: list[str] = []
        for fp in self.files:
            if fp.target not in seen:
                seen.append(fp.target)
        return seen


@dataclass
class ApplyNote:
    """A hunk that applied, but not exactly where and how it said."""

    patch: str
    file: str
    hunk: str
    kind: str  # "offset" or "fuzz"
    detail: str

    def __str__(self) -> str:
        return f"{self.patch}: {self.file}: hunk {self.hunk} {self.detail}"


# --------------------------------------------------------------------------
# parsing


class _ParseError(Exception):
    pass


def _unquote_c(s: str) -> str:
    """Undo git's C-style quoting of unusual path names ("a/x\\ty")."""
    if len(s) < 2 or s[0] != '"' or s[-1] != '"':
        return s
    body = s[1:-1]
    out = bytearray()
    simple = {"n": 10, "t": 9, "r": 13, "a": 7, "b": 8, "f": 12, "v": 11,
              "\\": 92, '"': 34}
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n in simple:
                out.append(simple[n])
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


def _strip_p1(path: str) -> str:
    if path == DEV_NULL:
        return path
    if "/" in path:
        path = path.split("/", 1)[1]
    return path


def _check_relpath(path: str) -> None:
    if path == DEV_NULL:
        return
    if not path or path.startswith("/") or ".." in path.split("/"):
        raise _ParseError(f"refusing unsafe path {path!r} in the diff")


def _subject(raw: str) -> str:
    s = " ".join(raw.split())
    while True:
        m = _PATCH_TAG_RE.match(s)
        if not m:
            break
        s = s[m.end():]
    return s.strip()


def _split_mail(text: str) -> tuple[str | None, str]:
    """If text is a mail (git format-patch / mbox), return (subject, body)."""
    lines = text.split("\n")
    i = 0
    if lines and lines[0].startswith("From "):
        i = 1  # mbox "From <sha> Mon Sep 17 00:00:00 2001"
    elif not (lines and _HEADER_LINE_RE.match(lines[0])):
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
        full = email.parser.Parser(policy=email.policy.default).parsestr(
            "\n".join(lines[i:]))
        payload = full.get_payload(decode=True)
        if isinstance(payload, bytes):
            charset = full.get_content_charset() or "utf-8"
            body = payload.decode(charset, "surrogateescape")
    return subject or None, body


def _parse_hunk(lines: list[str], i: int, m: re.Match) -> tuple[Hunk, int]:
    old_start = int(m.group(1))
    old_len = int(m.group(2)) if m.group(2) is not None else 1
    new_start = int(m.group(3))
    new_len = int(m.group(4)) if m.group(4) is not None else 1
    header = lines[i].rstrip("\r")
    hunk = Hunk(old_start, old_len, new_start, new_len, header, [])
    i += 1
    old_left, new_left = old_len, new_len
    last = ""
    while i < len(lines):
        line = lines[i]
        if line.startswith("\\"):
            # "\ No newline at end of file" (any language): about `last`
            if last == " ":
                hunk.old_no_newline = hunk.new_no_newline = True
            elif last == "-":
                hunk.old_no_newline = True
            elif last == "+":
                hunk.new_no_newline = True
            i += 1
            continue
        if old_left == 0 and new_left == 0:
            break
        kind = line[:1]
        if line == "" or line == "\r":
            kind, line = " ", " "  # mailers eat the space of empty context
        if kind == " " and old_left > 0 and new_left > 0:
            old_left -= 1
            new_left -= 1
        elif kind == "-" and old_left > 0:
            old_left -= 1
        elif kind == "+" and new_left > 0:
            new_left -= 1
        else:
            raise _ParseError(
                f"hunk {hunk.header!r} is truncated or malformed at line {i + 1}"
                f" (still expecting {old_left} old and {new_left} new lines)")
        hunk.lines.append(line)
        last = kind
        i += 1
    if old_left or new_left:
        raise _ParseError(f"hunk {hunk.header!r} is truncated at end of file")
    return hunk, i


def _parse_diff(body: str) -> list[FilePatch]:
    lines = body.split("\n")
    files: list[FilePatch] = []
    git: dict | None = None  # extended header info of the current "diff --git"
    i = 0
    n = len(lines)

    def flush_git() -> None:
        # a "diff --git" block without ---/+++ (mode change, pure rename,
        # binary): refuse what we cannot represent, ignore mode changes.
        if git is None:
            return
        if git.get("binary"):
            raise _ParseError(f"binary diff for {git['name']} is not supported")
        if git.get("rename") or git.get("copy"):
            raise _ParseError(f"renames/copies ({git['name']}) are not supported")
        if git.get("new"):
            files.append(FilePatch(DEV_NULL, git["new_path"], []))  # empty new file
        if git.get("deleted"):
            raise _ParseError(f"deleting files ({git['name']}) is not supported")

    while i < n:
        line = lines[i]
        if line.startswith("diff --git "):
            flush_git()
            m = re.match(r'^diff --git ("?a/.*?"?) ("?b/.*"?)$', line.rstrip("\r"))
            name = line[len("diff --git "):]
            new_path = _strip_p1(_unquote_c(m.group(2))) if m else ""
            git = {"name": name, "new_path": new_path}
            i += 1
            continue
        if git is not None:
            if line.startswith("new file mode"):
                git["new"] = True
            elif line.startswith("deleted file mode"):
                git["deleted"] = True
            elif line.startswith(("rename from", "rename to")):
                git["rename"] = True
            elif line.startswith(("copy from", "copy to")):
                git["copy"] = True
            elif line.startswith(("GIT binary patch", "Binary files")):
                git["binary"] = True
        if (line.startswith("--- ") and i + 2 < n
                and lines[i + 1].startswith("+++ ")
                and _HUNK_RE.match(lines[i + 2].rstrip("\r"))):
            old = _strip_p1(_header_path(line[4:]))
            new = _strip_p1(_header_path(lines[i + 1][4:]))
            _check_relpath(old)
            _check_relpath(new)
            if old == DEV_NULL and new == DEV_NULL:
                raise _ParseError("a diff from /dev/null to /dev/null")
            if new == DEV_NULL or (git and git.get("deleted")):
                raise _ParseError(f"deleting files ({old}) is not supported")
            if git is not None and (git.get("rename") or git.get("copy")):
                raise _ParseError(f"renames/copies ({old} -> {new}) are not supported")
            git = None
            fp = FilePatch(old, new, [])
            i += 2
            while i < n:
                m = _HUNK_RE.match(lines[i].rstrip("\r"))
                if not m:
                    break
                hunk, i = _parse_hunk(lines, i, m)
                fp.hunks.append(hunk)
            files.append(fp)
            continue
        i += 1
    flush_git()
    return files


def _parse(text: str) -> tuple[str | None, list[FilePatch]]:
    subject, body = _split_mail(text)
    files = _parse_diff(body)
    if not files:
        raise _ParseError("no unified diff found (no '--- ' / '+++ ' / '@@' lines)")
    return subject, files


def _read_patch(path: pathlib.Path, spec: str) -> Patch:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"pywalk: --patch {spec}: no such file") from None
    except OSError as e:
        raise UsageError(f"pywalk: --patch {spec}: cannot read: {e.strerror}") from None
    text = data.decode("utf-8", "surrogateescape")
    try:
        subject, files = _parse(text)
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
    """Expand --patch arguments into an ordered list of patches.

    A spec is a patch file, a quilt directory (its ``series`` file gives the
    order) or a directory whose ``*.patch`` / ``*.diff`` files are applied in
    name order.
    """
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
        files = sorted(
            (f for f in p.iterdir()
             if f.is_file() and f.name.endswith((".patch", ".diff"))),
            key=lambda f: f.name)
        if not files:
            raise UsageError(
                f"pywalk: --patch {spec}: directory has no series file and no"
                " *.patch or *.diff files")
        for f in files:
            patches.append(_read_patch(f, str(f)))
    return patches


# --------------------------------------------------------------------------
# applying


@dataclass
class _Text:
    """A file as lines without terminators, and whether it ends in '\\n'."""

    lines: list[str]
    eol: bool = True
    changed: bool = False  # an earlier patch changed it

    @classmethod
    def parse(cls, text: str) -> "_Text":
        if text == "":
            return cls([], True)
        lines = text.split("\n")
        if lines[-1] == "":
            lines.pop()
            return cls(lines, True)
        return cls(lines, False)

    def render(self) -> str:
        if not self.lines:
            return ""
        return "\n".join(self.lines) + ("\n" if self.eol else "")

    def has_newline(self, i: int) -> bool:
        return i < len(self.lines) - 1 or self.eol


def _context_counts(hunk: Hunk) -> tuple[int, int]:
    """Number of leading and trailing context lines of a hunk."""
    pre = 0
    for l in hunk.lines:
        if l[:1] != " ":
            break
        pre += 1
    if pre == len(hunk.lines):
        return 0, 0  # context only (changes nothing): match it exactly
    suf = 0
    for l in reversed(hunk.lines):
        if l[:1] != " ":
            break
        suf += 1
    return pre, suf


@dataclass
class _Placement:
    where: int    # 0-based line of the input where the whole hunk starts
    fuzz: int
    offset: int   # where - guess


def _match(inp: _Text, hunk: Hunk, old: list[str], where: int, pf: int, sf: int) -> bool:
    """Do the old lines, except pf leading and sf trailing ones, equal the
    input at `where`?  Lines compare with their newline, so the file's last
    line matches a hunk line only if both lack (or both have) a newline."""
    n = len(old)
    for k in range(pf, n - sf):
        i = where + k
        if i < 0 or i >= len(inp.lines) or inp.lines[i] != old[k]:
            return False
        if inp.has_newline(i) != (k < n - 1 or not hunk.old_no_newline):
            return False
    return True


def _around(g: int, lo: int, hi: int) -> Iterable[int]:
    """g, g+1, g-1, g+2, g-2, ... within [lo, hi] (GNU patch's order)."""
    if lo > hi:
        return
    start = max(lo - g, g - hi, 0)
    for d in range(start, max(hi - g, g - lo) + 1):
        if lo <= g + d <= hi:
            yield g + d
        if d and lo <= g - d <= hi:
            yield g - d


def _locate(inp: _Text, hunk: Hunk, guess: int, frozen: int) -> _Placement | None:
    """Where does `hunk` apply?  A transcription of GNU patch's locate_hunk()
    (patch 2.7) to 0-based lines.

    `guess` is where the hunk should start (its stated line, moved by the
    offset earlier hunks were found at), `frozen` the number of input lines
    already copied to the output.  At fuzz level f, up to f leading and
    trailing context lines are not compared.  A hunk with less leading than
    trailing context that starts at line 1 must match at the start of the
    file; one with less trailing than leading context must match at the end.
    """
    old = hunk.old_lines
    pat = len(old)
    nin = len(inp.lines)
    if pat == 0:
        # a pure insertion: a null range matches where it says (GNU patch
        # does not even report an offset when that is past the end)
        return _Placement(min(max(guess, frozen), nin), 0, 0)
    pre, suf = _context_counts(hunk)
    context = max(pre, suf)
    for fuzz in range(0, min(MAX_FUZZ, context) + 1):
        pf = fuzz + pre - context
        sf = fuzz + suf - context
        max_where = nin - (pat - sf)
        min_where = frozen  # (GNU patch 2.7.6 refuses overlapping hunks)
        if pf < 0 and hunk.old_start <= 1:
            # can only match at the start of the file
            if sf < 0 and (pat != nin or pre < frozen):
                continue
            if frozen <= pre and 0 <= max_where and _match(inp, hunk, old, 0, 0, max(sf, 0)):
                return _Placement(0, fuzz, -guess)
            continue
        pf = max(pf, 0)
        if sf < 0:
            # can only match at the end of the file
            where = nin - pat
            if where >= min_where and _match(inp, hunk, old, where, pf, 0):
                return _Placement(where, fuzz, where - guess)
            continue
        for where in _around(guess, min_where, max_where):
            if _match(inp, hunk, old, where, pf, sf):
                return _Placement(where, fuzz, where - guess)
    return None


class _Output:
    """The patched file, written front to back like GNU patch does."""

    def __init__(self, inp: _Text):
        self.inp = inp
        self.lines: list[str] = []
        self.eol = True     # does the last output line end in a newline?
        self.frozen = 0     # input lines consumed so far

    def copy_till(self, k: int) -> None:
        while self.frozen < k:
            self.lines.append(self.inp.lines[self.frozen])
            self.eol = self.inp.has_newline(self.frozen)
            self.frozen += 1

    def apply(self, hunk: Hunk, where: int) -> None:
        k = 0  # index into the hunk's old lines
        new_total = sum(1 for l in hunk.lines if l[:1] in (" ", "+"))
        j = 0  # index into the hunk's new lines
        for l in hunk.lines:
            c = l[:1]
            if c == " ":
                k += 1
                j += 1
            elif c == "-":
                self.copy_till(where + k)
                self.frozen += 1
                k += 1
            else:
                self.copy_till(where + k)
                self.lines.append(l[1:])
                j += 1
                self.eol = not (j == new_total and hunk.new_no_newline)

    def finish(self) -> _Text:
        self.copy_till(len(self.inp.lines))
        return _Text(self.lines, self.eol if self.lines else True, changed=True)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if abs(n) == 1 else "s")


def _visible(s: str, exact: bool = False) -> str:
    """A line for a message: whitespace-only lines (and, with exact, any
    line) are shown as a Python literal so that tabs and blanks can be told
    apart."""
    return repr(s) if exact or (s and not s.strip()) else s


def _failure(patch: Patch, path: str, hunk: Hunk, index: int, count: int,
             text: _Text, guess: int, min_pos: int) -> PatchError:
    """The PatchError for a hunk that could not be placed."""
    old = hunk.old_lines
    lines = text.lines
    n = len(old)
    # best = most lines equal; ties -> closest to where the hunk was expected
    best_pos, best_eq = 0, -1
    for pos in range(0, max(len(lines) - n, 0) + 1):
        eq = sum(1 for a, b in zip(lines[pos: pos + n], old) if a == b)
        if eq > best_eq or (eq == best_eq and abs(pos - guess) < abs(best_pos - guess)):
            best_pos, best_eq = pos, eq
    window = lines[best_pos: best_pos + n]
    ws_only = [k for k, (a, b) in enumerate(zip(window, old))
               if a != b and a.split() == b.split()]

    out = [f"pywalk: patch {patch.name} does not apply to {path}:"
           f" hunk {hunk.range} failed"]
    out.append(f"  hunk {index} of {count}, stated at line {hunk.old_start}"
               + (f", in: {hunk.section}" if hunk.section else ""))
    out.append(f"  no match at any offset, not even ignoring {MAX_FUZZ} lines of"
               f" leading/trailing context (fuzz {MAX_FUZZ})")
    out.append("  expected:")
    k = 0
    for l in hunk.lines:
        if l[:1] in (" ", "-"):
            out.append(f"  {hunk.old_start + k:6d} {l[:1]}|{_visible(l[1:], k in ws_only)}")
            k += 1
    if n == 0:
        out.append("         (no lines)")
    changed = " (with the earlier patches applied)" if text.changed else ""
    if window:
        out.append(f"  tree has at line {best_pos + 1}{changed}"
                   f" ({max(best_eq, 0)} of {n} lines equal):")
        for k, l in enumerate(window):
            mark = " " if l == old[k] else "!"
            out.append(f"  {best_pos + 1 + k:6d} {mark}|{_visible(l, k in ws_only)}")
        if len(window) < n:
            out.append("         (end of file)")
    else:
        out.append(f"  tree has at line 1{changed}: nothing (the file is empty)")
    if ws_only:
        out.append(f"  note: {_plural(len(ws_only), 'line')} "
                   + ("differs" if len(ws_only) == 1 else "differ")
                   + " only in whitespace (shown quoted); whitespace must match exactly")
    if n and best_eq == n:
        pre, suf = _context_counts(hunk)
        if best_pos < min_pos:
            out.append("  note: those lines were already used by an earlier hunk;"
                       " hunks must not overlap or go backwards")
        elif any(text.has_newline(best_pos + k) != (k < n - 1 or not hunk.old_no_newline)
                 for k in range(n)):
            out.append("  note: the lines match, but the newline at the end of the"
                       " file does not (\\ No newline at end of file)")
        elif pre != suf:
            out.append(f"  note: the hunk has {pre} leading but {suf} trailing context"
                       " lines, so (like GNU patch) it is only tried at the "
                       + ("start" if pre < suf else "end") + " of the file")
    return PatchError("\n".join(out))


def _apply_file(patch: Patch, fp: FilePatch, path: str, inp: _Text,
                notes: list[ApplyNote]) -> _Text:
    """Apply one file's hunks to inp; return the new text."""
    out = _Output(inp)
    in_offset = 0   # how far from their stated lines earlier hunks were found
    count = len(fp.hunks)
    for index, hunk in enumerate(fp.hunks, 1):
        stated = hunk.old_start if hunk.old_len == 0 else hunk.old_start - 1
        guess = stated + in_offset
        pl = _locate(inp, hunk, guess, out.frozen)
        if pl is None:
            raise _failure(patch, path, hunk, index, count, inp, guess, out.frozen)
        in_offset += pl.offset
        out.apply(hunk, pl.where)
        if pl.fuzz or in_offset:
            lines = "line" if abs(in_offset) == 1 else "lines"
            if pl.fuzz:
                detail = f"applied with fuzz {pl.fuzz}"
                if in_offset:
                    detail += f" at offset {in_offset:+d} {lines}"
            else:
                detail = f"applied at offset {in_offset:+d} {lines}"
            notes.append(ApplyNote(patch=patch.name, file=path, hunk=hunk.range,
                                   kind="fuzz" if pl.fuzz else "offset", detail=detail))
    return out.finish()


def apply_patches(
    patches: list[Patch], read: Callable[[str], str | None]
) -> tuple[dict[str, str], list[ApplyNote]]:
    """Apply patches in order to kernel file texts, in memory.

    ``read(relpath)`` returns a file's current text, or None if the tree has
    no such file.  Returns ``{relpath: new_text}`` for every touched file and
    notes for hunks applied at an offset or with fuzz.  Raises PatchError.
    """
    state: dict[str, _Text] = {}
    notes: list[ApplyNote] = []
    for patch in patches:
        for fp in patch.files:
            path = _resolve(fp, state, read)
            if fp.is_new:
                existing = state.get(path)
                if existing is not None and existing.lines:
                    raise PatchError(
                        f"pywalk: patch {patch.name} does not apply to {path}:"
                        " it creates the file, but the tree already has it")
                state[path] = _Text([], True, changed=existing is not None and existing.changed)
            elif path not in state:
                raise PatchError(
                    f"pywalk: patch {patch.name} does not apply to {path}:"
                    " the file does not exist in the kernel tree")
            state[path] = _apply_file(patch, fp, path, state[path], notes)
    return {path: t.render() for path, t in state.items()}, notes


def _resolve(fp: FilePatch, state: dict[str, _Text],
             read: Callable[[str], str | None]) -> str:
    """The relative path a file patch applies to; loads it into state."""
    names = [fp.target]
    for other in (fp.old_path, fp.new_path):
        if other != DEV_NULL and other not in names:
            names.append(other)  # a non-git diff of differently named copies
    for name in names:
        if name in state:
            return name
        current = read(name)
        if current is not None:
            state[name] = _Text.parse(current)
            return name
    return fp.target
