# SPDX-License-Identifier: GPL-2.0-only
"""The README and docs/ cannot rot: every `pywalk ...` command line in their
code blocks parses with pywalk's own parser (no unknown command or flag),
and the README's Python blocks run (the pywalk.Hunt block is run by
tests/test_custom_hunt.py)."""

import os
import pathlib
import re
import shlex

import pytest

from pywalk import cli

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").rglob("*.md"))
# commands another branch adds: checked once they are registered
# what may stand before "pywalk" on a command line
PREFIXES = ("$ ", "python -m ", "git bisect run ")


def code_blocks(text: str) -> list[str]:
    """Fenced blocks (```...```) and indented ones (four spaces after a blank line)."""
    blocks = re.findall(r"^\s*```[^\n]*\n(.*?)^\s*```", text, re.S | re.M)
    unfenced = re.sub(r"^\s*```[^\n]*\n.*?^\s*```", "", text, flags=re.S | re.M)
    blocks += [re.sub(r"^    ", "", m, flags=re.M)
               for m in re.findall(r"(?:^|\n\n)((?:    [^\n]*\n?)+)", unfenced)]
    return blocks


def command_lines(block: str) -> list[str]:
    """The pywalk command lines of a block, continuation lines joined, shell
    comments, pipes and redirections cut off."""
    out, joined = [], block.replace("\\\n", " ")
    for line in (part for l in joined.splitlines() for part in l.split("&&")):
        line = line.strip()
        for prefix in PREFIXES:
            if line.startswith(prefix):
                line = line[len(prefix):]
        if not line.startswith("pywalk "):
            continue                    # output (pywalk: ...), prose, other tools
        words = shlex.split(line, comments=True)
        for stop in ("|", "&&", ">", "2>&1"):
            if stop in words:
                words = words[:words.index(stop)]
        out.append(words[1:])
    return out


def _cases():
    for path in [README] + DOCS:
        for block in code_blocks(path.read_text()):
            for words in command_lines(block):
                yield pytest.param(words, id=f"{path.relative_to(ROOT)}: pywalk {' '.join(words)}")


CASES = list(_cases())


def _inline_cases():
    """`pywalk CMD --flag ...` in the prose: the command and each flag exist."""
    for path in [README] + DOCS:
        text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
        for span in re.findall(r"`([^`]+)`", text.replace("\n", " ")):
            span = re.sub(r"^(git bisect run |python -m )", "", span)
            if re.match(r"pywalk [a-z]+( |$)", span):
                yield pytest.param(span.split()[1:], id=f"{path.relative_to(ROOT)}: {span}")


INLINE = list(_inline_cases())


def test_the_readme_has_commands_to_check():
    readme = [c for c in CASES if c.id.startswith("README.md")]
    assert len(readme) >= 6
    assert {c.values[0][0] for c in readme} >= {"reproduce", "stress", "check", "confirm"}


@pytest.mark.parametrize("words", CASES)
def test_command_line_parses(words):
    parser = cli.parser()
    try:
        args, unknown = parser.parse_known_args(words)
    except SystemExit as e:          # argparse's error (exit 2), or --help (exit 0)
        pytest.fail(f"pywalk {' '.join(words)}: exit {e.code}")
    assert not unknown, f"pywalk {' '.join(words)}: unknown {unknown}"
    assert args.command == words[0]


@pytest.mark.parametrize("words", INLINE)
def test_inline_command_and_flags_exist(words):
    parser = cli.parser()
    assert words[0] in parser.commands, f"no command pywalk {words[0]}"
    known = set(parser.commands[words[0]]._option_string_actions)
    for w in words[1:]:
        if w.startswith("--"):
            flag = w.split("=")[0].rstrip(",.;:)")
            assert flag in known, f"pywalk {words[0]} has no {flag}"


def test_the_parse_check_catches_a_wrong_flag():
    parser = cli.parser()
    _, unknown = parser.parse_known_args(["stress", "--scenario", "walk-vs-refault",
                                          "--no-such-flag"])
    assert unknown == ["--no-such-flag"]
    with pytest.raises(SystemExit):
        parser.parse_known_args(["no-such-command"])


def readme_python_blocks() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    return [b for b in blocks if "pywalk.Hunt(" not in b]


def test_readme_python_blocks_exist():
    assert readme_python_blocks(), "README: the Python API block"


@pytest.mark.parametrize("block", readme_python_blocks(),
                         ids=lambda b: b.strip().splitlines()[-1][:40])
def test_readme_python_block_runs(block, capsys):
    cwd = os.getcwd()
    os.chdir(ROOT)                  # blocks name patches/ relative to the checkout
    try:
        exec(compile(block, str(README), "exec"), {"__name__": "readme"})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    # a print whose comment is a Python literal: the README says what it prints
    said = re.findall(r"^\s*print\(.*?#\s*([(\[{'].*)$", block, re.M)
    assert said, "a README Python block says what it prints"
    for literal in said:
        assert literal.strip() in out, f"README says {literal.strip()}, the block printed {out!r}"


# files another branch adds (none pending now)
PENDING_FILES: set[str] = set()


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, blanks to -."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_links_point_at_files_and_headings_that_exist():
    broken = []
    for path in [README] + DOCS:
        text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            rel = dest.relative_to(ROOT).as_posix() if dest.is_relative_to(ROOT) else str(dest)
            if rel in PENDING_FILES and not dest.exists():
                continue
            if not dest.exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md":
                heads = {_anchor(h) for h in re.findall(r"^#+ (.*)$", dest.read_text(), re.M)}
                if anchor not in heads:
                    broken.append(f"{path.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken
