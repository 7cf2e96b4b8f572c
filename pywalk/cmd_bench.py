# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk bench`: the real walker of variant B against variant A (pywalk/bench.py),
a table for people, `--json`, `--plot`, and `--callgrind` instruction counts."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import types
from pathlib import Path

from . import api, bench, bench_layouts, kernels
from .cli import write_json_atomic
from .cmd_source import add_variant_args
from .errors import EXIT_INTERRUPTED, EXIT_OK, UsageError


def register(sub) -> None:
    p = sub.add_parser("bench", help="time the real walker of two variants on identical tables")
    add_variant_args(p)
    p.add_argument("--vs-kernel", help="variant B's kernel (default: --kernel)")
    p.add_argument("--vs-patch", action="append", default=[],
                   help="a patch for variant B (repeatable)")
    p.add_argument("--layout", action="append", choices=sorted(bench_layouts.LAYOUTS),
                   help="page-table layout (repeatable; default: all)")
    p.add_argument("--size", action="append", metavar="S",
                   help="mapped size, e.g. 64G, 1T (repeatable: all are scaling points, the "
                        "A/B comparison walks the largest; default per layout)")
    p.add_argument("--seconds", type=float, default=6.0,
                   help="measuring time per layout for the A/B comparison (default 6); "
                        "contention and scaling get a third of it each")
    p.add_argument("--faulters", type=int, default=1,
                   help="refaulting threads in the contention phase (default 1; 0: none)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", metavar="FILE", help="write the result here (atomically)")
    p.add_argument("--plot", metavar="FILE.png", help="plot scaling and ratios (matplotlib)")
    p.add_argument("--callgrind", action="store_true",
                   help="also count instructions per walk under valgrind (slow: ~1 min)")
    p.set_defaults(func=cmd_bench)


def _settings(args) -> bench.Settings:
    if args.seconds <= 0:
        raise UsageError("pywalk: --seconds must be positive")
    if args.faulters < 0:
        raise UsageError("pywalk: --faulters must be 0 or more")
    layouts = args.layout or list(bench_layouts.LAYOUTS)
    layouts = list(dict.fromkeys(layouts))
    given = sorted({bench_layouts.parse_size(s) for s in args.size or []})
    sizes, compare = {}, {}
    for name in layouts:
        lay = bench_layouts.LAYOUTS[name]
        sizes[name] = given or bench_layouts.default_sizes(lay)
        compare[name] = max(given) if given else lay.compare
        for s in sizes[name]:
            bench_layouts.check_size(lay, s)
    return bench.Settings(layouts, sizes, compare, seconds=args.seconds,
                          faulters=args.faulters, seed=args.seed)


def _need_matplotlib():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UsageError("pywalk: --plot needs matplotlib (pip install 'pywalk[plot]')") from None
    return plt


def cmd_bench(args) -> int:
    st = _settings(args)
    if args.plot:
        _need_matplotlib()
    if args.callgrind and not shutil.which("valgrind"):
        raise UsageError("pywalk: --callgrind needs valgrind on PATH")
    a = api.build(args.kernel, args.patch)
    b = api.build(args.vs_kernel or args.kernel, args.vs_patch)
    progress = bench.Progress()
    result = bench.run(a, b, st, progress)
    if args.callgrind and not result["interrupted"]:
        try:
            counts = callgrind_counts(a, b, [x["layout"] for x in result["layouts"]], progress)
        except KeyboardInterrupt:
            counts, result["interrupted"] = {}, True
        for item in result["layouts"]:
            item["callgrind"] = counts.get(item["layout"])
    progress.done()
    if args.json:
        write_json_atomic(args.json, result)
    print(render(result))
    if args.plot and result["layouts"]:
        plot(result, args.plot)
    return EXIT_INTERRUPTED if result["interrupted"] else EXIT_OK


# ---- the table ----------------------------------------------------------------

def _table(head: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(head)]
    line = lambda cells: " | ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
    return "\n".join([line(head), "-+-".join("-" * w for w in widths)] + [line(r) for r in rows])


def _n(x, nd: int = 0) -> str:
    return "-" if x is None else f"{x:,.{nd}f}"


def render(result: dict) -> str:
    a, b = result["a"]["name"], result["b"]["name"]
    out = [f"A = {a}", f"B = {b}" + ("  (the same variant: an A/A check)" if a == b else ""),
           f"walker: {result['settings']['walker']} (never splits a huge leaf); ns per walk: "
           "median over rounds of each block's interquartile mean; B/A: median over rounds of "
           "B's block / A's block, run back to back", ""]
    rows = []
    for x in result["layouts"]:
        rows.append([x["layout"], x["size_human"], _n(x["entries"]["visited"]),
                     _n(x["a_ns_per_walk"]), _n(x["b_ns_per_walk"]),
                     _n(x["a_ns_per_entry"], 2), f"{x['ratio']:.4f}",
                     f"{x['ci_low']:.4f}..{x['ci_high']:.4f}", x["verdict"],
                     f"{x['floor_ratio']:.2f}x"])
    out.append(_table(["layout", "size", "entries", "A ns/walk", "B ns/walk", "A ns/entry",
                       "B/A", "95% CI", "verdict", "A/floor"], rows))
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


# ---- callgrind ----------------------------------------------------------------
#
# valgrind 3.19 cannot reserve the shim's 1 TiB of fake physical memory (its
# address-space manager refuses mappings of 64 GiB and more), so the child runs
# with a preloaded mmap() that shrinks PROT_NONE|MAP_NORESERVE reservations to
# PYWALK_VG_RESERVE bytes: the small tables measured here fit easily, and
# nothing is ever accessed beyond them.  Instructions are counted from dumps
# after each pw_bench_walk()/pw_bench_floor() call: (cost of a call with 2N
# walks - cost of one with N) / N, so the Python glue between calls cancels.

CALLGRIND_SIZES = {"pud": 64 << 30, "pmd": 16 << 30, "pte": 1 << 30, "mix": 4 << 30}
CALLGRIND_WALKS = {"pud": 1000, "pmd": 20, "pte": 4, "mix": 20}
CALLGRIND_ARMS = ("walk", "floor", "floor_raw", "floor_cb")
_RESERVE_C = r"""
/* SPDX-License-Identifier: GPL-2.0-only */
/* pywalk bench --callgrind: shrink huge PROT_NONE reservations under valgrind */
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	static size_t cap;

	if (!cap) {
		const char *s = getenv("PYWALK_VG_RESERVE");
		cap = s ? strtoull(s, NULL, 0) : (16UL << 30);
	}
	if (prot == PROT_NONE && (flags & MAP_NORESERVE) && len > cap)
		len = cap;
	return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
void *mmap64(void *, size_t, int, int, int, off_t) __attribute__((alias("mmap")));
"""


def _reserve_lib() -> Path:
    from .builder import CC
    tag = hashlib.sha256(_RESERVE_C.encode()).hexdigest()[:12]
    out = kernels.cache_root() / "bench" / f"vg-reserve-{tag}.so"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
            src = Path(tmp) / "reserve.c"
            src.write_text(_RESERVE_C)
            proc = subprocess.run([CC, "-O2", "-shared", "-fPIC", "-o", str(Path(tmp) / "r.so"),
                                   str(src)], capture_output=True, text=True)
            if proc.returncode:
                raise UsageError(f"pywalk: --callgrind: cannot build the mmap shim: "
                                 f"{(proc.stderr.strip().splitlines() or ['?'])[-1]}")
            os.replace(Path(tmp) / "r.so", out)
    return out


def _callgrind_child(spec_path: str) -> None:
    """Runs under valgrind: populate each layout, then the timed calls in order."""
    spec = json.loads(Path(spec_path).read_text())
    mod = api._load(Path(spec["module"]))
    v = types.SimpleNamespace(lib=mod.lib, ffi=mod.ffi, module_path=Path(spec["module"]),
                              name=spec["name"])
    visited = {}
    for name in spec["layouts"]:
        n = CALLGRIND_WALKS[name]
        lay = bench_layouts.LAYOUTS[name]
        size = CALLGRIND_SIZES[name]
        side = bench.Side(v, lay, size)
        side.populate(lay.plan(size))
        for arm in CALLGRIND_ARMS:
            for iters in (1, n, 2 * n):
                if arm == "walk":
                    side.walk(iters)
                else:
                    side.floor(bench.FLOOR_MODES[arm], iters)
        visited[name] = side.floor_entries
        side.close()
    Path(spec["out"]).write_text(json.dumps(visited))


def _ir_dumps(directory: Path) -> list[int]:
    dumps = sorted(directory.glob("cg.out.*"), key=lambda p: int(p.suffix[1:]))
    costs = []
    for p in dumps:
        for line in p.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                costs.append(int(line.split()[1]))
                break
    return costs


def _callgrind_variant(v, layouts: list[str]) -> dict:
    pkg_parent = str(Path(bench.__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory(prefix="pywalk-cg-") as tmp:
        t = Path(tmp)
        spec = {"module": str(v.module_path), "name": v.name, "layouts": layouts,
                "out": str(t / "visited.json")}
        (t / "spec.json").write_text(json.dumps(spec))
        env = dict(os.environ, LD_PRELOAD=str(_reserve_lib()), PYWALK_VG_RESERVE=str(32 << 30),
                   PYTHONPATH=os.pathsep.join([pkg_parent, os.environ.get("PYTHONPATH", "")]))
        trig = ["--dump-after=pw_bench_walk", "--dump-after=pw_bench_floor"]
        cmd = ["valgrind", "--tool=callgrind", *trig, f"--callgrind-out-file={t / 'cg.out'}",
               sys.executable, "-c",
               "import sys; from pywalk.cmd_bench import _callgrind_child; "
               "_callgrind_child(sys.argv[1])", str(t / "spec.json")]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode or not (t / "visited.json").exists():
            err = [ln for ln in proc.stderr.splitlines() if ln and not ln.startswith("==")]
            raise UsageError(f"pywalk: --callgrind: the valgrind run failed: "
                             f"{err[-1] if err else 'exit ' + str(proc.returncode)}")
        visited = json.loads((t / "visited.json").read_text())
        costs = _ir_dumps(t)
    per = len(CALLGRIND_ARMS) * 3
    if len(costs) != per * len(layouts):
        raise UsageError(f"pywalk: --callgrind: expected {per * len(layouts)} dumps from "
                         f"valgrind, got {len(costs)}")
    out = {}
    for i, name in enumerate(layouts):
        c = costs[i * per:(i + 1) * per]
        arms = {arm: (c[k * 3 + 2] - c[k * 3 + 1]) / CALLGRIND_WALKS[name]
                for k, arm in enumerate(CALLGRIND_ARMS)}
        out[name] = dict(arms, visited=visited[name], size=CALLGRIND_SIZES[name])
    return out


def callgrind_counts(a, b, layouts: list[str], progress=bench._nop) -> dict:
    """Instructions per walk for A, B and the floors, per layout (valgrind)."""
    progress("callgrind: A (slow)")
    ca = _callgrind_variant(a, layouts)
    progress("callgrind: B (slow)")
    cb = ca if a.module_path == b.module_path else _callgrind_variant(b, layouts)
    out = {}
    for name in layouts:
        x, y = ca[name], cb[name]
        vis = x["visited"]
        out[name] = {
            "size": x["size"], "entries": vis, "walks": CALLGRIND_WALKS[name],
            "a_ir_per_walk": round(x["walk"], 1), "b_ir_per_walk": round(y["walk"], 1),
            "ratio": round(y["walk"] / x["walk"], 6),
            "a_ir_per_entry": round(x["walk"] / vis, 3), "b_ir_per_entry": round(y["walk"] / vis, 3),
            "floor_ir_per_walk": round(x["floor"], 1),
            "floor_raw_ir_per_walk": round(x["floor_raw"], 1),
            "floor_cb_ir_per_walk": round(x["floor_cb"], 1),
            "floor_ratio": round(x["walk"] / x["floor"], 4),
        }
    return out
