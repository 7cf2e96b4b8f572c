# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk bench --callgrind`: deterministic instruction counts per walk."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path

from pywalk.bench import layouts as bench_layouts
from pywalk.bench import runner
from pywalk.errors import UsageError
from pywalk.tree import sources
from pywalk.variant import runtime


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
    from pywalk.variant.builder import CC
    tag = hashlib.sha256(_RESERVE_C.encode()).hexdigest()[:12]
    out = sources.cache_root() / "bench" / f"vg-reserve-{tag}.so"
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
    mod = runtime._load(Path(spec["module"]))
    v = types.SimpleNamespace(lib=mod.lib, ffi=mod.ffi, module_path=Path(spec["module"]),
                              name=spec["name"])
    visited = {}
    for name in spec["layouts"]:
        n = CALLGRIND_WALKS[name]
        lay = bench_layouts.LAYOUTS[name]
        size = CALLGRIND_SIZES[name]
        side = runner.Side(v, lay, size)
        side.populate(lay.plan(size))
        for arm in CALLGRIND_ARMS:
            for iters in (1, n, 2 * n):
                if arm == "walk":
                    side.walk(iters)
                else:
                    side.floor(runner.FLOOR_MODES[arm], iters)
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
    pkg_parent = str(Path(runner.__file__).resolve().parent.parent)
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
               "import sys; from pywalk.bench.callgrind import _callgrind_child; "
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


def callgrind_counts(a, b, layouts: list[str], progress=runner._nop) -> dict:
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
