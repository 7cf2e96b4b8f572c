# SPDX-License-Identifier: GPL-2.0-only
"""Fast tests of the kernel source provider, on tiny fake kernel trees (no network)."""

import concurrent.futures
import hashlib
import multiprocessing
import pathlib

import pytest

from fake_archive import MAKEFILE, make_tarball, make_tree
from pywalk.tree import apt_state, debian, kernel, sources
from pywalk.errors import FetchError, SourceError

def snapshot(root: pathlib.Path) -> dict:
    """Every path below root (and root itself) with its mode and mtime."""
    return {str(p): (p.stat().st_mode, p.stat().st_mtime_ns)
            for p in [root, *sorted(root.rglob("*"))]}


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    """A private cache, no installed /usr/src tarball and no apt sources, for every test."""
    monkeypatch.setenv("PYWALK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(debian, "USR_SRC", tmp_path / "usr/src")
    monkeypatch.setattr(apt_state, "ETC_APT", tmp_path / "etc-apt")
    return tmp_path / "cache"


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "linux")


@pytest.mark.parametrize("text, version", [
    (MAKEFILE, "6.9.3-rc1"),
    ("VERSION = 5\nPATCHLEVEL = 10\nSUBLEVEL = 99\nEXTRAVERSION =\n", "5.10.99"),
    ("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\nEXTRAVERSION = -rc7\n", "6.12.0-rc7"),
    ("VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL =\nEXTRAVERSION =\n", "6.12"),
    ("VERSION = 6\nSUBLEVEL = 1\n", None),
    ("all:\n\techo hi\n", None),
])
def test_parse_version(text, version):
    assert sources.parse_version(text) == version


def test_tree_resolved_in_place(tree):
    source = sources.resolve(tree)
    assert source.root == tree
    assert source.version == "6.9.3-rc1"
    assert source.origin == f"tree:{tree}"
    assert source.package_version is None
    assert source.has("mm/pagewalk.c") and not source.has("mm/nothere.c")
    assert source.read("mm/memory.c") == "/* stub mm/memory.c */\n"
    assert source.path("include/linux/mm.h") == tree / "include/linux/mm.h"
    with pytest.raises(SourceError, match="lacks mm/nothere.c"):
        source.read("mm/nothere.c")
    with pytest.raises(ValueError):
        source.path("../etc/passwd")


def test_tree_given_as_str(tree):
    assert sources.resolve(str(tree)).root == tree


def test_read_only_tree_is_not_written(tree):
    before = snapshot(tree)
    for path in [tree, *tree.rglob("*")]:
        path.chmod(path.stat().st_mode & ~0o222)
    try:
        frozen = snapshot(tree)
        source = sources.resolve(tree)
        assert source.read("include/linux/pagewalk.h")
        assert snapshot(tree) == frozen
        assert sorted(frozen) == sorted(before)
    finally:
        for path in [tree, *tree.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)


def test_tarball_unpacked_to_cache_and_reused(tmp_path, tree, cache, monkeypatch):
    tarball = make_tarball(tmp_path / "linux-6.9.3.tar.gz", tree, "linux-6.9.3")
    source = sources.resolve(tarball)
    assert source.root.parent == cache / "src"
    assert source.root.name.startswith("tarball-linux-6.9.3-")
    assert source.version == "6.9.3-rc1"
    assert source.origin == f"tarball:{tarball}"
    assert source.read("mm/pagewalk.c") == "/* stub mm/pagewalk.c */\n"
    assert source.has("arch/x86/include/asm/pgtable.h")
    assert not source.has("tools")  # only the NEEDED subset
    assert not (source.root / "Makefile").stat().st_mode & 0o222  # read-only
    assert not list((cache / "src").glob(".work-*"))

    before = snapshot(source.root)

    def no_unpack(*args, **kwargs):
        raise AssertionError("tarball unpacked again")

    monkeypatch.setattr(kernel, "unpack_tarball", no_unpack)
    again = sources.resolve(tarball)
    assert again == source
    assert snapshot(source.root) == before


def test_xz_tarball_with_any_name(tmp_path, tree):
    tarball = make_tarball(tmp_path / "snapshot.tar.xz", tree, "src-tree")
    assert sources.resolve(tarball).version == "6.9.3-rc1"


def test_tarball_listed(tmp_path, tree):
    sources.resolve(make_tarball(tmp_path / "linux-6.9.3.tgz", tree, "linux-6.9.3"))
    rows = [row for row in sources.list_kernels()[0] if row["name"] == "linux-6.9.3.tgz"]
    assert len(rows) == 1
    assert rows[0]["cached"] and rows[0]["version"] == "6.9.3-rc1"
    assert rows[0]["origin"] == f"tarball:{tmp_path / 'linux-6.9.3.tgz'}"


def _resolve_root(tarball: str) -> str:
    return str(sources.resolve(tarball).root)


def test_concurrent_tarball_resolves_share_one_unpack(tmp_path, tree, cache):
    tarball = make_tarball(tmp_path / "linux-6.9.3.tar.gz", tree, "linux-6.9.3")
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=context) as pool:
        roots = set(pool.map(_resolve_root, [str(tarball)] * 8))
    assert len(roots) == 1
    assert [p.name for p in (cache / "src").iterdir()] == [pathlib.Path(roots.pop()).name]


def test_fake_debian_package_from_usr_src(tmp_path, tree, cache, monkeypatch):
    usr_src = tmp_path / "usr/src"
    usr_src.mkdir(parents=True)
    make_tarball(usr_src / "linux-source-6.1.tar.xz", tree, "linux-source-6.1")
    monkeypatch.setattr(debian, "_dpkg_version", lambda package: "6.9.3-1")
    messages = []
    source = sources.fetch("6.1", progress=messages.append)
    assert source.root == cache / "src/debian-linux-source-6.1-6.9.3-1"
    assert source.origin == "debian:linux-source-6.1=6.9.3-1"
    assert source.package_version == "6.9.3-1"
    assert source.has("include/linux/huge_mm.h")
    assert messages
    assert sources.resolve("6.1", fetch=False) == source
    assert sources.resolve(None) == source
    assert sources.fetch("6.1", progress=messages.append) == source
    assert source.package == "linux-source-6.1"
    assert source.archive_sha256 == hashlib.sha256(
        (usr_src / "linux-source-6.1.tar.xz").read_bytes()).hexdigest()
    rows, warning = sources.list_kernels()
    row = next(row for row in rows if row["name"] == "6.1")
    assert row["cached"] and row["path"] == str(source.root) and row["version"] == "6.9.3-rc1"
    assert row["cached_versions"] == ["6.9.3-1"] and row["newest"] is None
    assert "no Debian mirror is configured" in warning


def test_not_cached_and_fetch_disabled(cache):
    with pytest.raises(FetchError) as info:
        sources.resolve("6.12", fetch=False)
    assert info.value.exit_code == 3
    assert "linux-source-6.12 is not in the cache" in str(info.value)


def test_no_apt_get(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(FetchError) as info:
        sources.fetch("6.1", progress=lambda message: None)
    assert str(info.value) == ("pywalk: cannot fetch kernel sources: apt-get not found; "
                               "pass --kernel PATH to a kernel tree or tarball")
    assert info.value.exit_code == 3


def test_list_kernels_empty_cache_and_no_mirror():
    rows, warning = sources.list_kernels()
    assert rows == []
    assert warning.startswith("pywalk: cannot fetch kernel sources: no Debian mirror")


def test_cache_root(tmp_path, monkeypatch):
    monkeypatch.setenv("PYWALK_CACHE", str(tmp_path / "a/b"))
    assert sources.cache_root() == tmp_path / "a/b"
    assert (tmp_path / "a/b").is_dir()
    monkeypatch.delenv("PYWALK_CACHE")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert sources.cache_root() == tmp_path / "home/.cache/pywalk"


def expect_source_error(spec, message):
    with pytest.raises(SourceError) as info:
        sources.resolve(spec)
    assert str(info.value) == message
    assert info.value.exit_code == 2


def test_missing_path(tmp_path):
    missing = tmp_path / "nope"
    expect_source_error(missing, f"pywalk: --kernel {missing}: no such file or directory")


def test_not_a_kernel_tree(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/Makefile").write_text("all:\n")
    expect_source_error(
        tmp_path / "docs",
        f"pywalk: --kernel {tmp_path / 'docs'} is not a Linux kernel source tree "
        "(no Makefile with VERSION/PATCHLEVEL, mm/ or include/linux/)")


def test_tarball_without_kernel_tree(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "README").write_text("hello\n")
    tarball = make_tarball(tmp_path / "linux-docs.tar.gz", docs, "docs")
    expect_source_error(
        tarball,
        f"pywalk: --kernel {tarball} is not a Linux kernel source tree "
        "(no Makefile with VERSION/PATCHLEVEL, mm/ or include/linux/)")


def test_file_that_is_not_a_tarball(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello\n")
    expect_source_error(notes, f"pywalk: --kernel {notes} is neither a directory nor a tarball")


def test_missing_required_file(tree):
    (tree / "mm/pagewalk.c").unlink()
    expect_source_error(tree, f"pywalk: --kernel {tree} lacks mm/pagewalk.c")


def test_tarball_missing_required_file(tmp_path, tree, cache):
    (tree / "include/linux/pagewalk.h").unlink()
    tarball = make_tarball(tmp_path / "linux-6.9.3.tar.gz", tree, "linux-6.9.3")
    expect_source_error(tarball, f"pywalk: --kernel {tarball} lacks include/linux/pagewalk.h")
    assert not [p for p in (cache / "src").iterdir()]  # nothing half-unpacked is left


@pytest.mark.parametrize("spec", ["6.2.1", "6.1=", "6"])
def test_not_a_series(spec, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    expect_source_error(spec, f"pywalk: --kernel {spec}: not a kernel series (SERIES or "
                              "SERIES=VERSION, e.g. 6.1 or 7.3; see pywalk kernels) nor a path "
                              "to a kernel tree or tarball")
    with pytest.raises(SourceError, match="not a kernel series"):
        sources.fetch(spec)


def test_series_without_a_mirror_is_a_fetch_error(tmp_path, monkeypatch):
    with pytest.raises(FetchError) as info:
        sources.resolve("5.99")
    assert info.value.exit_code == 3 and "no Debian mirror is configured" in str(info.value)


def test_entry_with_outdated_needed_subset_is_replaced(tmp_path, tree, cache):
    tarball = make_tarball(tmp_path / "linux-6.9.3.tar.gz", tree, "linux-6.9.3")
    first = sources.resolve(tarball)
    meta = first.root / sources.METADATA
    meta.chmod(0o644)
    meta.write_text(meta.read_text().replace('"mm",', ""))
    second = sources.resolve(tarball)  # lacks part of NEEDED: unpacked again
    assert second == first
    assert '"mm",' in (second.root / sources.METADATA).read_text()


def test_a_grown_needed_unpacks_a_tarball_again(tmp_path, tree, monkeypatch):
    tarball = make_tarball(tmp_path / "linux-6.9.3.tar.gz", tree, "linux-6.9.3")
    assert not sources.resolve(tarball).has("tools/include/stub.h")
    monkeypatch.setattr(kernel, "NEEDED", kernel.NEEDED + ("tools/include",))
    assert sources.resolve(tarball).has("tools/include/stub.h")


@pytest.mark.parametrize("held, covers", [
    (list(kernel.NEEDED), True),
    (["Makefile", "mm", "include", "arch", "fs", "drivers", "kernel"], True),
    (["Makefile", "mm", "include", "arch", "fs", "drivers"], False),   # before kernel/sys.c
    (["Makefile", "mm", "include", "arch"], False),     # before the clients: unpacked again
    (["Makefile", "include", "arch/x86/include"], False), (None, False)])
def test_holds_needed(held, covers):
    assert kernel.holds_needed(held) is covers
