# SPDX-License-Identifier: GPL-2.0-only
"""Reading the machine's apt sources (deb822 and one-line) and writing pywalk's own:
pure parsing of sample files, no apt run."""

import shutil
import subprocess

import pytest

from pywalk.tree import apt_sources
from pywalk.tree.apt_sources import Mirror, Source

KEY = "/usr/share/keyrings/debian-archive-keyring.gpg"

DEB822 = f"""\
Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: {KEY}

Types: deb
URIs: http://deb.debian.org/debian-security/
Suites: bookworm-security
Components: main
Signed-By: {KEY}

Enabled: no
Types: deb deb-src
URIs: http://mirror.invalid/debian
Suites: sid
Components: main

Types: deb
URIs: https://deb.nodesource.com/node_20.x
Suites: nodistro
Components: main
Architectures: amd64
Signed-By: /usr/share/keyrings/nodesource.gpg
"""

ONE_LINE = f"""\
# the machine's mirrors
deb [arch=amd64,i386 signed-by={KEY}] http://ftp.de.debian.org/debian/ bookworm main contrib
deb-src http://ftp.de.debian.org/debian bookworm main
#deb http://commented.invalid/debian sid main
deb http://security.debian.org/debian-security bookworm-security main  # trailing comment
deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main
deb http://archive.ubuntu.com/ubuntu noble main
"""


def test_deb822():
    got = apt_sources.parse_deb822(DEB822)
    assert [(s.type, s.uri, s.suite) for s in got] == [
        ("deb", "http://deb.debian.org/debian", "bookworm"),
        ("deb", "http://deb.debian.org/debian", "bookworm-updates"),
        ("deb", "http://deb.debian.org/debian-security", "bookworm-security"),
        ("deb", "https://deb.nodesource.com/node_20.x", "nodistro")]
    assert got[0].options == (("Signed-By", KEY),)
    assert got[3].options == (("Architectures", "amd64"), ("Signed-By", "/usr/share/keyrings/nodesource.gpg"))


def test_deb822_inline_key_and_enabled_yes():
    text = ("Types: deb\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\n"
            "Enabled: yes\nSigned-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBGPL\n"
            " -----END PGP PUBLIC KEY BLOCK-----\n")
    [source] = apt_sources.parse_deb822(text)
    assert source.suite == "trixie"
    assert source.options == (("Signed-By", "\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n"
                                             " mQINBGPL\n -----END PGP PUBLIC KEY BLOCK-----"),)


def test_one_line():
    got = apt_sources.parse_one_line(ONE_LINE)
    assert [(s.type, s.uri, s.suite) for s in got] == [
        ("deb", "http://ftp.de.debian.org/debian", "bookworm"),
        ("deb-src", "http://ftp.de.debian.org/debian", "bookworm"),
        ("deb", "http://security.debian.org/debian-security", "bookworm-security"),
        ("deb", "https://packages.cloud.google.com/apt", "cloud-sdk-bookworm"),
        ("deb", "http://archive.ubuntu.com/ubuntu", "noble")]
    assert got[0].options == (("Architectures", "amd64 i386"), ("Signed-By", KEY))


def test_read_system_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text(ONE_LINE)
    (tmp_path / "sources.list.d/debian.sources").write_text(DEB822)
    (tmp_path / "sources.list.d/extra.list").write_text("deb http://x.invalid/debian trixie main\n")
    (tmp_path / "sources.list.d/old.list.disabled-by-farm").write_text(
        "deb http://disabled.invalid/debian sid main\n")
    got = apt_sources.read_system_sources(tmp_path)
    assert len(got) == 5 + 4 + 1
    assert not [s for s in got if "invalid" in s.uri and s.uri != "http://x.invalid/debian"]
    assert apt_sources.read_system_sources(tmp_path / "nothing") == []


def test_debian_mirrors_from_both_formats():
    archive, security = apt_sources.debian_mirrors(
        apt_sources.parse_deb822(DEB822) + apt_sources.parse_one_line(ONE_LINE))
    assert [m.uri for m in archive] == ["http://deb.debian.org/debian", "http://ftp.de.debian.org/debian"]
    assert [m.uri for m in security] == ["http://deb.debian.org/debian-security",
                                         "http://security.debian.org/debian-security"]
    assert archive[0].options == (("Signed-By", KEY),)


def test_debian_mirrors_derives_the_missing_kind():
    only_archive = [Source("deb", "http://deb.debian.org/debian", "trixie")]
    assert apt_sources.debian_mirrors(only_archive) == (
        [Mirror("http://deb.debian.org/debian", ())], [Mirror("http://deb.debian.org/debian-security", ())])
    only_security = [Source("deb", "http://deb.debian.org/debian-security", "trixie-security")]
    assert apt_sources.debian_mirrors(only_security)[0] == [Mirror("http://deb.debian.org/debian", ())]


def test_no_debian_mirror():
    assert apt_sources.debian_mirrors(apt_sources.parse_one_line(
        "deb http://archive.ubuntu.com/ubuntu noble main\n"
        "deb https://packages.cloud.google.com/apt cloud-sdk-bookworm main\n")) == ([], [])


def test_private_sources_puts_each_suite_on_its_mirror(monkeypatch):
    monkeypatch.setattr(apt_sources, "SERIES_SUITES", {
        "6.9": ("bookworm", "bookworm-security"), "8.1": ("trixie-backports", "sid")})
    text = apt_sources.private_sources([Mirror("http://a/debian", (("Signed-By", KEY),))],
                                       [Mirror("http://a/debian-security", (("Trusted", "yes"),))])
    assert text == (
        "Types: deb\nURIs: http://a/debian\nSuites: bookworm trixie-backports sid\n"
        f"Components: main\nSigned-By: {KEY}\n\n"
        "Types: deb\nURIs: http://a/debian-security\nSuites: bookworm-security\n"
        "Components: main\nTrusted: yes\n")


def test_series_suites_data():
    """Every suite is a Debian one; security suites go to the security mirror."""
    for series, suites in apt_sources.SERIES_SUITES.items():
        assert suites and all(apt_sources.is_debian(Source("deb", "u", s)) for s in suites), series


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt")
def test_apt_reads_the_private_sources_with_an_inline_key(tmp_path):
    """apt itself accepts what private_sources writes, inline keys included."""
    [source] = apt_sources.parse_deb822(
        "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: sid\nComponents: main\n"
        "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBGPL\n"
        " -----END PGP PUBLIC KEY BLOCK-----\n")
    archive, security = apt_sources.debian_mirrors([source])
    parts = tmp_path / "sources.list.d"
    parts.mkdir()
    (parts / "pywalk.sources").write_text(apt_sources.private_sources(archive, security))
    proc = subprocess.run(
        ["apt-get", "-o", f"Dir::Etc::sourcelist={tmp_path}/none", "-o",
         f"Dir::Etc::sourceparts={parts}", "-o", f"Dir::State::Lists={tmp_path}/lists",
         "-o", "Dir::State::status=/dev/null", "-o", f"Dir::Cache={tmp_path}/cache",
         "--print-uris", "-q", "update"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "'http://deb.debian.org/debian/dists/sid/InRelease'" in proc.stdout
    assert "'http://deb.debian.org/debian-security/dists/bookworm-security/InRelease'" in proc.stdout


POLICY = """\
linux-source-6.9:
  Installed: 6.9.3-1
  Candidate: 6.9.5-1
  Version table:
     6.9.5-1 500
        500 http://a/debian-security bookworm-security/main amd64 Packages
        500 http://b/debian-security bookworm-security/main amd64 Packages
 *** 6.9.3-1 500
        500 http://a/debian bookworm/main amd64 Packages
        100 /var/lib/dpkg/status
linux-source-6.9-extra:
  Installed: (none)
  Candidate: 1.0
  Version table:
     1.0 500
        500 http://a/debian bookworm/main amd64 Packages
linux-source-8.1:
  Installed: (none)
  Candidate: 8.1.6-1
  Version table:
     8.1.6-1 500
        500 http://a/debian sid/main amd64 Packages
     8.1.4-1~bpo13+1 100
        100 http://a/debian trixie-backports/main amd64 Packages
"""


def test_apt_cache_policy_output(monkeypatch):
    from pywalk.tree import apt_state

    monkeypatch.setattr(apt_state, "_run", lambda argv, **kw: subprocess.CompletedProcess(
        argv, 0, POLICY, ""))
    assert apt_state._policy([]) == {
        "linux-source-6.9": [
            {"version": "6.9.5-1", "uri": "http://a/debian-security", "suite": "bookworm-security"},
            {"version": "6.9.3-1", "uri": "http://a/debian", "suite": "bookworm"}],
        "linux-source-8.1": [
            {"version": "8.1.6-1", "uri": "http://a/debian", "suite": "sid"},
            {"version": "8.1.4-1~bpo13+1", "uri": "http://a/debian", "suite": "trixie-backports"}]}
