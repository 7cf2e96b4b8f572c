# SPDX-License-Identifier: GPL-2.0-only
"""An interleaving as columns by thread, one scheduling step a line.

Like the two-column race diagrams of kernel mails: each line is one step
of one thread (the kernel function and file:line where it reached the
scheduling point, the point's kind, and the page-table entry value it
loaded or stored there); a thread's column is empty while others run.
"""

from __future__ import annotations

from pywalk.variant import oops

_HARNESS = ("shim/", "csrc/", "??", "<pywalk>")


def _short(loc: str) -> str:
    parts = loc.split("/")
    return "/".join(parts[-2:])


def _frame_text(syms: list[str]) -> str:
    """The innermost kernel frame, with the shim helper it went through."""
    syms = [s for s in syms if " " in s and not s.startswith(("pw_hook", "pw_sched_", "__tsan_"))]
    if not syms:
        return "??"
    kernel = next((s for s in syms if not s.split(" ", 1)[1].startswith(_HARNESS)), None)
    helper = syms[0].split(" ", 1)[0]
    if kernel is None:       # harness code (e.g. the fault's mmap_read_lock in csrc/)
        caller = next((s for s in syms[1:] if s.split(" ", 1)[0] != helper), syms[0])
        fn, loc = caller.split(" ", 1)
        return f"{fn} {_short(loc)}" + (f" [{helper}]" if helper != fn else "")
    fn, loc = kernel.split(" ", 1)
    return f"{fn} {_short(loc)}" + (f" [{helper}]" if helper != fn else "")


def symbolize_steps(variant, entries: list[dict]) -> list[str]:
    """For each trace entry, 'function file:line' of its innermost kernel frame."""
    path = str(variant.module_path)
    base = oops._module_base(path)
    addrs = sorted({a for e in entries for a in e["frames"]})
    offs = tuple(a - base - 1 for a in addrs) if base is not None else ()
    table = dict(zip(addrs, oops._addr2line(path, offs))) if offs else {}
    out = []
    for e in entries:
        syms = [s for a in e["frames"] for s in table.get(a, ())]
        out.append(_frame_text(syms))
    return out


def render_trace(variant, outcome, nsteps: int, width: int = 62) -> str:
    entries = outcome.trace[-nsteps:]
    if not entries:
        return "(no scheduling point recorded)"
    where = symbolize_steps(variant, entries)
    tids = sorted({e["tid"] for e in entries})
    roles = {i: t[0] for i, t in enumerate(outcome.spec.threads)}
    col = {t: i for i, t in enumerate(tids)}
    head = f"{'step':>6} | " + " | ".join(f"{('T%d %s' % (t, roles.get(t, '?'))):<{width}}"
                                          for t in tids)
    lines = [head, "-" * len(head)]
    for e, w in zip(entries, where):
        val = f" {e['val']:#x}" if e["val"] is not None else ""
        cell = f"{w} {e['site']}{val}"
        if len(cell) > width and " [" in w:     # the shim helper's name goes first
            cell = f"{w.split(' [')[0]} {e['site']}{val}"
        if len(cell) > width:
            cell = cell[:width - 1] + "~"
        cells = [" " * width] * len(tids)
        cells[col[e["tid"]]] = f"{cell:<{width}}"
        lines.append(f"{e['step']:>6} | " + " | ".join(cells).rstrip())
    f = outcome.finding
    index = {outcome.spec.tid(i): i for i in range(len(outcome.spec.threads))}
    if f is not None and index.get(f.thread) in col:
        top = f.backtrace[0].split(" ", 1) if f.backtrace else ["?", "?"]
        cell = f"{top[0]} {_short(top[-1])} {f.kind}"
        cells = [" " * width] * len(tids)
        cells[col[index[f.thread]]] = f"{cell:<{width}}"
        lines.append(f"{'oops':>6} | " + " | ".join(cells).rstrip())
    if f is not None:
        lines.append(f"{'':>6}   T{f.thread} {f.kind}: {f.message}, address {f.address:#x}")
    return "\n".join(lines)
