# SPDX-License-Identifier: GPL-2.0-only
"""One definition of every constant: csrc/pywalk_api.h, which Python reads.

pywalk/variant/consts.py reads the header's #define PW_* and enum lines at
import; a built variant has the same header compiled in through cffi, so
``lib.PW_X`` must equal what Python read.  Tables whose user-facing names
follow no rule (walkers, bench floors) must name every C value once.  The
harness numbers page-table levels one way, enum pw_level, numbered as the
kernel's enum pgtable_level; a tree without that enum does not get it.
"""

import re

import pytest

from pywalk.assets import asset_dir
from pywalk.bench import measure
from pywalk.hunt import roles, schedule, stress
from pywalk.tree import sources
from pywalk.variant import consts, delays, oops, runtime


def _sources(root: str):
    return {p: p.read_text() for p in sorted(asset_dir(root).rglob("*"))
            if p.suffix in (".c", ".h")}


def test_python_reads_what_the_variant_compiled(v61):
    """Every constant Python read equals cffi's lib.PW_X of a built variant,
    and every integer constant cffi has is one Python read."""
    assert consts.C, "nothing read from csrc/pywalk_api.h"
    for name, value in consts.C.items():
        assert getattr(v61.lib, name) == value, name
    in_lib = {n for n in dir(v61.lib) if n.startswith("PW_") and isinstance(getattr(v61.lib, n), int)}
    assert in_lib == set(consts.C)


def test_each_constant_is_defined_once_in_c():
    """No shim or harness file defines a name the API header defines, and the
    shim takes enum pw_site from it (no copy of its own)."""
    api = asset_dir("csrc") / "pywalk_api.h"
    for path, text in {**_sources("shim"), **_sources("csrc")}.items():
        if path in consts.HEADERS:      # the API header and report.h (enum pw_oops_kind)
            continue
        dup = consts.defined_names(text) & set(consts.C)
        assert not dup, f"{path} defines {sorted(dup)} again"
    assert "enum pw_site {" in api.read_text()
    assert '#include "../../../csrc/pywalk_api.h"' in (
        asset_dir("shim") / "include/pywalk/runtime.h").read_text()


def test_names_derive_from_c_names():
    assert delays.SITES == stress.SITES == tuple(
        n[len("PW_SITE_"):].lower() for n, v in sorted(consts.C.items(), key=lambda nv: nv[1])
        if n.startswith("PW_SITE_"))
    assert [consts.C["PW_SITE_" + s.upper()] for s in delays.SITES] == list(range(len(delays.SITES)))
    assert len(delays.SITES) == consts.C["PW_NR_SITES"] == len(delays.DelayProfile().prob)
    assert runtime.DRIVERS == {"write-notify": consts.C["PW_DRIVER_WRITE_NOTIFY"],
                               "dax": consts.C["PW_DRIVER_DAX"], "vfio": consts.C["PW_DRIVER_VFIO"]}
    assert runtime.CALLBACKS["pte_hole"] == consts.C["PW_CB_PTE_HOLE"]
    assert set(runtime.CALLBACKS) == {"pgd_entry", "p4d_entry", "pud_entry", "pmd_entry",
                                      "pte_entry", "pte_hole"}
    assert oops.KINDS[consts.C["PW_OOPS_DATA_RACE"]] == "DATA-RACE"
    assert (runtime.ERR_OOPS, runtime.ERR_NOVMA) == (consts.C["PW_ERR_OOPS"], consts.C["PW_ERR_NOVMA"])
    assert schedule.KINDS == {"pct": consts.C["PW_SCHED_PCT"], "random": consts.C["PW_SCHED_RANDOM"],
                              "replay": consts.C["PW_SCHED_REPLAY"]}


@pytest.mark.parametrize("table,prefix", [(runtime.WALKERS, "PW_WALK_"),
                                          (measure.FLOOR_MODES, "PW_BENCH_FLOOR_")])
def test_a_python_named_table_names_every_c_value_once(table, prefix):
    c_values = sorted(v for n, v in consts.C.items() if n.startswith(prefix))
    assert sorted(table.values()) == c_values


def test_roles_are_one_table_and_abba_stays_apart():
    assert stress.ROLE is runtime.ROLES
    assert roles.ROLES == tuple(runtime.ROLES) == ("walker", "reader", "writer", "zapper", "reaper",
                                                   "flipper")
    assert "abba" not in runtime.ROLES and schedule.ROLES["abba"] == consts.C["PW_ROLE_ABBA"]
    assert {k: v for k, v in schedule.ROLES.items() if k != "abba"} == runtime.ROLES
    assert runtime.ROLE_NAMES[consts.C["PW_ROLE_ABBA"]] == "abba"
    for name, value in runtime.ROLES.items():
        assert consts.C["PW_ROLE_" + name.upper()] == value


def test_levels_are_numbered_as_the_kernels_enum_pgtable_level():
    try:
        tree = sources.resolve("7.3")
    except Exception as e:  # noqa: BLE001 - any failure to fetch means "not here"
        pytest.skip(f"7.3 not available through pywalk's fetch: {e}")
    kernel = consts.read(tree.path("include/linux/pgtable.h").read_text(), "pgtable.h",
                         prefix="PGTABLE_LEVEL_")
    ours = {n: v for n, v in consts.C.items() if n.startswith("PW_LEVEL_")}
    assert kernel and {n.replace("PGTABLE_", "PW_"): v for n, v in kernel.items()} == ours
    assert runtime.LEVELS == {0: "pte", 1: "pmd", 2: "pud", 3: "p4d", 4: "pgd"}
    assert runtime.HUGE_LEVELS["pud"] == runtime.HUGE_LEVELS[True] == ours["PW_LEVEL_PUD"]
    assert runtime.HUGE_LEVELS[False] == ours["PW_LEVEL_PTE"]


def test_older_trees_get_no_enum_pgtable_level(v61):
    """The shim and harness never define the kernel's enum (a tree lacking it
    must not get it); a 6.1 variant's code has none, its table levels are ours."""
    for path, text in {**_sources("shim"), **_sources("csrc")}.items():
        assert not consts.defined_names(text, "PGTABLE_LEVEL_"), path
        assert not re.search(r"enum\s+pgtable_level\s*\{", text), path
    tu = (v61.module_path.parent / "variant.c").read_text()
    assert "pgtable_level" not in tu.replace("pgtable_level_has", "")


@pytest.mark.parametrize("huge,expect", [("pud", ("pud", "leaf")), ("pmd", ("pmd", "leaf")),
                                         (False, ("pte", "present"))])
def test_map_and_lookup_speak_level_names(v61, huge, expect):
    with v61.new_mm() as mm:
        s = mm.map(2 << 30 if huge == "pud" else 4 << 20, huge=huge)
        assert mm.lookup(s) == ("p4d", "none")
        mm.fault(s)
        assert mm.lookup(s) == expect
        if huge is False:
            assert mm.lookup(s + 4096) == ("pte", "none")
