# SPDX-License-Identifier: GPL-2.0-only
"""Explain a crash down to the loads.

For a fault on an address derived from a page-table entry, the shim's
report (shim/checkers/history.c) carries the entry the faulting access
derived from, the crashing thread's loads of it (instrumented builds: each
with the site, the kind -- plain, marked (READ_ONCE), atomic -- and the
value) and the stores to it by every thread, each with its TSC.  Laid out in
order, they say which load the crash used, what the thread had checked, and
who changed the entry in between; a known pattern is named with its fix.
Every explanation says which build model it holds in (pywalk/variant/model.py).
"""

from __future__ import annotations

from pywalk.variant import model as build_model

_PRESENT, _PSE, _DEVMAP = 1, 1 << 7, 1 << 58
LEVELS = {0: "pte", 1: "pmd", 2: "pud", 3: "p4d", 4: "pgd"}
KINDS = {0: "plain", 2: "marked (READ_ONCE)", 4: "atomic"}
# the table below an entry, from a value already read (the snapshot)
SNAPSHOT = {"pud": "pud_pgtable(pudval) + pmd_index(addr)",
            "pmd": "pte_offset_map() of the pmdval checked (pmd_page_vaddr(pmdval) + pte_index(addr))",
            "p4d": "p4d_pgtable(p4dval) + pud_index(addr)"}
STALE_PLAIN = "stale plain load after a marked re-check"


def decode(value: int, level: str | None = None) -> str:
    """An entry value in words: none, not present, table, leaf, devmap leaf, present (a pte)."""
    if value == 0:
        return "none"
    if not value & _PRESENT:
        return "not present"
    if level == "pte":
        return "present"
    if value & _PSE:
        return "devmap leaf" if value & _DEVMAP else "leaf"
    return "table"


def kind_name(kind: int) -> str:
    return KINDS.get(kind, KINDS[4] if kind & 4 else KINDS[2] if kind & 2 else KINDS[0])


def site(frames: list[str]) -> tuple[str, str | None]:
    """A load's or store's site: the innermost tree frame ('fn file:line'), and
    the shim accessor it was made in (pud_none(), set_pud(), ...), if any."""
    accessor = None
    for f in frames:
        fn, _, loc = f.partition(" ")
        if loc.startswith(("shim/", "csrc/")) or "/shim/" in loc:
            accessor = accessor or fn
            continue
        if fn != "??":
            return f, accessor
    return (frames[0] if frames else "?"), accessor


def _where(frames: list[str]) -> str:
    s, acc = site(frames)
    fn, _, loc = s.partition(" ")
    via = f"{acc}() in " if acc and acc != fn else ""
    return f"{via}{fn}() at {loc}" if loc else s


def explain(*, address: int, backtrace: list[str], thread: int, entry: int, level: int,
            loads: list[dict], used: int, racing: list[dict], model: str,
            role_names: dict | None = None) -> dict | None:
    """The explanation of a fault (None when the report has neither loads nor stores).

    loads: newest first, {value, kind, seq, site (frames)}; racing: newest
    first, {thread, role, op, old, new, seq, backtrace}; seq: the shim's
    history clock (shim/checkers/history.c)."""
    if not entry or not (loads or racing):
        return None
    lvl = LEVELS.get(level)
    names = role_names or {}
    events = []
    # order: a store's clock, and a load's clock + 1/2 (it came after the
    # stores up to its clock), this thread's loads among themselves in program order
    for i, ld in enumerate(loads):
        events.append({"seq": ld["seq"], "order": (ld["seq"] + 0.5, len(loads) - i),
                       "who": "this thread", "op": "load",
                       "kind": kind_name(ld["kind"]), "value": ld["value"],
                       "decoded": decode(ld["value"], lvl), "site": _where(ld["site"]),
                       "used": i == used})
    for r in racing:
        mine = r["thread"] == thread
        role = names.get(r["role"], r["role"])
        events.append({"seq": r.get("seq", 0), "order": (r.get("seq", 0), 0),
                       "who": "this thread" if mine else f"thread {r['thread']} ({role})",
                       "op": r["op"], "kind": "atomic", "value": r["new"], "old": r["old"],
                       "decoded": decode(r["new"], lvl), "site": _where(r["backtrace"]),
                       "used": False})
    events.sort(key=lambda e: e.pop("order"))
    crash = _where(backtrace[:8]) if backtrace else "?"
    what = f"the {lvl or 'entry'} at {entry:#x}"
    lines, pattern, advice = [], None, None
    u = loads[used] if 0 <= used < len(loads) else None
    if u is not None:
        lines.append(f"the fault at {crash} used {u['value']:#x} ({decode(u['value'], lvl)}) of "
                     f"{what}, loaded ({kind_name(u['kind'])}) at {_where(u['site'])}")
        later = [ld for ld in loads[:used] if ld["value"] != u["value"]]
        checks = [ld for ld in later if ld["kind"] & 6]
        if checks and u["kind"] == 0:
            c = checks[-1]      # the first check after the used load (loads are newest first)
            lines.append(f"your check at {_where(c['site'])} had loaded {c['value']:#x} "
                         f"({decode(c['value'], lvl)}, {kind_name(c['kind'])}) after it")
            pattern = STALE_PLAIN
            advice = ("a plain load reused after a marked re-check: the compiler may merge "
                      "plain loads; use the snapshot (derive the table from the value you "
                      f"checked: {SNAPSHOT.get(lvl or '', 'the table from the checked value')})")
            lines.append(advice)
        elif later:
            lines.append(f"this thread loaded {later[-1]['value']:#x} "
                         f"({decode(later[-1]['value'], lvl)}) after it, at "
                         f"{_where(later[-1]['site'])}")
    else:
        lines.append(f"the fault at {crash} derived from {what}")
    if u is not None:       # who put the used value there: the last such store before the load
        before = events[:next(i for i, e in enumerate(events) if e.get("used"))]
        src = [e for e in before if e["op"] != "load" and e["value"] == u["value"]]
        if src:
            lines.insert(1, f"that value was stored by {src[-1]['who']} ({src[-1]['op']}) at "
                            f"{src[-1]['site']}")
    changed = [e for e in events if e["op"] != "load" and e["who"] != "this thread"
               and (u is None or e["seq"] > u["seq"])]     # stores after the used load's clock
    if u is not None and changed:
        lines.append(f"after that load, {len(changed)} store(s) by other threads changed it")
    lines.append(f"holds in {build_model.describe(model)}")
    lines.append("timeline (oldest first):")
    for e in events:
        old = f" over {e['old']:#x}" if "old" in e else ""
        mark = "  <- used by the fault" if e["used"] else ""
        lines.append(f"  {e['who']}: {e['op']} ({e['kind']}) {e['value']:#x} ({e['decoded']})"
                     f"{old} at {e['site']}{mark}")
    return {"entry": entry, "level": lvl, "model": model, "pattern": pattern, "advice": advice,
            "events": events, "lines": lines}
