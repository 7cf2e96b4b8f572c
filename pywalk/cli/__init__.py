# SPDX-License-Identifier: GPL-2.0-only
"""The ``pywalk`` command line.

Each subcommand lives in its own module and registers itself through a
``register(subparsers)`` function listed in ``COMMANDS``.  Errors are one
line on stderr with the documented exit code (pywalk/errors.py); never a
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import io
import os
import signal
import sys

from pywalk.errors import EXIT_INTERRUPTED, EXIT_USAGE, EXIT_WRITE, PywalkError
from pywalk.report import jsonio

COMMANDS = ("pywalk.cli.source", "pywalk.cli.stress", "pywalk.cli.check", "pywalk.cli.reproduce",
            "pywalk.cli.patches", "pywalk.cli.matrix", "pywalk.cli.bench",
            "pywalk.cli.replay", "pywalk.cli.shrink", "pywalk.cli.explore", "pywalk.cli.regress",
            "pywalk.cli.confirm")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"pywalk: {message} (see {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pywalk", description="Run the real Linux page walker and huge-page "
                "fault path from a kernel tree in userspace; hunt races from many threads.",
                epilog="Exit codes: 0 ok, 1 a finding with --fail-on-finding (or a row/cell "
                "not as expected), 2 usage, 3 fetch failed or a report could not be written, "
                "125 build or patch failed, 130 interrupted (SIGINT, SIGTERM).")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    p.commands = sub.choices
    return p


class _PipeSafe(io.TextIOBase):
    """stdout that survives its reader going away (`pywalk ... | head -1`):
    the rest is dropped, and the command still ends with its own exit code."""

    def __init__(self, inner):
        self._inner = inner

    def write(self, text):
        try:
            return self._inner.write(text)
        except BrokenPipeError:
            self._gone()
            return len(text)

    def flush(self):
        try:
            self._inner.flush()
        except BrokenPipeError:
            self._gone()

    def _gone(self):
        os.dup2(os.open(os.devnull, os.O_WRONLY), self._inner.fileno())

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _terminate(signum, frame):
    raise KeyboardInterrupt     # SIGTERM ends a hunt as Ctrl-C does: what was measured is kept


def main(argv: list[str] | None = None) -> int:
    if not isinstance(sys.stdout, _PipeSafe):
        sys.stdout = _PipeSafe(sys.stdout)
    signal.signal(signal.SIGTERM, _terminate)
    p = parser()
    args, extra = p.parse_known_args(argv)
    if extra:   # said by the subcommand, so that the hint names its --help
        p.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        if isinstance(getattr(args, "json", None), str):
            jsonio.check_writable(args.json)    # before the run, not after it
        code = int(args.func(args) or 0)
    except PywalkError as e:
        sys.stderr.write(f"{e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("pywalk: interrupted\n")
        return EXIT_INTERRUPTED
    failed = jsonio.failed_writes()
    if failed:
        sys.stderr.write("".join(f"{line}\n" for line in failed))
        return EXIT_WRITE
    return code


if __name__ == "__main__":
    sys.exit(main())
