# SPDX-License-Identifier: GPL-2.0-only
"""`pywalk confirm` on a real kernel: boots Debian's 6.1 image under qemu
(TCG) and confirms CVE-2026-31456 (numa_maps walks against refaults of
1 GiB device-dax leaves print "bad pmd" on 6.1).  Skips, saying why, when
qemu, busybox, ndctl or the image cannot be had; .ci/run installs them."""

import json
import os

import pytest

from pywalk.cli import main
from pywalk.confirm import finding, initramfs, run
from pywalk.errors import EXIT_FINDING, FetchError
from pywalk.tree import sources

pytestmark = pytest.mark.vm

SECONDS = 30        # the first hit comes after 3-5 s of the run (README)


def test_the_cve_is_confirmed_on_the_real_61_kernel(tmp_path, capsys):
    missing = initramfs.missing_tools()
    if missing and os.environ.get("CI") == "true":      # .ci/run installs them
        pytest.fail(f"CI without {', '.join(missing)}: .ci/run should have installed them")
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (apt-get install {' '.join(missing)})")
    f = finding.from_args("6.1", "walk-vs-refault", "numa_maps", "dax")
    try:
        image = run.get_image(f, None, lambda _: None)
    except FetchError as e:
        pytest.skip(f"cannot get the 6.1 image: {e}")
    out = tmp_path / "confirm.json"
    code = main(["confirm", "--kernel", "6.1", "--scenario", "walk-vs-refault", "--walker",
                 "numa_maps", "--driver", "dax", "--seconds", str(SECONDS), "--json", str(out),
                 "--keep", str(tmp_path / "keep")])
    text = capsys.readouterr().out
    assert code == EXIT_FINDING, text
    assert text.startswith("confirmed on the real kernel") and "bad pmd" in text
    report = json.loads(out.read_text())
    v = report["verdict"]
    assert v["counts"].get("bad pmd", 0) > 0 and v["bursts"] > 0
    assert any("4141414141414141" in line for line in v["first_lines"])   # the pattern as a pmd
    # the image is the tree's own Debian version
    assert report["image"]["version"] == sources.resolve("6.1").package_version == image.version
    assert report["packages"][0]["sha256"] == image.sha256
    assert "memmap=8G!4G" in report["kernel_cmdline"]
    assert (tmp_path / "keep/repro.c").read_text() == report["reproducer"]
