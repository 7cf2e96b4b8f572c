# SPDX-License-Identifier: GPL-2.0-only
"""Take named definitions verbatim out of kernel C source text.

tree-sitter-c parses C as written, before preprocessing: comments, macros and
``#if``/``#ifdef``/``#elif``/``#else`` chains are nodes of one syntax tree.  For
every top-level definition of a wanted symbol the slicer returns the exact
source text plus the conditions of the chains that enclose it, so that the real
C preprocessor, with the shim's CONFIG_* settings, picks the same definition the
kernel build would.  Nothing is rewritten: a patch to the tree changes what is
sliced.  A symbol without a definition in the file is a :class:`SliceError`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from tree_sitter import Node

from pywalk.errors import BuildError
from pywalk.tree.csyntax import (comments, conditions_by_line, parse as _parse, text as _text,
                                 uncommented)

# preprocessor conditionals, whose bodies hold top-level items too
_CONDITIONALS = {"preproc_if", "preproc_ifdef", "preproc_elif", "preproc_elifdef",
                 "preproc_else"}
_CHAINS = ("preproc_if", "preproc_ifdef")
_MACROS = ("preproc_def", "preproc_function_def")
# tokens a kernel attribute macro may be parsed as
_WORDS = {"identifier", "type_identifier", "primitive_type"}
# how many macro words one definition may need blanked before it parses
_TRIES = 6
_NOT_BODY = {"condition", "name", "alternative"}   # a conditional's fields
_TYPES = {"struct_specifier": "struct", "union_specifier": "union", "enum_specifier": "enum"}


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
        return " && ".join(f"({c})" for c in self.conditions) or None

    def prototype(self) -> str | None:
        """A declaration for a function definition (so order does not matter)."""
        return self.head.rstrip() + ";" if self.kind == "function" else None


def parse(text: str):
    """(source bytes, parsed bytes, tree) of C text.  tree-sitter ends a #define at
    a comment, so a comment with more of its line after it is parsed as spaces
    (newlines and continuations kept: offsets and lines do not move)."""
    src = text.encode("utf-8", "surrogateescape")
    tree = _parse(src)
    buf = bytearray(src)
    for c in comments(tree.root_node):
        s, e = c.start_byte, c.end_byte
        body, eol = src[s:e], src.find(b"\n", e)
        rest = src[e:eol if eol >= 0 else len(src)]
        if (rest.strip() or b"\\\n" in body) and body.count(b"\n") == body.count(b"\\\n"):
            buf[s:e] = b"\\\n".join(b" " * len(part) for part in body.split(b"\\\n"))
            tree.edit(s, e, e, c.start_point, c.end_point, c.end_point)
    buf = bytes(buf)
    return src, buf, tree if buf == src else _parse(buf, tree)


def _term(src: bytes, node: Node) -> str:
    """The expression of a #if/#elif (one line, comments and continuations out)."""
    cond = node.child_by_field_name("condition") or node.child_by_field_name("name")
    return " ".join(uncommented(src, cond).replace("\\\n", " ").split())


def _items(src: bytes, node: Node, conds: list[str]):
    """(item, conditions) for each top-level item under node, conditionals
    flattened."""
    for i, child in enumerate(node.children):
        kind = child.type
        if node.type in _CONDITIONALS and (node.field_name_for_child(i) in _NOT_BODY
                                            or kind[0] in "#\n"):     # #ifdef, #endif
            continue
        if kind in _CHAINS:
            yield from _chain(src, child, conds)
        elif kind != "comment":
            yield child, conds


def _chain(src: bytes, node: Node, conds: list[str]):
    """Items of an #if/#ifdef and its #elif/#else branches, each under its terms
    (a branch: the earlier branches' terms negated, and its own)."""
    prev: list[str] = []
    while node is not None:
        word = node.children[0].type        # "#if", "#ifdef", "#elifndef", "#else", ...
        if word == "#else":
            here = " && ".join(f"!({p})" for p in prev)
        else:
            term = _term(src, node)
            if "def" in word:
                term = f"{'!' if 'ndef' in word else ''}defined({term})"
            here = term if not word.startswith("#el") else \
                " && ".join([f"!({p})" for p in prev] + [f"({term})"])
            prev.append(term)
        yield from _items(src, node, conds + [here])
        node = node.child_by_field_name("alternative")


def _chunks(src: bytes, root: Node, conds: list[str]):
    """(nodes, conditions) of each top-level declaration or definition, and of
    each #define; a declaration runs to its ';', a function to its body's '}'."""
    items = [(n, c) for n, c in _items(src, root, conds)
             if n.type in _MACROS or not n.type.startswith(("preproc_", "#"))]
    pending: list[Node] = []
    depth = 0       # braces a broken item left open (a clean one is balanced)
    for i, (node, conds) in enumerate(items):
        if node.type in _MACROS:
            yield [node], conds
            continue
        if not pending:
            start_conds = conds
        pending.append(node)
        if node.has_error:
            depth += sum({"{": 1, "}": -1}.get(lf.type, 0) for lf in _leaves(node, True))
        last = src[node.end_byte - 1]
        nxt = items[i + 1][0] if i + 1 < len(items) else None
        if depth < 0 or depth == 0 and (
                node.type in ("function_definition", "compound_statement") or last == 59
                or (node.type == "ERROR" and last == 125 and getattr(nxt, "type", "") != ";")
                or _invocation(node) and (nxt is None or _invocation(nxt)    # not an
                                          or nxt.type in _MACROS    # attribute's
                                          or nxt.start_point.row > node.end_point.row + 1)):
            yield pending, start_conds
            pending, depth = [], 0
    if pending:
        yield pending, start_conds


def _invocation(node: Node) -> bool:
    """A macro invoked on a line of its own, without ';' (VFIO_IOREAD_DECLARATION(8))."""
    return node.type == "expression_statement" and node.children[-1].is_missing \
        and node.children[0].type == "call_expression"


def _declared(node: Node | None) -> Node | None:
    """The identifier a declarator declares (through pointers, arrays, calls)."""
    while node is not None and node.type not in ("identifier", "type_identifier", "primitive_type"):
        inner = node.child_by_field_name("declarator")
        if inner is None and node.type == "parenthesized_declarator":
            inner = node.named_children[0] if node.named_children else None
        node = inner
    return node


def _classify(nodes: list[Node]) -> tuple[str, Node | None, Node | None] | None:
    """(kind, name node, body node) of a chunk that is a definition, else None."""
    first, kind = nodes[0], nodes[0].type
    field = first.child_by_field_name
    if kind in _MACROS:
        return "macro", field("name"), None
    if len(nodes) > 2 or (len(nodes) == 2 and nodes[1].type != ";"):
        return None
    if kind == "function_definition":
        return "function", _declared(field("declarator")), field("body")
    if kind == "type_definition":
        return "typedef", _declared(field("declarator")), field("type").child_by_field_name("body")
    if kind == "declaration":       # an initialised variable (a walk ops table)
        for decl in first.children_by_field_name("declarator"):
            value = decl.child_by_field_name("value")
            if decl.type == "init_declarator" and value and value.type == "initializer_list":
                return "variable", _declared(decl), value
        first = field("type")       # struct page { ... } _struct_page_alignment;
    if first.type in _TYPES:
        body, name = first.child_by_field_name("body"), first.child_by_field_name("name")
        return (_TYPES[first.type], name, body) if body and name else None
    return None


def _first_error(node: Node, skip: Node | None = None) -> Node | None:
    """The first ERROR or MISSING node under node (but not under skip)."""
    if node.type == "ERROR" or node.is_missing:
        return node
    for child in node.children:
        if child != skip and (child.has_error or child.is_missing):
            return _first_error(child, skip)
    return None


def _leaves(node: Node, broken: bool = False):
    """The tokens of node (only of its broken parts: a clean subtree has
    balanced braces)."""
    if not node.children:
        yield node
    for child in node.children:
        if not broken or child.has_error or not child.children:
            yield from _leaves(child, broken)


def _blank(buf: bytes, nodes: list[Node], err: Node) -> bytes:
    """buf with one macro word (and its arguments) blanked out, the last word
    before err or else the first in it, so that a reparse sees past a kernel
    attribute macro (__always_inline, __printf(2, 0), __bitwise, ...)."""
    leaves = [lf for n in nodes for lf in _leaves(n)]
    words = [i for i, lf in enumerate(leaves) if lf.type in _WORDS]
    before = [i for i in words if leaves[i].end_byte <= err.start_byte]
    if not words:
        return buf
    i = j = before[-1] if before else words[0]
    depth = 0
    while j + 1 < len(leaves) and (depth or leaves[j + 1].type == "("):
        j += 1
        depth += {"(": 1, ")": -1}.get(leaves[j].type, 0)
    start, end = leaves[i].start_byte, leaves[j].end_byte
    return buf[:start] + b" " * (end - start) + buf[end:]


def _depths(text: bytes):
    """(#if depth, is it a #if, #elif, #else or #endif) after each line of text."""
    depth = 0
    for line in text.split(b"\n"):
        word = line.lstrip()[1:].lstrip()[:5] if line.lstrip()[:1] == b"#" else b""
        depth += word.startswith(b"if") - (word == b"endif")
        yield depth, word.startswith((b"if", b"el", b"endif"))


def _damaged(buf: bytes, node: Node) -> int | None:
    """Line of the first #if chain under node that does not end at its own
    #endif (tree-sitter's error recovery tore it), else None."""
    for child in node.children:
        text = buf[child.start_byte:child.end_byte].rstrip()
        if child.type in _CHAINS:
            depths = [d for d, _ in _depths(text)]
            if min(depths[:-1], default=1) <= 0 or depths[-1]:
                return child.start_point.row + 1
        if child.type in _CONDITIONALS and (found := _damaged(buf, child)) is not None:
            return found
    return None


def _definitions(buf: bytes, root: Node, conds: list[str], base: tuple[int, int], tries: int):
    """(kind, name, start, end, body start, line, conditions) of each definition
    under root (buf: the source from offset base[0], line base[1] on, some words
    blanked; positions are the source's)."""
    off, row = base
    for nodes, chunk_conds in _chunks(buf, root, conds):
        cls = _classify(nodes)
        body = cls[2] if cls else None
        err = next((e for n in nodes if n.type not in _MACROS
                    for e in [_first_error(n, body)] if e is not None), None)
        start, end = nodes[0].start_byte, nodes[-1].end_byte
        if err is not None:
            piece = _blank(buf, nodes, err)[start:end]
            if tries > 0 and piece != buf[start:end]:
                tree = _parse(piece)
                found = list(_definitions(piece, tree.root_node, chunk_conds,
                                          (off + start, row + nodes[0].start_point.row), tries - 1))
                heads = bytearray(piece)        # #if lines in bodies are whole chains
                for d in found:
                    if d[4] is not None:
                        heads[d[4] - off - start:d[3] - off - start] = b" " * (d[3] - d[4])
                if found and any(directive for _, directive in _depths(bytes(heads))):
                    # an ERROR swallowed #if lines: the conditions from here on are lost
                    yield "?", "", off + start, off + end, None, row + nodes[0].start_point.row + 1, []
                yield from found
            continue
        if cls is None or cls[1] is None or cls[1].is_missing:
            continue
        line = row + nodes[0].start_point.row + 1
        if tries < _TRIES and not buf[:start].strip() and cls[0] != "macro":   # blanked words
            start, line = 0, row + 1
        kind, name, body = cls
        if kind == "macro":
            end -= buf[end - 1] == 10
        yield (kind, _text(buf, name.start_byte, name.end_byte), off + start, off + end,
               off + body.start_byte if body is not None else None,
               line, chunk_conds)


def _balanced(piece: bytes) -> bool:
    """Do the brace tokens of a definition's text balance (comments and
    literals do not count)?"""
    depth = 0
    stack = [_parse(piece).root_node]
    while stack:
        node = stack.pop()
        if node.type in ("comment", "string_literal", "char_literal") or node.is_missing:
            continue
        if not node.children:
            depth += {"{": 1, "}": -1}.get(node.type, 0)
        stack.extend(node.children)
    return depth == 0


@functools.lru_cache(maxsize=32)
def _parsed(text: str) -> tuple[tuple, frozenset]:
    """Every definition of text (kind, name, start, end, body, line, conditions),
    and the names whose text is not a whole definition (braces that do not
    balance: a span the parser's error recovery got wrong)."""
    src, buf, tree = parse(text)
    conds = conditions_by_line(src, tree)
    out, seen, torn = [], set(), set()
    for d in _definitions(buf, tree.root_node, [], (0, 0), _TRIES):
        if d[0] == "?" or d[2] in seen:     # a reparse may meet a #define again
            continue
        seen.add(d[2])
        if d[0] != "macro" and not _balanced(buf[d[2]:d[3]]):
            torn.add(d[1])
        out.append(d[:4] + (_text(src, d[2], d[4]) if d[4] is not None else "",)
                   + (d[5], conds[d[5] - 1]))
    return tuple(out), frozenset(torn)


def find_definitions(text: str, relpath: str) -> dict[str, list[Definition]]:
    """All top-level definitions in text, by name."""
    src = text.encode("utf-8", "surrogateescape")
    out: dict[str, list[Definition]] = {}
    for kind, name, start, end, head, line, conds in _parsed(text)[0]:
        d = Definition(name, kind, relpath, line, _text(src, start, end), list(conds), head)
        out.setdefault(name, []).append(d)
    return out


def slice_symbols(text: str, relpath: str, names: list[str],
                  optional: frozenset[str] | set[str] = frozenset()) -> list[Definition]:
    """Definitions of names (every definition of each), in name order.  A name
    without any (unless optional), or whose text the parser could not delimit,
    is a SliceError naming it and the file."""
    defs = find_definitions(text, relpath)
    torn = _parsed(text)[1]
    result: list[Definition] = []
    for name in names:
        found = defs.get(name)
        if not found:
            if name in optional:
                continue
            raise SliceError(
                f"pywalk: cannot find a definition of {name}() in {relpath} "
                f"(the slicer needs it; was it renamed or moved in this tree?)")
        if name in torn:
            raise SliceError(
                f"pywalk: cannot slice {name}() from {relpath}: its braces do not balance "
                f"(kernel macros the parser cannot see past)")
        result.extend(found)
    return result


def render_prototypes(defs: list[Definition]) -> str:
    """Declarations of the function definitions among defs."""
    return "".join(_wrap(d, d.prototype()) for d in defs if d.prototype())


def render(defs: list[Definition], *, prototypes: bool = True) -> str:
    """C text for the definitions, each under its #if chain and a #line; with
    prototypes, function declarations first (so any order compiles)."""
    protos = [_wrap(d, d.prototype()) for d in defs if prototypes and d.prototype()]
    return "\n".join(protos + [_wrap(d, d.text) for d in defs]) + "\n"


def _wrap(d: Definition, text: str) -> str:
    body = f'#line {d.line} "{d.relpath}"\n{text}\n'
    return f"#if {d.condition()}\n{body}#endif\n" if d.conditions else body
