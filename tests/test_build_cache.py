# SPDX-License-Identifier: GPL-2.0-only
"""The variant cache: concurrent builds of one variant compile it once."""

import json
import os
import subprocess
import sys

from pywalk.tree import sources

BUILD = """
import json, pywalk
v = pywalk.build("6.1")
print(json.dumps({"compiled": v.result.compiled, "module": str(v.module_path)}))
"""


def test_concurrent_builds_compile_once_and_agree(tmp_path, v61):
    src = sources.cache_root() / "src"
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "src").symlink_to(src)           # the kernel source, without its builds
    env = dict(os.environ, PYWALK_CACHE=str(cache))
    procs = [subprocess.Popen([sys.executable, "-c", BUILD], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.splitlines()[-1]))
    assert sum(r["compiled"] for r in results) == 1
    assert len({r["module"] for r in results}) == 1
    builds = [p.name for p in (cache / "build").iterdir() if not p.name.startswith(".")]
    assert len([b for b in builds if not b.endswith(".log")]) == 1   # no half-built leftovers
