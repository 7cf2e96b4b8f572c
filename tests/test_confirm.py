# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk confirm` without a guest: the reproducer generated for every role
(built with gcc -static -pthread and run on a plain file), the roles a
process cannot play refused by name, the initramfs's cpio, the console
verdict, and the one-line errors with their exit codes."""

import json
import re
import shutil
import stat
import subprocess

import pytest

from pywalk.cli import main
from pywalk.confirm import finding, images, initramfs, reproducer
from pywalk.confirm.verdict import Verdict
from pywalk.errors import EXIT_SOURCE, EXIT_USAGE, UsageError

ALL_ROLES = {"reader": 1, "writer": 1, "walker": 1, "zapper": 1, "flipper": 1}


def _finding(walker="numa_maps", threads=None, driver="dax", leaf="pmd", **kw):
    return finding.Finding(kernel="6.1", scenario="walk-vs-refault", walker=walker,
                           driver=driver, threads=dict(threads or ALL_ROLES), leaf=leaf, **kw)


def _build(tmp_path, source, name="repro"):
    if shutil.which("gcc") is None:
        pytest.skip("no gcc")
    (tmp_path / f"{name}.c").write_text(source)
    proc = subprocess.run(["gcc", "-O2", "-Wall", "-Werror", "-static", "-pthread", "-o",
                           str(tmp_path / name), str(tmp_path / f"{name}.c")],
                          capture_output=True, text=True)
    if proc.returncode and "cannot find -lc" in proc.stderr:
        pytest.skip("no static libc (libc6-dev)")
    assert proc.returncode == 0, proc.stderr
    return tmp_path / name


@pytest.mark.parametrize("walker", finding.PROC_WALKERS)
def test_every_role_is_in_the_reproducer_and_runs(tmp_path, walker):
    """Each role's thread runs (its op count is positive) and the patterned data
    of a plain file comes back intact: the program does what its table says."""
    f = _finding(walker)
    source = reproducer.generate(f)
    kinds = {r.role: r.kind for r in finding.process_roles(f)}
    assert kinds == {"reader": "fault-read", "writer": "fault-write",
                     "walker": f"walk-{walker}", "zapper": "zap", "flipper": "flip-thp"}
    table = re.findall(r'\{ "(\w+)", (\w+), (\d+) \}', source)
    assert {(r, k) for r, k, _ in table} == {
        ("reader", "FAULT_READ"), ("writer", "FAULT_WRITE"),
        ("walker", "WALK_" + walker.upper()), ("zapper", "ZAP"), ("flipper", "FLIP_THP")}
    assert "pywalk" not in re.sub(r"pywalk-repro: |`pywalk confirm`", "", source.split("*/", 1)[1])
    binary = _build(tmp_path, source)
    dev = tmp_path / "dev"
    dev.write_bytes(b"\0" * (3 * reproducer.LEAF_BYTES["pmd"]))
    proc = subprocess.run([str(binary), str(dev), "0.3", "7"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    ops = dict(re.findall(r"ops: (\w+) (\d+)", proc.stdout))
    assert set(ops) == set(ALL_ROLES) and all(int(n) > 0 for n in ops.values()), proc.stdout
    checked = 3 * reproducer.PATTERN_BYTES["pmd"] // 4096
    assert "done: " in proc.stdout and f" 0 corrupt page(s) of {checked} checked" in proc.stdout


def test_the_check_finds_corrupted_device_data(tmp_path):
    """Pages of the patterned bytes changed behind the program's back are reported:
    one during the run (found by the once-a-second check of each leaf's first
    page, and refilled), one at the end."""
    source = reproducer.generate(_finding(threads={"reader": 1}))
    leaf = reproducer.LEAF_BYTES["pmd"]
    during = "\ttick = t0 + 1;\n"
    end = "\tbad = check(PATTERN_BYTES, 0);"
    assert during in source and end in source
    source = source.replace(during, during + "\tmemset(base + LEAF_SIZE, 0, 10);\n")
    source = source.replace(end, "\tmemset(base + 2 * LEAF_SIZE + 100, 0, 100);\n" + end)
    binary = _build(tmp_path, source)
    dev = tmp_path / "dev"
    dev.write_bytes(b"\0" * (3 * leaf))
    proc = subprocess.run([str(binary), str(dev), "1.5"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1
    assert f"corrupt: device offset {leaf:#x}: 00 00" in proc.stdout
    assert f"corrupt: device offset {2 * leaf:#x}: 41 41" in proc.stdout
    assert " 1 corrupt page(s) of 3 checked at the end; 2 corrupt page(s) in all" in proc.stdout
    v = Verdict()
    for line in proc.stdout.splitlines():
        v.feed(0.0, line)
    assert v.confirmed and v.corrupt_pages == 2 and len(v.corrupt_lines) == 2


def test_zap_modes_and_leaf_sizes_are_generated():
    for mode in reproducer.ZAP_MODES:
        src = reproducer.generate(_finding(threads={"zapper": 2, "reader": 1}, leaf="pud"),
                                  mode)
        assert f"#define ZAP_MODE\t{reproducer.ZAP_MODES.index(mode)}" in src
        assert f"#define LEAF_SIZE\t{1 << 30}UL" in src


@pytest.mark.parametrize("change,named", [
    ({"threads": {"reaper": 1, "reader": 1}}, "role reaper"),
    ({"walker": "count-numa"}, "walker count-numa"),
    ({"walker": "pmd_pte"}, "walker pmd_pte"),
    ({"walker": "count"}, "walker count"),
    ({"driver": "write-notify"}, "driver write-notify"),
    ({"driver": None}, "driver write-notify"),
    ({"driver": "vfio"}, "driver vfio"),
])
def test_a_role_without_a_process_counterpart_is_refused(change, named):
    with pytest.raises(UsageError) as e:
        reproducer.generate(_finding(**change))
    assert named in str(e.value) and "\n" not in str(e.value)
    assert e.value.exit_code == EXIT_USAGE


def test_the_cli_refuses_with_one_line_and_exit_2(capsys):
    code = main(["confirm", "--scenario", "walk-vs-refault", "--walker", "count-numa",
                 "--driver", "dax"])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and err.count("\n") == 1 and "count-numa" in err


def test_a_user_tree_without_image_is_exit_2(tmp_path, capsys):
    code = main(["confirm", "--scenario", "walk-vs-refault", "--walker", "numa_maps",
                 "--driver", "dax", "--kernel", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == EXIT_USAGE and err.count("\n") == 1 and "--image" in err


def test_missing_qemu_is_exit_3_naming_the_package(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    code = main(["confirm", "--scenario", "walk-vs-refault", "--walker", "numa_maps",
                 "--driver", "dax", "--seconds", "1"])
    err = capsys.readouterr().err
    assert code == EXIT_SOURCE and err.count("\n") == 1
    assert "qemu-system-x86" in err and "apt-get install" in err


def test_an_image_the_archive_lacks_is_exit_3(tmp_path, monkeypatch):
    monkeypatch.setenv("PYWALK_CACHE", str(tmp_path))
    monkeypatch.setattr(images, "_policy_images", lambda progress: {"1.0-1": "linux-image-x"})
    with pytest.raises(images.FetchError) as e:
        images.image_package("0.0-0", lambda _: None)
    assert e.value.exit_code == EXIT_SOURCE and "0.0-0" in str(e.value)
    assert images.image_package("1.0-1", lambda _: None) == "linux-image-x"


def test_a_report_gives_kernel_scenario_walker_driver_and_threads(tmp_path):
    report = {"scenario": "walk-vs-refault", "walker": "pagemap", "driver": "dax",
              "threads": {"walker": 1, "reader": 3}, "seed": 9, "patches": [],
              "findings": [{"message": "mm/pgtable-generic.c:51: bad pmd"}],
              "source": {"origin": "debian:linux-source-6.12=6.12.0-1~test1"}}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    f = finding.from_report(str(path))
    assert (f.kernel, f.scenario, f.walker, f.driver, f.seed, f.leaf) == (
        "6.12=6.12.0-1~test1", "walk-vs-refault", "pagemap", "dax", 9, "pud")
    assert f.threads == {"walker": 1, "reader": 3} and "bad pmd" in f.message
    # a scenario this checkout does not know is still read from the report
    report.update(scenario="zap-vs-refault", walker=None, threads={"zapper": 2, "reader": 2})
    path.write_text(json.dumps(report))
    f = finding.from_report(str(path))
    assert [r.kind for r in finding.process_roles(f)] == ["zap", "fault-read"]
    report["source"] = {"origin": f"tree:{tmp_path}"}
    path.write_text(json.dumps(report))
    assert finding.from_report(str(path)).user_tree


def _parse_newc(data: bytes) -> dict:
    out, pos = {}, 0
    while True:
        assert data[pos:pos + 6] == b"070701"
        fields = [int(data[pos + 6 + 8 * i: pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, filesize, mode = fields[11], fields[6], fields[1]
        name = data[pos + 110: pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = data[pos: pos + filesize]
        pos += filesize
        pos += -pos % 4
        if name == "TRAILER!!!":
            assert pos == len(data)
            return out
        out[name] = (mode, body, (fields[9], fields[10]))


def test_cpio_is_newc_with_dirs_devices_and_files():
    c = initramfs.Cpio()
    c.file("a/b/c", b"hello")
    c.chardev("dev/console", 5, 1)
    c.symlink("bin/sh", "busybox")
    entries = _parse_newc(c.finish())
    assert stat.S_ISDIR(entries["a"][0]) and stat.S_ISDIR(entries["a/b"][0])
    assert entries["a/b/c"][1] == b"hello" and stat.S_ISREG(entries["a/b/c"][0])
    assert stat.S_ISCHR(entries["dev/console"][0]) and entries["dev/console"][2] == (5, 1)
    assert stat.S_ISLNK(entries["bin/sh"][0]) and entries["bin/sh"][1] == b"busybox"


CONSOLE = """\
[    5.866264] Run /init as init process
[    6.100000] WARNING: CPU: 0 PID: 1 at boot/unrelated.c:1 boot_thing
pywalk-guest: ready: /dev/dax0.0 7516192768 bytes, align 1G
pywalk-repro: start: 7 leaves of 1048576 KiB at 0x7f0000000000, 20 s, seed 1, uptime 10.500000
[   15.850788] mm/pgtable-generic.c:51: bad pmd 000000007057700c(4141414141414141)
[   15.851215] mm/pgtable-generic.c:51: bad pmd 00000000277ea486(4141414141414141)
[   19.000000] mm/pgtable-generic.c:39: bad pud 00000000277ea486(840000c0400000a7)
pywalk-repro: t=5 ops=7464451
[   19.500000] watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [repro:80]
[   20.000000] BUG: Bad rss-counter state mm:000000001 type:MM_FILEPAGES val:-512
pywalk-repro: ops: walker 380
pywalk-repro: corrupt: device offset 0: 00 00 00 00 00 00 00 00 (pattern 0x41)
pywalk-repro: done: 20.1 s, 1 corrupt page(s) of 112 checked at the end; 1 corrupt page(s) in all
pywalk-guest: exit 1
"""


def test_verdict_counts_kernel_messages_after_the_start_only():
    v = Verdict()
    for i, line in enumerate(CONSOLE.splitlines()):
        v.feed(float(i), line)
    assert v.confirmed and v.finished and v.started
    assert dict(v.counts) == {"bad pmd": 2, "bad pud": 1, "soft lockup": 1,
                              "Bad rss-counter state": 1}
    assert v.bursts == 4                      # the two bad-pmd lines are one burst
    assert v.first_s == pytest.approx(15.850788 - 10.5)
    assert v.first_lines[0].endswith("bad pmd 000000007057700c(4141414141414141)")
    assert v.corrupt_pages == 1 and v.ops == {"walker": 380}
    assert len(v.before_start) == 1 and "boot_thing" in v.before_start[0]


def test_verdict_of_a_clean_run_is_not_confirmed():
    v = Verdict()
    for line in ("pywalk-repro: start: 7 leaves of 1048576 KiB at 0x1, 1 s, seed 1, uptime 1.0",
                 "pywalk-repro: done: 1.0 s, 0 corrupt page(s) of 112 checked at the end; "
                 "0 corrupt page(s) in all"):
        v.feed(0.0, line)
    assert not v.confirmed and v.finished and v.corrupt_pages == 0


def test_keep_writes_a_c_file_and_a_run_script(tmp_path):
    from pywalk.confirm import guest, run
    f = _finding(threads={"walker": 1, "reader": 2}, leaf="pud")
    argv = guest.command(tmp_path / "vmlinuz", tmp_path / "initrd")
    written = run.write_kept(str(tmp_path / "keep"), f, reproducer.generate(f), argv, 30)
    assert [p.name for p in written] == ["repro.c", "run.sh"]
    script = written[1].read_text()
    assert "gcc -O2 -static -pthread -o repro repro.c" in script and "memmap=8G!4G" in script
    assert "-m devdax -a 1G" in script and written[1].stat().st_mode & 0o111
    _build(tmp_path, written[0].read_text())


def test_a_user_image_loads_its_modules_dependencies_first(tmp_path, monkeypatch):
    """--image DIR: the bzImage and the nvdimm/dax modules found below DIR, each
    after what its .modinfo says it depends on; missing ones are taken as built in."""
    monkeypatch.setenv("PYWALK_CACHE", str(tmp_path / "cache"))
    tree = tmp_path / "linux"
    (tree / "arch/x86/boot").mkdir(parents=True)
    (tree / "arch/x86/boot/bzImage").write_bytes(b"kernel")
    deps = {"dax_pmem": "device_dax,libnvdimm,dax_pmem_core", "dax_pmem_core": "libnvdimm",
            "device_dax": "", "libnvdimm": "", "nd_pmem": "libnvdimm"}   # no nd_btt, nd_e820
    for name, dep in deps.items():
        d = tree / "drivers" / ("dax" if "dax" in name else "nvdimm")
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{name}.ko").write_bytes(b"\x7fELF\0license=GPL\0depends=" + dep.encode() + b"\0")
    image = images.user_image(str(tree))
    order = [m.name[:-3] for m in image.modules]
    assert sorted(order) == sorted(deps)
    for name, dep in deps.items():
        assert all(order.index(d) < order.index(name) for d in dep.split(",") if d)
    assert image.kernel == tree / "arch/x86/boot/bzImage" and image.package is None
    with pytest.raises(UsageError):
        images.user_image(str(tmp_path / "none"))


def test_the_reproducer_maps_what_the_scenario_maps(tmp_path):
    """walk-vs-refault-pmd maps 1 GiB of 2 MiB leaves in pywalk: so does the reproducer
    (all 3,584 leaves of the guest's device took ~100 s of TCG faults to set up)."""
    f = finding.from_args("6.1", "walk-vs-refault-pmd", "smaps", "dax")
    assert f.leaf == "pmd" and f.align == "2M" and f.size == 1 << 30
    assert f"#define MAP_BYTES\t{1 << 30}UL" in reproducer.generate(f)
    leaf = reproducer.LEAF_BYTES["pmd"]
    small = _finding(threads={"reader": 1}, size=2 * leaf)
    binary = _build(tmp_path, reproducer.generate(small))
    dev = tmp_path / "dev"
    dev.write_bytes(b"\0" * (3 * leaf))
    proc = subprocess.run([str(binary), str(dev), "0.1"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "start: 2 leaves of 2048 KiB" in proc.stdout
