# SPDX-License-Identifier: GPL-2.0-only
"""Debian linux-source packages through pywalk's private apt state, against a local
fake archive (file: mirrors): discovery, newest, pins, refresh on a miss, offline
with a cache, a growing NEEDED.  Real apt-get, no network."""

import hashlib
import json
import shutil

import pytest

from fake_archive import FakeArchive
from pywalk import cli
from pywalk.errors import FetchError, SourceError
from pywalk.tree import apt_sources, apt_state, debian, kernel, sources

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("apt-get", "apt-cache", "dpkg-deb", "dpkg")),
    reason="needs apt-get, apt-cache and dpkg-deb")

SUITES = {"6.9": ("bookworm", "bookworm-security"), "6.10": ("bookworm-security",),
          "8.1": ("trixie-backports", "sid")}


@pytest.fixture
def archive(tmp_path, monkeypatch):
    """A fake archive: 6.9 in bookworm (older) and bookworm-security (newer), 6.10 in
    bookworm-security, 8.1 in trixie-backports and (newer) sid; and a private cache."""
    monkeypatch.setenv("PYWALK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(debian, "USR_SRC", tmp_path / "usr/src")
    monkeypatch.setattr(apt_sources, "SERIES_SUITES", SUITES)
    monkeypatch.setitem(apt_state.APT_OPTIONS, "Acquire::Retries", "0")
    fake = FakeArchive(tmp_path / "archive")
    fake.add("6.9", "6.9.3-1", "bookworm")
    fake.add("6.9", "6.9.5-1", "bookworm-security")
    fake.add("6.10", "6.10.2-1~deb12u1", "bookworm-security")
    fake.add("8.1", "8.1.4-1~bpo13+1", "trixie-backports")
    fake.add("8.1", "8.1.6-1", "sid")
    fake.publish({s for suites in SUITES.values() for s in suites})
    monkeypatch.setattr(apt_state, "ETC_APT", fake.etc_apt())
    return fake


def quiet(message):
    pass


def offline(archive, monkeypatch):
    """From now on the machine's only Debian mirror cannot be reached."""
    shutil.rmtree(archive.etc)
    monkeypatch.setattr(apt_state, "ETC_APT", archive.etc_apt("http://127.0.0.1:9/debian"))


def no_apt(monkeypatch):
    """From now on running apt at all fails the test."""
    def refuse(argv, **kwargs):
        raise AssertionError(f"apt run: {argv}")
    monkeypatch.setattr(apt_state, "_run", refuse)


def test_kernels_lists_fetchable_series_and_newest(archive, capsys):
    rows, warning = sources.list_kernels(quiet)
    assert warning is None
    assert [(r["name"], r["newest"], r["suite"], r["cached"]) for r in rows] == [
        ("6.9", "6.9.5-1", "bookworm-security", False),
        ("6.10", "6.10.2-1~deb12u1", "bookworm-security", False),
        ("8.1", "8.1.6-1", "sid", False)]
    assert cli.main(["kernels"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["SERIES", "PACKAGE", "NEWEST", "IN", "ARCHIVE", "CACHED"]
    assert lines[3].split() == ["8.1", "linux-source-8.1", "8.1.6-1", "(sid)", "-"]
    sources.resolve("6.10", progress=quiet)
    assert cli.main(["kernels", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["warning"] is None
    row = next(r for r in data["kernels"] if r["name"] == "6.10")
    assert row["cached_versions"] == ["6.10.2-1~deb12u1"] and row["version"] == "6.10.2"


def test_private_state_is_the_only_one_touched(archive):
    sources.list_kernels(quiet)
    text = (apt_state.state_dir() / "etc/sources.list.d/pywalk.sources").read_text()
    assert f"URIs: file:{archive.root}/debian\nSuites: bookworm trixie-backports sid\n" in text
    assert f"URIs: file:{archive.root}/debian-security\nSuites: bookworm-security\n" in text
    options = apt_state.apt_options()
    assert "Dir::State::status=/dev/null" in options
    assert not [o for o in options if o.startswith("Dir::") and "/etc/apt" in o]


def test_fetch_takes_the_newest_and_resolve_then_needs_no_apt(archive, monkeypatch, capsys):
    assert cli.main(["fetch", "6.9"]) == 0
    src = sources.resolve("6.9")
    assert (src.version, src.package, src.package_version) == ("6.9.5", "linux-source-6.9", "6.9.5-1")
    assert src.origin == "debian:linux-source-6.9=6.9.5-1"
    assert f"6.9: 6.9.5 ({src.origin}) at {src.root}" in capsys.readouterr().out
    deb = archive.mirror("bookworm-security") / "pool/linux-source-6.9_6.9.5-1_all.deb"
    assert src.archive_sha256 == hashlib.sha256(deb.read_bytes()).hexdigest()
    assert src.as_json()["package_version"] == "6.9.5-1"
    assert not src.has("tools") and not (src.root / "Makefile").stat().st_mode & 0o222
    no_apt(monkeypatch)
    assert sources.resolve("6.9") == src
    assert sources.resolve("6.9", fetch=False) == src
    assert sources.resolve("6.9=6.9.5-1") == src


def test_resolve_fetches_the_newest_across_suites(archive):
    src = sources.resolve("8.1", progress=quiet)
    assert src.package_version == "8.1.6-1" and src.version == "8.1.6"


def test_pins(archive, monkeypatch):
    old = sources.resolve("6.9=6.9.3-1", progress=quiet)
    assert (old.version, old.package_version) == ("6.9.3", "6.9.3-1")
    assert cli.main(["fetch", "6.9=6.9.3-1"]) == 0
    new = sources.fetch("6.9", progress=quiet)
    assert new.package_version == "6.9.5-1" and new.root != old.root
    no_apt(monkeypatch)
    assert sources.resolve("6.9=6.9.3-1") == old
    assert sources.resolve("6.9") == new  # the newest cached
    rows, _ = sources.list_kernels(quiet)
    assert rows[0]["cached_versions"] == ["6.9.3-1", "6.9.5-1"]


def test_a_pin_the_archive_does_not_have(archive):
    with pytest.raises(FetchError) as info:
        sources.resolve("6.9=6.9.1-1", progress=quiet)
    assert str(info.value) == ("pywalk: linux-source-6.9 6.9.1-1 is not in the archive "
                               "(it has 6.9.5-1, 6.9.3-1)")
    assert info.value.exit_code == 3


def test_a_series_debian_does_not_ship(archive, capsys):
    with pytest.raises(SourceError) as info:
        sources.resolve("5.99", progress=quiet)
    assert str(info.value) == (
        "pywalk: Debian has no linux-source-5.99 in the suites pywalk reads (fetchable "
        "series: 6.9, 6.10, 8.1); pass --kernel PATH to a kernel tree or tarball")
    assert cli.main(["build", "--kernel", "5.99"]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_lists_refreshed_on_a_miss_not_otherwise(archive, monkeypatch):
    sources.resolve("6.9", progress=quiet)
    archive.add("6.9", "6.9.7-1", "bookworm-security")
    archive.publish(["bookworm-security"])
    index_path = apt_state.state_dir() / "kernels.json"
    index = json.loads(index_path.read_text())
    index["updated"] -= 3600  # an hour old: fresh, but not just updated
    index_path.write_text(json.dumps(index))
    assert sources.resolve("6.9", progress=quiet).package_version == "6.9.5-1"  # cached
    assert sources.resolve("6.9=6.9.7-1", progress=quiet).package_version == "6.9.7-1"
    assert json.loads(index_path.read_text())["updated"] > index["updated"]


def test_offline_with_a_cached_tree(archive, monkeypatch, capsys):
    cached = sources.resolve("6.9", progress=quiet)
    offline(archive, monkeypatch)
    assert sources.resolve("6.9") == cached
    messages = []
    assert sources.fetch("6.9", progress=messages.append) == cached
    assert "cannot update the package lists" in messages[-1]
    assert "127.0.0.1:9" in messages[-1] and messages[-1].endswith(f"using the cached {cached.origin}")
    assert cli.main(["kernels"]) == 0
    out, err = capsys.readouterr()
    assert [line.split()[:3] for line in out.splitlines()[1:]] == [["6.9", "linux-source-6.9", "-"]]
    assert "cannot update the package lists" in err
    with pytest.raises(FetchError) as info:
        sources.resolve("8.1", progress=quiet)
    assert info.value.exit_code == 3 and "127.0.0.1:9" in str(info.value)


def test_a_grown_needed_is_unpacked_again_from_the_kept_deb(archive, monkeypatch):
    first = sources.resolve("6.9=6.9.3-1", progress=quiet)
    assert not first.has("tools/include/stub.h")
    monkeypatch.setattr(kernel, "NEEDED", kernel.NEEDED + ("tools/include",))
    no_apt(monkeypatch)
    again = sources.resolve("6.9", progress=quiet)
    assert again.root == first.root and again.package_version == "6.9.3-1"
    assert again.has("tools/include/stub.h")
    meta = json.loads((again.root / sources.METADATA).read_text())
    assert meta["needed"][-1] == "tools/include"


def test_a_grown_needed_downloads_the_same_version_when_the_deb_is_gone(archive, monkeypatch):
    first = sources.resolve("6.9=6.9.3-1", progress=quiet)
    shutil.rmtree(apt_state.deb_dir())
    monkeypatch.setattr(kernel, "NEEDED", kernel.NEEDED + ("tools/include",))
    again = sources.resolve("6.9", progress=quiet)
    assert again.package_version == "6.9.3-1" and again.has("tools/include/stub.h")
    assert again.root == first.root


def test_no_debian_mirror(archive, monkeypatch):
    etc = archive.root / "other-etc"
    (etc / "sources.list.d").mkdir(parents=True)
    (etc / "sources.list.d/node.sources").write_text(
        "Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n"
        "Components: main\n")
    monkeypatch.setattr(apt_state, "ETC_APT", etc)
    with pytest.raises(FetchError) as info:
        sources.resolve("6.9", progress=quiet)
    assert info.value.exit_code == 3
    assert str(info.value).startswith("pywalk: cannot fetch kernel sources: no Debian mirror is "
                                      f"configured in {etc}/sources.list(.d)")


def test_debian_version_order():
    ordered = ["5.4.9-1", "5.4.76-1", "5.4.92-1~bpo12+1", "5.4.92-1", "5.4.92-2",
               "5.4.92-10", "1:5.0-1"]
    assert sorted(reversed(ordered), key=debian.version_key) == ordered
    assert debian.compare_versions("1.0~rc1-1", "1.0-1") < 0
    assert debian.compare_versions("1.0a-1", "1.0-1") > 0
    assert debian.compare_versions("1.0-1", "1.0-1") == 0


def test_debian_version_epoch_ends_at_the_first_colon():
    """dpkg: the epoch is what precedes the first colon; the upstream version
    may hold colons of its own (once there is an epoch)."""
    assert debian.compare_versions("1:2:3-1", "1:2:4-1") < 0
    assert debian.compare_versions("1:2:3-1", "1:2:3-1") == 0
    assert debian.compare_versions("2:0.1-1", "1:9:9-1") > 0      # the epoch decides first
    assert debian.compare_versions("1:10:0-1", "1:9:0-1") > 0     # upstream 10:0 after 9:0
    ordered = ["1.0-1", "1:1:0-1", "1:2:0~rc1-1", "1:2:0-1", "2:0-1"]
    assert sorted(reversed(ordered), key=debian.version_key) == ordered
    with pytest.raises(ValueError):
        debian.compare_versions("1:2:3-1", "no version")
