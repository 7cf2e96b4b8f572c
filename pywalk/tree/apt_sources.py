# SPDX-License-Identifier: GPL-2.0-only
"""Which Debian mirrors the machine's apt uses, and which suites carry each kernel series.

Pure parsing, no apt run: the machine's deb822 ``*.sources`` files and one-line
``sources.list`` / ``*.list`` files are read, the Debian archive and security
mirrors among them are picked, and the private source list pywalk's own apt
state uses is written from them plus ``SERIES_SUITES``.
"""

import dataclasses
import pathlib
import re

from debian import deb822

# Where Debian ships linux-source-<series>: the one table to edit when Debian
# moves a series.  Suites ending in -security are served by the security mirror.
SERIES_SUITES = {
    "6.1": ("bookworm", "bookworm-security"),
    "6.12": ("bookworm-security",),
    "7.2": ("trixie-backports", "sid"),
    "7.3": ("trixie-backports", "sid"),
}
COMPONENTS = ("main",)

# Debian's codenames and aliases: a source whose suite is one of these (with
# an optional -updates, -backports, -security ... tail) is a Debian mirror.
DEBIAN_SUITES = frozenset((
    "jessie bullseye buster stretch bookworm trixie forky duke sid experimental rc-buggy "
    "oldoldstable oldstable stable testing unstable").split())

_SKIP_FIELDS = {"types", "uris", "suites", "components", "enabled"}
# one-line option names whose deb822 field is not the title-cased option
_ONE_LINE_FIELDS = {"arch": "Architectures", "lang": "Languages", "target": "Targets"}


@dataclasses.dataclass(frozen=True)
class Source:
    """One (type, URI, suite) a source file enables, with its options (deb822 field -> value)."""

    type: str
    uri: str
    suite: str
    options: tuple[tuple[str, str], ...] = ()


def parse_deb822(text: str) -> list[Source]:
    """The enabled sources of a deb822 ``.sources`` file (python-debian's
    parser: comments skipped, continuation lines joined with newlines)."""
    found = []
    for stanza in deb822.Deb822.iter_paragraphs(text.splitlines(), use_apt_pkg=False):
        if stanza.get("Enabled", "yes").strip().lower() == "no":    # field names: any case
            continue
        options = tuple((k, v) for k, v in stanza.items() if k.lower() not in _SKIP_FIELDS)
        for type_ in stanza.get("Types", "").split():
            for uri in stanza.get("URIs", "").split():
                for suite in stanza.get("Suites", "").split():
                    found.append(Source(type_, uri.rstrip("/"), suite, options))
    return found


def parse_one_line(text: str) -> list[Source]:
    """The sources of a one-line ``sources.list`` style file (comments skipped)."""
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        options: list[tuple[str, str]] = []
        match = re.match(r"(deb|deb-src)\s+\[([^\]]*)\]\s*(.*)", line)
        if match:
            type_, opts, rest = match.groups()
            for opt in opts.split():
                key, _, value = opt.partition("=")
                key = key.rstrip("+-").lower()
                name = _ONE_LINE_FIELDS.get(key, "-".join(p.title() for p in key.split("-")))
                options.append((name, value.replace(",", " ")))
        else:
            type_, _, rest = line.partition(" ")
            if type_ not in ("deb", "deb-src"):
                continue
        words = rest.split()
        if len(words) >= 2:
            found.append(Source(type_, words[0].rstrip("/"), words[1], tuple(options)))
    return found


def read_system_sources(etc_apt: pathlib.Path) -> list[Source]:
    """Every enabled source of the apt configuration in ``etc_apt`` (usually /etc/apt)."""
    files = [etc_apt / "sources.list"]
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    found = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        found += parse_deb822(text) if path.suffix == ".sources" else parse_one_line(text)
    return found


def _is_security(suite: str) -> bool:
    return suite.endswith("-security") or suite.endswith("/updates")


def is_debian(source: Source) -> bool:
    """Whether a source is one of Debian's archives (by its suite's codename)."""
    base = re.split(r"[-/]", source.suite, maxsplit=1)[0]
    return base in DEBIAN_SUITES


@dataclasses.dataclass(frozen=True)
class Mirror:
    uri: str
    options: tuple[tuple[str, str], ...]


def debian_mirrors(sources: list[Source]) -> tuple[list[Mirror], list[Mirror]]:
    """(archive mirrors, security mirrors) among the machine's sources, first seen first.

    With only one kind configured, the other is derived the way Debian lays
    out its mirrors (.../debian and .../debian-security)."""
    archive: dict[str, Mirror] = {}
    security: dict[str, Mirror] = {}
    for s in sources:
        if is_debian(s):
            kind = security if _is_security(s.suite) or s.uri.endswith("-security") else archive
            kind.setdefault(s.uri, Mirror(s.uri, s.options))
    if archive and not security:
        security = {m.uri + "-security": Mirror(m.uri + "-security", m.options)
                    for m in archive.values() if m.uri.endswith("/debian")}
    if security and not archive:
        archive = {m.uri[: -len("-security")]: Mirror(m.uri[: -len("-security")], m.options)
                   for m in security.values() if m.uri.endswith("/debian-security")}
    return list(archive.values()), list(security.values())


def private_sources(archive: list[Mirror], security: list[Mirror]) -> str:
    """The deb822 source list of pywalk's apt state: every suite of SERIES_SUITES on its mirror."""
    suites = list(dict.fromkeys(s for series in SERIES_SUITES.values() for s in series))
    stanzas = []
    for mirrors, wanted in ((archive, [s for s in suites if not _is_security(s)]),
                            (security, [s for s in suites if _is_security(s)])):
        if not wanted:
            continue
        for m in mirrors:
            lines = ["Types: deb", f"URIs: {m.uri}", f"Suites: {' '.join(wanted)}",
                     f"Components: {' '.join(COMPONENTS)}"]
            lines += [f"{k}: {v}" for k, v in m.options]
            stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas)
