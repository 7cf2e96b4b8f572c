# SPDX-License-Identifier: GPL-2.0-only
"""Take named definitions verbatim out of kernel C source text.

The slicer reads raw text: comments, string and character literals,
preprocessor lines (with continuation lines), braces and macros.  For every
top-level definition of a wanted symbol it returns the exact source text plus
the chain of ``#if``/``#ifdef``/``#elif``/``#else`` conditions that enclose it,
so that the real C preprocessor, with the shim's CONFIG_* settings, picks the
same definition the kernel build would.  Nothing is rewritten: a patch to the
tree changes what is sliced.

A symbol that has no definition in the file is an error that names the symbol
and the file (:class:`SliceError`).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from pywalk.errors import BuildError

_IDENT = re.compile(r"[A-Za-z_]\w*")
_ATTRIBUTE_WORDS = {
    "__attribute__", "__attribute", "__section", "__aligned", "__printf",
    "__must_check", "__cold", "__weak", "noinline", "__always_inline",
    "__noreturn", "__maybe_unused", "__init", "__ref", "__meminit",
    "EXPORT_SYMBOL", "EXPORT_SYMBOL_GPL", "__releases", "__acquires",
    "__cond_lock", "__deprecated", "if", "while", "for", "switch", "return",
    "sizeof", "typeof", "__typeof__",
}


class SliceError(BuildError):
    """A wanted symbol is not defined in the file (or cannot be parsed)."""


@dataclass
class Definition:
    """One definition of a symbol in one file."""

    name: str
    kind: str            # "function", "macro", "struct", "union", "enum", "typedef",
                         # "variable" (an initialised one, e.g. a walk ops table)
    relpath: str
    line: int            # 1-based line of the first character
    text: str            # verbatim source text of the definition
    conditions: list[str] = field(default_factory=list)  # enclosing #if terms
    head: str = ""       # for functions: text up to the body's "{"

    def condition(self) -> str | None:
        """The enclosing conditions as one #if expression, or None."""
        if not self.conditions:
            return None
        return " && ".join(f"({c})" for c in self.conditions)

    def prototype(self) -> str | None:
        """A declaration for a function definition (so order does not matter)."""
        if self.kind != "function":
            return None
        return self.head.rstrip() + ";"


# --------------------------------------------------------------------------
# scanning


def _skip_literal(text: str, i: int) -> int:
    """i at a quote; return the index after the closing quote."""
    quote = text[i]
    i += 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == quote or c == "\n":
            return i + 1
        i += 1
    return n


def _directive_end(text: str, i: int) -> int:
    """i at '#'; return index of the newline that ends the directive."""
    n = len(text)
    while i < n:
        j = text.find("\n", i)
        if j < 0:
            return n
        # continuation: backslash before the newline (comments aside)
        k = j - 1
        while k >= i and text[k] in " \t\r":
            k -= 1
        if k >= i and text[k] == "\\":
            i = j + 1
            continue
        # a /* comment */ spanning lines inside a directive
        seg = text[i:j]
        if seg.count("/*") > seg.count("*/"):
            close = text.find("*/", j)
            if close < 0:
                return n
            i = close + 2
            continue
        return j
    return n


def _strip_comments(s: str) -> str:
    s = re.sub(r"/\*.*?\*/", " ", s, flags=re.S)
    s = re.sub(r"//[^\n]*", " ", s)
    return s


class _CondStack:
    """Tracks the preprocessor condition chain at each point of a file."""

    def __init__(self) -> None:
        self.frames: list[list[str]] = []   # per #if: list of branch terms so far
        self.current: list[str] = []        # current term per frame

    def handle(self, directive: str) -> None:
        d = _strip_comments(directive.replace("\\\n", " "))
        m = re.match(r"\s*#\s*(\w+)\s*(.*)", d, re.S)
        if not m:
            return
        word, rest = m.group(1), " ".join(m.group(2).split())
        if word in ("if", "ifdef", "ifndef"):
            if word == "ifdef":
                term = f"defined({rest})"
            elif word == "ifndef":
                term = f"!defined({rest})"
            else:
                term = rest
            self.frames.append([term])
            self.current.append(term)
        elif word == "elif" and self.frames:
            prev = self.frames[-1]
            term = " && ".join([f"!({p})" for p in prev] + [f"({rest})"])
            prev.append(rest)
            self.current[-1] = term
        elif word == "else" and self.frames:
            prev = self.frames[-1]
            self.current[-1] = " && ".join(f"!({p})" for p in prev)
        elif word == "endif" and self.frames:
            self.frames.pop()
            self.current.pop()

    def snapshot(self) -> list[str]:
        return list(self.current)


@dataclass
class _Chunk:
    start: int
    end: int
    conditions: list[str]


_MACRO_STMT = re.compile(r"[A-Z_][A-Z0-9_]*\([^;{}()]*\)[ \t]*")


def _top_level_chunks(text: str):
    """Yield top-level declarations/definitions and #define directives.

    Yields ("chunk", _Chunk) for C code and ("define", (start, end, conds)).
    """
    n = len(text)
    i = 0
    depth = 0
    conds = _CondStack()
    chunk_start: int | None = None
    chunk_conds: list[str] = []
    at_line_start = True
    while i < n:
        c = text[i]
        if c == "\n":
            at_line_start = True
            if depth == 0 and chunk_start is not None and _MACRO_STMT.fullmatch(text, chunk_start, i) \
                    and not text[i:].lstrip().startswith("{"):
                # a line that is only a macro invocation, e.g.
                # VFIO_IOREAD_DECLARATION(8): a declaration of its own
                yield "chunk", _Chunk(chunk_start, i, chunk_conds)
                chunk_start = None
            i += 1
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        if c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
            continue
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "#" and at_line_start:
            end = _directive_end(text, i)
            directive = text[i:end]
            if depth == 0:
                if re.match(r"#\s*define\b", directive):
                    yield "define", (i, end, conds.snapshot())
                conds.handle(directive)
            i = end
            continue
        at_line_start = False
        if depth == 0 and chunk_start is None:
            chunk_start = i
            chunk_conds = conds.snapshot()
        if c in "\"'":
            i = _skip_literal(text, i)
            continue
        if c in "({[":
            depth += 1
        elif c in ")}]":
            depth -= 1
            if depth < 0:
                raise SliceError("unbalanced braces")
            if depth == 0 and c == "}":
                if _ends_at_semicolon(text[chunk_start:i]):
                    i += 1
                    continue  # an aggregate or initialiser: ends at its ';'
                yield "chunk", _Chunk(chunk_start, i + 1, chunk_conds)
                chunk_start = None
        elif c == ";" and depth == 0:
            yield "chunk", _Chunk(chunk_start, i + 1, chunk_conds)
            chunk_start = None
        i += 1


def _ends_at_semicolon(chunk_text: str) -> bool:
    """True when a top-level chunk closed by '}' still runs on to a ';'.

    That is a struct/union/enum definition, a typedef, or an initialised
    variable; a function definition ends at its closing brace.
    """
    brace = chunk_text.find("{")
    head = _strip_comments(chunk_text[:brace] if brace >= 0 else chunk_text).strip()
    if "=" in head:
        return True
    if re.search(r"\)\s*(__\w+\s*(\(\([^)]*\)\))?\s*)*$", head):
        return False
    return bool(re.match(r"(typedef\b|(static\s+)?(const\s+)?(struct|union|enum)\b)", head))


def _function_name(head: str) -> str | None:
    """Name of the function declared by head (text before the body)."""
    h = _strip_comments(head)
    if "=" in re.sub(r"\([^()]*\)", "", h):
        return None  # an initialised variable
    for m in re.finditer(r"([A-Za-z_]\w*)\s*\(", h):
        name = m.group(1)
        if name in _ATTRIBUTE_WORDS or name.startswith("__attribute"):
            continue
        # depth of parentheses before this point must be 0
        if h[: m.start()].count("(") != h[: m.start()].count(")"):
            continue
        return name
    return None


def _variable_name(head: str) -> str | None:
    """Name of an initialised variable whose initialiser head ends "NAME =" (or
    "NAME[] ="), e.g. ``static const struct mm_walk_ops wp_walk_ops = {``."""
    m = re.search(r"(?:struct|union|enum)?\s*\b\w+\b[\s*]+(?:const\s+)?([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*=$",
                  head)
    return m.group(1) if m and "(" not in head else None


def _classify(text: str, chunk: _Chunk) -> tuple[str, str, str] | None:
    """(kind, name, head) of a chunk that is a definition, else None."""
    body = text[chunk.start:chunk.end]
    brace = body.find("{")
    if brace < 0:
        m = re.match(r"\s*typedef\b(.*?)([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*;\s*$",
                     _strip_comments(body), re.S)
        if m and "(" not in m.group(1):
            return "typedef", m.group(2), ""
        return None
    head = body[:brace]
    clean = _strip_comments(head).strip()
    m = re.match(r"(?:typedef\s+)?(struct|union|enum)\s+([A-Za-z_]\w*)?\s*(?:__\w+(?:\(\([^)]*\)\))?\s*)*$",
                 clean)
    if m:
        kind, name = m.group(1), m.group(2)
        if clean.startswith("typedef"):
            tail = _strip_comments(body[body.rfind("}") + 1:])
            tm = re.match(r"\s*(?:__\w+(?:\(\([^)]*\)\))?\s*)*([A-Za-z_]\w*)\s*;", tail)
            if tm:
                return "typedef", tm.group(1), head
        if name:
            return kind, name, head
        return None
    var = _variable_name(clean)
    if var:
        return "variable", var, head
    if re.search(r"\)\s*(__\w+\s*(\(\([^)]*\)\))?\s*)*$", clean):
        name = _function_name(clean)
        if name:
            return "function", name, head
    return None


# --------------------------------------------------------------------------
# public API


def find_definitions(text: str, relpath: str) -> dict[str, list[Definition]]:
    """All top-level definitions in text, by name."""
    out: dict[str, list[Definition]] = {}
    newlines = [m.start() for m in re.finditer("\n", text)]

    def line_at(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    for kind, item in _top_level_chunks(text):
        if kind == "define":
            start, end, conds = item
            m = re.match(r"#\s*define\s+([A-Za-z_]\w*)", text[start:end])
            if not m:
                continue
            d = Definition(m.group(1), "macro", relpath, line_at(start),
                           text[start:end], conds)
            out.setdefault(d.name, []).append(d)
            continue
        chunk = item
        cls = _classify(text, chunk)
        if cls is None:
            continue
        k, name, head = cls
        d = Definition(name, k, relpath, line_at(chunk.start),
                       text[chunk.start:chunk.end], chunk.conditions, head)
        out.setdefault(name, []).append(d)
    return out


def slice_symbols(text: str, relpath: str, names: list[str],
                  optional: frozenset[str] | set[str] = frozenset()) -> list[Definition]:
    """Definitions of names (every definition of each), in name order.

    A name without any definition raises SliceError naming it and the file,
    unless it is in optional.
    """
    defs = find_definitions(text, relpath)
    result: list[Definition] = []
    for name in names:
        found = defs.get(name)
        if not found:
            if name in optional:
                continue
            raise SliceError(
                f"pywalk: cannot find a definition of {name}() in {relpath} "
                f"(the slicer needs it; was it renamed or moved in this tree?)")
        result.extend(found)
    return result


def render_prototypes(defs: list[Definition]) -> str:
    """Declarations of the function definitions among defs."""
    return "".join(_wrap(d, d.prototype()) for d in defs if d.prototype())


def render(defs: list[Definition], *, prototypes: bool = True) -> str:
    """C text for the definitions: each under its #if chain and a #line.

    With prototypes, function declarations come first so that definitions can
    be emitted in any order.
    """
    parts: list[str] = []
    if prototypes:
        for d in defs:
            proto = d.prototype()
            if proto is None:
                continue
            parts.append(_wrap(d, proto))
    for d in defs:
        parts.append(_wrap(d, d.text))
    return "\n".join(parts) + "\n"


def _wrap(d: Definition, text: str) -> str:
    cond = d.condition()
    body = f'#line {d.line} "{d.relpath}"\n{text}\n'
    if cond:
        return f"#if {cond}\n{body}#endif\n"
    return body
