# SPDX-License-Identifier: GPL-2.0-only
"""C source as tree-sitter-c parses it: before preprocessing, comments and
#if chains included.  The slicer (pywalk/variant/slicer.py) takes definitions
from this tree; facts (pywalk/tree/facts.py) read the tree's text without its
comments."""

from __future__ import annotations

import threading

import tree_sitter_c
from tree_sitter import Language, Node, Parser, Query, QueryCursor, Tree

C = Language(tree_sitter_c.language())
_COMMENTS = Query(C, "(comment) @c")
_LOCAL = threading.local()


def parse(src: bytes, old: Tree | None = None) -> Tree:
    """tree-sitter-c's tree of src (old: an edited earlier tree of it).  A
    parser per thread: one parser is not safe to share."""
    if not hasattr(_LOCAL, "parser"):
        _LOCAL.parser = Parser(C)
    return _LOCAL.parser.parse(src) if old is None else _LOCAL.parser.parse(src, old)


def comments(node: Node) -> list[Node]:
    """Every comment node under node, in source order."""
    return sorted(QueryCursor(_COMMENTS).captures(node).get("c", []), key=lambda c: c.start_byte)


def text(src: bytes, start: int, end: int) -> str:
    """src[start:end] as the str it was encoded from (undecodable bytes kept)."""
    return src[start:end].decode("utf-8", "surrogateescape")


def uncommented(src: bytes, node: Node, start: int | None = None, end: int | None = None) -> str:
    """src[start:end] (node's span by default) with each comment in node replaced
    by a space."""
    parts, pos = [], node.start_byte if start is None else start
    for c in comments(node):
        parts += [text(src, pos, c.start_byte), " "]
        pos = c.end_byte
    return "".join(parts) + text(src, pos, node.end_byte if end is None else end)


def without_comments(source: str) -> str:
    """source with each comment replaced by a space."""
    src = source.encode("utf-8", "surrogateescape")
    return uncommented(src, parse(src).root_node, 0, len(src))


def conditions_by_line(src: bytes, tree: Tree) -> list[list[str]]:
    """The enclosing #if terms at each line (0-based), from the preprocessor
    lines themselves: tree-sitter's error recovery can tear a chain when a
    function body interleaves code and #ifdef (mm/madvise.c), the lines
    cannot.  Terms are written as the slicer's _chain() writes them."""
    buf = bytearray(src)
    for c in comments(tree.root_node):     # blank comments, keep the newlines
        buf[c.start_byte:c.end_byte] = bytes(b if b == 10 else 32 for b in src[c.start_byte:c.end_byte])
    lines = bytes(buf).decode("utf-8", "surrogateescape").split("\n")
    out: list[list[str]] = []
    stack: list[list] = []          # [earlier terms, this branch's term]
    i = 0
    while i < len(lines):
        here = [f[1] for f in stack]
        line, n = lines[i], 1
        while line.endswith("\\") and i + n < len(lines):     # continuation lines
            line = line[:-1] + " " + lines[i + n]
            n += 1
        out += [here] * n
        i += n
        words = line.strip()
        if not words.startswith("#"):
            continue
        words = words[1:].split(None, 1)
        word, rest = (words + ["", ""])[:2] if words else ("", "")
        term = " ".join(rest.split())
        if word in ("if", "ifdef", "ifndef"):
            term = {"if": term, "ifdef": f"defined({term})",
                    "ifndef": f"!defined({term})"}[word]
            stack.append([[term], term])
        elif word in ("elif", "elifdef", "elifndef") and stack:
            term = {"elif": term, "elifdef": f"defined({term})",
                    "elifndef": f"!defined({term})"}[word]
            prev = stack[-1][0]
            stack[-1][1] = " && ".join([f"!({p})" for p in prev] + [f"({term})"])
            prev.append(term)
        elif word == "else" and stack:
            stack[-1][1] = " && ".join(f"!({p})" for p in stack[-1][0])
        elif word == "endif" and stack:
            stack.pop()
    return out
