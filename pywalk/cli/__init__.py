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
import os
import sys

from pywalk.errors import EXIT_INTERRUPTED, EXIT_USAGE, PywalkError

COMMANDS = ("pywalk.cli.source", "pywalk.cli.stress", "pywalk.cli.reproduce",
            "pywalk.cli.patches", "pywalk.cli.matrix", "pywalk.cli.bench",
            "pywalk.cli.replay", "pywalk.cli.shrink", "pywalk.cli.explore")


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"pywalk: {message} (see {self.prog} --help)\n")
        sys.exit(EXIT_USAGE)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="pywalk", description="Run the real Linux page walker and huge-page "
                "fault path from a kernel tree in userspace; hunt races from many threads.",
                epilog="Exit codes: 0 ok, 1 a finding with --fail-on-finding (or a row/cell "
                "not as expected), 2 usage, 3 fetch failed, 125 build or patch failed, "
                "130 interrupted.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    p.commands = sub.choices
    return p


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args, extra = p.parse_known_args(argv)
    if extra:   # said by the subcommand, so that the hint names its --help
        p.commands[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args) or 0)
    except PywalkError as e:
        sys.stderr.write(f"{e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("pywalk: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # e.g. `pywalk build | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
