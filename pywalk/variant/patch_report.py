# SPDX-License-Identifier: GPL-2.0-only
"""A rejected hunk, shown next to the closest lines of the tree.

GNU patch says only "Hunk #1 FAILED at 102."; pywalk shows what the hunk
expected and the place in the file (as it was before that patch) with the
most equal lines, marking each line that differs with ``!``::

    pywalk: patch fix.patch does not apply to mm/pagewalk.c: hunk @@ -2,7 +2,7 @@ failed
      hunk 1 of 1, stated at line 2, in: some function
      no exact match where the hunk says (stricter than git apply: no offset, no fuzz; --fuzz N allows offsets and N lines of context fuzz)
      expected:
           2  |line 2
           5 -|line 5
      tree has at line 2 (6 of 7 lines equal):
           2  |line 2
           5 !|line 5 was changed
"""

from __future__ import annotations

from pywalk.variant.patch_files import Hunk


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if abs(n) == 1 else "s")


def _visible(s: str, exact: bool = False) -> str:
    """A line for a message: whitespace-only lines (and, with exact, any
    line) are shown as a Python literal so that tabs and blanks can be told
    apart."""
    return repr(s) if exact or (s and not s.strip()) else s


def closest(lines: list[str], old: list[str], guess: int) -> tuple[int, int]:
    """(0-based start, equal lines) of the window of len(old) lines with the
    most lines equal to old; ties go to the window nearest guess."""
    n = len(old)
    best_pos, best_eq = 0, -1
    for pos in range(0, max(len(lines) - n, 0) + 1):
        eq = sum(1 for a, b in zip(lines[pos: pos + n], old) if a == b)
        if eq > best_eq or (eq == best_eq and abs(pos - guess) < abs(best_pos - guess)):
            best_pos, best_eq = pos, eq
    return best_pos, max(best_eq, 0)


def _contains(lines: list[str], block: list[str]) -> bool:
    n = len(block)
    return n > 0 and any(lines[i:i + n] == block for i in range(len(lines) - n + 1))


def how(fuzz: int | None) -> str:
    """The line that says which rules the hunk was tried with."""
    if fuzz is None:
        return ("no exact match where the hunk says (stricter than git apply: no offset,"
                " no fuzz; --fuzz N allows offsets and N lines of context fuzz)")
    return (f"no match at any offset, not even ignoring {fuzz} lines of leading/trailing"
            f" context (--fuzz {fuzz})")


def rejected(patch: str, path: str, hunk: Hunk, index: int, count: int, text: str,
             *, fuzz: int | None, changed: bool, offset: int | None = None) -> str:
    """The message for a hunk that did not apply.  text: the file before this
    patch; changed: earlier patches changed it; offset: the hunk matched only
    that far from where it says (strict mode refuses that)."""
    old = hunk.old_lines
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n = len(old)
    guess = max(hunk.old_start - 1, 0)
    best_pos, best_eq = closest(lines, old, guess)
    window = lines[best_pos: best_pos + n]
    ws_only = [k for k, (a, b) in enumerate(zip(window, old))
               if a != b and a.split() == b.split()]

    out = [f"pywalk: patch {patch} does not apply to {path}: hunk {hunk.range} failed",
           f"  hunk {index} of {count}, stated at line {hunk.old_start}"
           + (f", in: {hunk.section}" if hunk.section else "")]
    if offset is not None:
        out.append(f"  its lines are at offset {offset:+d} {'line' if abs(offset) == 1 else 'lines'}"
                   " (stricter than git apply: no offset, no fuzz; --fuzz 0 allows"
                   " offsets)")
    else:
        out.append("  " + how(fuzz))
    out.append("  expected:")
    k = 0
    for l in hunk.lines:
        if l[:1] in (" ", "-"):
            out.append(f"  {hunk.old_start + k:6d} {l[:1]}|{_visible(l[1:], k in ws_only)}")
            k += 1
    if n == 0:
        out.append("         (no lines)")
    earlier = " (with the earlier patches applied)" if changed else ""
    if window:
        out.append(f"  tree has at line {best_pos + 1}{earlier} ({best_eq} of {n} lines equal):")
        for k, l in enumerate(window):
            mark = " " if l == old[k] else "!"
            out.append(f"  {best_pos + 1 + k:6d} {mark}|{_visible(l, k in ws_only)}")
        if len(window) < n:
            out.append("         (end of file)")
    else:
        out.append(f"  tree has at line 1{earlier}: nothing (the file is empty)")
    if ws_only:
        out.append(f"  note: {_plural(len(ws_only), 'line')} "
                   + ("differs" if len(ws_only) == 1 else "differ")
                   + " only in whitespace (shown quoted); whitespace must match exactly")
    elif _contains(lines, [l[1:] for l in hunk.lines if l[:1] in (" ", "+")]) and (
            best_eq < n):
        out.append("  note: the tree already has what the hunk makes (applied twice, or reversed?)")
    elif n and best_eq == n and offset is None:
        out.append("  note: the lines are there, but GNU patch could not use them (an earlier"
                   " hunk already changed them, or the newline at the end of the file differs)")
    return "\n".join(out)
