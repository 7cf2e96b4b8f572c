# SPDX-License-Identifier: GPL-2.0-only
"""Instrumented variants: the tree's code (only) calls pywalk's __tsan_* runtime."""

import json
import re
import subprocess
import sys

import pytest

import pywalk
from pywalk.assets import asset_dir
from pywalk.hunt import stress
from pywalk.hunt.races import PMD_ALLOC_TOCTOU, WALKER_RACE
from pywalk.variant import builder, instrument
from pywalk.variant.runtime import fault_name

GiB = 1 << 30


@pytest.fixture(scope="module")
def v61i():
    return pywalk.build("6.1", instrumented=True)


def _bodies(so) -> dict[str, str]:
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(so)],
                         capture_output=True, text=True, check=True).stdout
    return {m.group(1): m.group(2) for m in
            re.finditer(r"^[0-9a-f]+ <([\w.]+)>:\n(.*?)(?=\n\n)", out, re.M | re.S)}


def test_instrumented_is_its_own_variant(v61i, v61):
    assert v61i.instrumented and not v61.instrumented
    assert v61i.id != v61.id


def test_only_the_trees_code_calls_the_runtime(v61i, v61):
    body = _bodies(v61i.module_path)
    for fn in ("__handle_mm_fault", "walk_pgd_range", "__split_huge_pud", "__pmd_alloc"):
        assert "<__tsan_read8>" in body[fn] or "<__tsan_read8@plt>" in body[fn], fn
    for fn in ("pw_stress_loop", "pw_delay", "pw_alloc_table_page", "pw_do_fault"):
        assert "__tsan" not in body[fn], fn
    assert not any("__tsan" in b for b in _bodies(v61.module_path).values())


def test_site_names_match_the_c_enum():
    h = (asset_dir("csrc") / "pywalk_api.h").read_text()
    enum = h[h.index("enum pw_site {"):h.index("PW_NR_SITES")]
    names = [n.lower() for n in re.findall(r"PW_SITE_(\w+)\s*=", enum)]
    assert tuple(names) == stress.SITES
    assert len(stress.DelayProfile().prob) == len(stress.SITES)
    p = stress.DelayProfile.parse("read=512:2000,marked_write=7")
    assert p.prob[stress.SITES.index("read")] == 512
    assert p.max_spins[stress.SITES.index("read")] == 2000
    assert p.prob[stress.SITES.index("marked_write")] == 7


def test_split_gives_cross_cut_statics_an_alias(tmp_path):
    (tmp_path / "h.c").write_text("static int shim_helper(int x)\n{ return x; }\n"
                                  "int harness(void) { return tree_fn(1); }\n")
    # the parts as builder.generate() gives them; no banner comment is needed
    # (nor looked for) to tell them apart
    gen = builder.Generated(
        common="static int shim_helper(int);\nstatic int tree_fn(int);\n",
        tree="static int tree_fn(int x)\n{ return shim_helper(x); }\n"
             "static int unused_fn(int x)\n{ return x; }\n",
        harness=f'#include "{tmp_path / "h.c"}"\n')
    tree, harness = instrument.split(gen)
    assert "#define shim_helper pw_ext_shim_helper" in tree
    assert 'pw_ext_tree_fn __attribute__((alias("tree_fn")' in tree
    assert "#define tree_fn pw_ext_tree_fn" in harness
    assert 'pw_ext_shim_helper __attribute__((alias("shim_helper")' in harness
    assert "unused_fn" not in harness
    assert "static int tree_fn(int x)" not in harness


def test_the_instrumented_fault_path_behaves_the_same(v61i):
    with v61i.new_mm() as mm:
        start = mm.map(4 * GiB, huge=True, write_notify=True)
        assert fault_name(mm.fault(start + 12345)) == "NOPAGE"
        assert mm.lookup(start) == ("pud", "leaf")
        mm.fault(start + 4096, write=True)      # wp_huge_pud(): split, fall back to ptes
        assert mm.lookup(start + 4096) == ("pte", "present")
        counts = mm.walk(start, start + 4 * GiB)
        assert counts["ret"] == 0 and counts["pte_entry"] >= 1


def test_cli_instrument_switch(tmp_path):
    out = {}
    for mode in ("on", "off"):
        p = subprocess.run([sys.executable, "-m", "pywalk", "build", "--kernel", "6.1",
                            "--instrument", mode, "--json"], capture_output=True, text=True)
        assert p.returncode == 0, p.stderr
        out[mode] = json.loads(p.stdout)
    assert out["on"]["instrumented"] is True and out["off"]["instrumented"] is False
    assert out["on"]["variant"] != out["off"]["variant"]


# ops to the first TOCTOU finding measured on seeds 1-3: 14,684 / 5,597 / 156,463
# (earlier builds: 7,539 / 85,878 / 116); the budget is some 20 times the largest
@pytest.mark.stress
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_pmd_alloc_toctou_shows_on_61_as_shipped(v61i, seed):
    r = stress.run(v61i, "fault-vs-fault", ops=3_000_000, seed=seed, keep_going=True,
                   stop_when=PMD_ALLOC_TOCTOU.matches)
    hits = [f for f in r.findings if PMD_ALLOC_TOCTOU.matches(f)]
    assert hits, f"not found in {r.ops:,} ops"
    assert any(b.startswith("__handle_mm_fault mm/memory.c") for b in hits[0].backtrace)
    assert all(PMD_ALLOC_TOCTOU.matches(f) for f in r.findings)


@pytest.mark.stress
def test_cve_race_still_shows_instrumented(v61i):
    r = stress.run(v61i, "walk-vs-refault", ops=2_000_000, seed=1)
    assert r.findings and WALKER_RACE.matches(r.findings[0])
