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
