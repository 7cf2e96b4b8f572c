# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk bench` results for people: the table and the optional plot."""

from __future__ import annotations

import os
import tempfile

from pywalk.bench import layouts as bench_layouts
from pywalk.errors import UsageError


def _need_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("pywalk: --plot needs matplotlib (pip install 'pywalk[plot]')") from None
    return plt


# ---- the table ----------------------------------------------------------------

def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows])


def _n(x, nd: int = 0) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def _aa(x: dict) -> str:
    """The A/A control's ratio and interval, for a table cell."""
    if x.get("aa_ratio") is None:
        return "-"
    return f"{x['aa_ratio']:.4f} ({x['aa_ci_low']:.4f}..{x['aa_ci_high']:.4f})"


AA_LINE = ("A/A control: A' is variant A again in its own mm, timed in the same rounds; "
           "the 95% CI of B/A is widened by how far A'/A's reaches from 1.0 (aa_spread, in "
           "quadrature), so "
           "B/A inside what identical code shows is \"no measurable difference\"")


def _refault_lines(items: list[dict]) -> list[str]:
    """Layouts timed under refault (a splitting walker): B/A and the split path per walk."""
    rows = []
    for x in items:
        o = x["oopses"]
        rows.append([x["layout"], x["size_human"], str(x["faulters"]),
                     _n(x["a_ns_per_walk"]), _n(x["b_ns_per_walk"]), f"{x['ratio']:.4f}",
                     f"{x['ci_low']:.4f}..{x['ci_high']:.4f}", x["verdict"], _aa(x),
                     f"{x['a_splits_per_walk']:.2f} / {x['b_splits_per_walk']:.2f}",
                     f"{x['a_retries_per_walk']:.2f} / {x['b_retries_per_walk']:.2f}",
                     f"{x['a_entries_per_walk']:,.0f} / {x['b_entries_per_walk']:,.0f}",
                     f"{o['a']['count']} / {o['b']['count']}"])
    out = [_table(["layout", "size", "faulters", "A ns/walk", "B ns/walk", "B/A", "95% CI",
                   "verdict", "A'/A (95% CI)", "splits/walk A / B", "retries/walk A / B", "entries/walk A / B",
                   "oopses A / B"], rows)]
    for x in items:
        ea, eb = x["a_entries_per_walk"], x["b_entries_per_walk"]
        if ea and eb and abs(eb / ea - 1) > 0.1:
            out.append(f"{x['layout']}: NOTE A and B walked {ea:,.0f} and {eb:,.0f} entries per "
                       "walk: their tables drifted apart, so B/A compares different work")
        pl = x.get("placements") or []
        if len(pl) > 1:
            each = ", ".join(f"{p['ratio']:.4f} ({p['ci_low']:.4f}..{p['ci_high']:.4f})"
                             for p in pl)
            # apart: intervals that do not meet, a percent or more apart
            apart = (max(p["ci_low"] for p in pl) > min(p["ci_high"] for p in pl) and
                     max(p["ratio"] for p in pl) - min(p["ratio"] for p in pl) >= 0.01)
            out.append(f"{x['layout']}: B/A per placement of the tables: {each}" +
                       ("; NOTE they disagree by a percent or more: where the tables lie "
                        "(or the machine) moved the times; B/A above is the median over all "
                        "rounds; rerun before you trust it" if apart else ""))
        c = x.get("split_cost")
        if c:
            out.append(f"{x['layout']}: block time against splits per walk (least squares over "
                       f"blocks): A {c['a_ns_per_split']:,.0f} ns/split (r2 {c['a_r2']:.2f}), "
                       f"B {c['b_ns_per_split']:,.0f} ns/split (r2 {c['b_r2']:.2f}); a rough "
                       "estimate, B/A is the comparison")
        for side in ("a", "b"):
            o = x["oopses"][side]
            if o["count"]:
                kinds = ", ".join(f"{n} x {k}" for k, n in o["kinds_of_first_8"].items())
                seen = "" if o["count"] <= 8 else "the first 8: "
                out.append(f"{x['layout']}: {side.upper()} oopsed {o['count']} time(s) in timed "
                           f"walks ({seen}{kinds}); each time its mm was rebuilt and the block "
                           "run again")
    return out


def render(result: dict) -> str:
    a, b = result["a"]["name"], result["b"]["name"]
    walker = result["settings"]["walker"]
    out = [f"A = {a}", f"B = {b}" + ("  (the same variant: an A/A check)" if a == b else "")]
    refaulted = [x for x in result["layouts"] if x.get("mode") == "refault"]
    if refaulted:
        how = {"between": "before every timed walk, faulter threads refault every huge leaf "
                          "of the range and the walker waits for them (--refault between: "
                          "every walk does the same work)",
               "during": "faulter threads refault at random while the walker walks "
                         "(--refault during: splits per walk vary, and so does B/A)"}
        mode = result["settings"].get("refault") or "during"
        counted = ("; the tree's client runs as it is, and is counted by census walks"
                   if any(x.get("counted_by") == "census" for x in refaulted) else "")
        out += [f"walker: {walker} (splits the huge leaves it meets); {how[mode]}; delays "
                "off, no store history; splits, retries (the walk went back to the entry it "
                f"had just split) and entries (callbacks) per walk{counted}; B/A: median over "
                "rounds of B's block / A's block, run back to back", ""]
        out += _refault_lines(refaulted) + [AA_LINE]
        out += ["", f"{len(result['layouts'])} layout(s) in {result['elapsed_s']:.1f} s; load "
                f"average {result['host']['loadavg_start'][0]:.2f} at start, "
                f"{result['host']['loadavg_end'][0]:.2f} at end on {result['host']['cpus']} "
                "CPU(s)" + ("  (interrupted)" if result["interrupted"] else "")]
        return "\n".join(out)
    out += [f"walker: {walker} (never splits a huge leaf); ns per walk: "
            "median over rounds of each block's interquartile mean; B/A: median over rounds of "
            "B's block / A's block, run back to back", ""]
    rows = []
    for x in result["layouts"]:
        rows.append([x["layout"], x["size_human"], _n(x["entries"]["visited"]),
                     _n(x["a_ns_per_walk"]), _n(x["b_ns_per_walk"]),
                     _n(x["a_ns_per_entry"], 2), f"{x['ratio']:.4f}",
                     f"{x['ci_low']:.4f}..{x['ci_high']:.4f}", x["verdict"], _aa(x),
                     f"{x['floor_ratio']:.2f}x"])
    out.append(_table(["layout", "size", "entries", "A ns/walk", "B ns/walk", "A ns/entry",
                       "B/A", "95% CI", "verdict", "A'/A (95% CI)", "A/floor"], rows))
    if rows:
        out.append(AA_LINE)
    rows = [[x["layout"], _n(x["floor_ns_per_walk"]), _n(x["floor_raw_ns_per_walk"]),
             _n(x["floor_cb_ns_per_walk"]), f"{x['hook_ratio']:.3f}",
             f"{x['hook_share_of_a'] * 100:.1f}%", f"{x['callbacks_ratio']:.2f}",
             f"{x['walker_over_callbacks']:.3f}"]
            for x in result["layouts"]]
    if rows:
        out += ["", "where A's time goes (our loops over A's tables: floor = shim accessors, "
                "no-hook = plain loads, +callbacks = plain loads + the walker's callbacks):",
                _table(["layout", "floor ns", "no-hook ns", "+callbacks ns", "floor/no-hook",
                        "hook share of A", "+callbacks/no-hook", "A/+callbacks"], rows)]
    rows = [[x["layout"], str(c["faulters"]), _n(c["a_walks_per_s"]), _n(c["b_walks_per_s"]),
             f"{c['a_slowdown']:.2f}x", f"{c['ratio']:.4f}",
             f"{c['ci_low']:.4f}..{c['ci_high']:.4f}", c["verdict"], _n(c["a_faults_per_s"])]
            for x in result["layouts"] if (c := x.get("contention"))]
    if rows:
        out += ["", "under contention (faulter threads read-refault the same mm, delays off; "
                "A slowdown = A contended / A alone, paired):",
                _table(["layout", "faulters", "A walks/s", "B walks/s", "A slowdown", "B/A",
                        "95% CI", "verdict", "A faults/s"], rows)]
    rows = []
    for x in result["layouts"]:
        sc = x.get("scaling")
        if sc and sc["a_fit"]:
            f = sc["a_fit"]
            rows.append([x["layout"], ", ".join(bench_layouts.fmt_size(s) for s in sc["sizes"]),
                         f"{f['slope_ns_per_entry']:.3f}", _n(f["intercept_ns"]),
                         f"{f['r2']:.4f}", f"{f.get('exponent', float('nan')):.3f}",
                         f"{sc['b_fit']['slope_ns_per_entry']:.3f}"])
    if rows:
        out += ["", "scaling (walk cost against visited entries, least squares):",
                _table(["layout", "sizes", "A ns/entry", "A intercept ns", "r2",
                        "log-log slope", "B ns/entry"], rows)]
    rows = [[x["layout"], _n(c["a_ir_per_walk"]), _n(c["b_ir_per_walk"]),
             f"{c['ratio']:.5f}", _n(c["floor_ir_per_walk"]), f"{c['floor_ratio']:.2f}x",
             _n(c["a_ir_per_entry"], 2)]
            for x in result["layouts"] if (c := x.get("callgrind"))]
    if rows:
        out += ["", "instructions (callgrind, deterministic; sizes in the JSON):",
                _table(["layout", "A Ir/walk", "B Ir/walk", "B/A", "floor Ir/walk",
                        "A/floor", "A Ir/entry"], rows)]
    m = result["memory"]
    if m["table_bytes"]:
        small = m["table_bytes"] < 16 << 20
        out += ["", f"memory: page tables {m['table_bytes'] / 2**20:,.1f} MiB, harness RSS "
                f"grew {m['rss_delta_bytes'] / 2**20:,.1f} MiB ({m['ratio']:.2f}x"
                + ("; too few tables for the ratio to mean much)" if small else ")")]
    h = result["host"]
    out.append(f"{len(result['layouts'])} layout(s) in {result['elapsed_s']:.1f} s; load average "
               f"{h['loadavg_start'][0]:.2f} at start, {h['loadavg_end'][0]:.2f} at end on "
               f"{h['cpus']} CPU(s)" + ("  (interrupted)" if result["interrupted"] else ""))
    return "\n".join(out)


# ---- the plot -----------------------------------------------------------------

def plot(result: dict, path: str) -> None:
    plt = _need_matplotlib()
    items = result["layouts"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.8))
    for i, x in enumerate(items):
        sc = x.get("scaling") or {"sizes": [x["size"]], "a_ns": [x["a_ns_per_walk"]],
                                  "b_ns": [x["b_ns_per_walk"]],
                                  "floor_ns": [x["floor_ns_per_walk"]]}
        gib = [s / 2**30 for s in sc["sizes"]]
        color = f"C{i}"
        ax1.plot(gib, sc["a_ns"], "o-", color=color, label=f"{x['layout']} A")
        ax1.plot(gib, sc["b_ns"], "x--", color=color, label=f"{x['layout']} B")
        ax1.plot(gib, sc["floor_ns"], ":", color=color, alpha=0.6,
                 label=f"{x['layout']} floor")
    ax1.set_xscale("log", base=2)
    ax1.set_yscale("log")
    ax1.set_xlabel("mapped size (GiB)")
    ax1.set_ylabel("ns per walk (median)")
    ax1.set_title("walk cost against mapped size")
    ax1.legend(fontsize=7, ncol=2)
    names = [x["layout"] for x in items]
    ratios = [x["ratio"] for x in items]
    err = [[x["ratio"] - x["ci_low"] for x in items], [x["ci_high"] - x["ratio"] for x in items]]
    ax2.errorbar(range(len(items)), ratios, yerr=err, fmt="o", capsize=6, label="uncontended")
    cont = [(i, x["contention"]) for i, x in enumerate(items) if x.get("contention")]
    if cont:
        ax2.errorbar([i + 0.15 for i, _ in cont], [c["ratio"] for _, c in cont],
                     yerr=[[c["ratio"] - c["ci_low"] for _, c in cont],
                           [c["ci_high"] - c["ratio"] for _, c in cont]],
                     fmt="s", capsize=6, label="under contention")
    ax2.axhline(1.0, color="grey", lw=0.8)
    ax2.set_xticks(range(len(items)), names)
    ax2.set_ylabel("B / A time per walk (95% CI)")
    ax2.set_title(f"B = {result['b']['name']}\nagainst A = {result['a']['name']}", fontsize=8)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".pywalk-", suffix=".png", dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.unlink(tmp)


# ---- bench --hunts --------------------------------------------------------------

def render_hunts(result: dict) -> str:
    """Time and operations to the first finding of each known race."""
    rows, notes = [], []
    for x in result["races"]:
        if x.get("not_applicable"):
            notes.append(f"{x['label']}: not run: {x['not_applicable']}")
            continue
        if not x["runs"]:
            continue
        lower = "" if x["found"] == x["seeds"] else ">="
        rows.append([x["label"], x["scenario"], x["race"], f"{x['found']}/{x['seeds']}",
                     f"{lower}{x['median_s']:.3f}", f"{lower}{x['max_s']:.3f}",
                     f"{lower}{x['median_ops']:,}", f"{lower}{x['max_ops']:,}",
                     "yes" if x["within_target"] else "NO"])
    b = result["budget"]
    budget = " and ".join(p for p in (f"{b['seconds']:g} s" if b["seconds"] else "",
                                      f"{b['ops']:,} ops" if b["ops"] else "") if p)
    out = [f"time to the first finding of each known race (the reproduce rows that expect "
           f"one), {result['seeds']} seeds each from {result['first_seed']}, a budget of "
           f"{budget} per hunt; "
           + ("instrumented" if result["instrumented"] else "not instrumented")
           + (", delays on" if result["delays"] else ", delays off")
           + "; s and ops from the hunt's start to the race's first finding "
           "(>=: some seeds found none, counted as their budget)", "",
           _table(["race row", "scenario", "race", "found", "median s", "max s",
                   "median ops", "max ops", f"<= {result['target_s']:g} s"], rows)]
    out += [""] * bool(notes) + notes
    out.append(f"{len(rows)} race(s) in {result['elapsed_s']:.1f} s"
               + ("  (interrupted)" if result["interrupted"] else ""))
    return "\n".join(out)
