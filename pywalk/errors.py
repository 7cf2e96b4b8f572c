# SPDX-License-Identifier: GPL-2.0-only
"""Errors that the CLI turns into one line on stderr and a documented exit code.

Exit codes (see README "Exit codes"):
  0   success / no finding
  1   a finding, with --fail-on-finding (as `git bisect run` expects "bad")
  2   usage error, bad input (path missing, not a kernel tree, ...)
  3   the kernel source could not be obtained (no apt, download failed), or a
      report could not be written after the run (its table is still printed)
  125 the variant could not be built or a patch did not apply (bisect "skip")
  130 interrupted (Ctrl-C); what was measured is still reported
"""

EXIT_OK = 0
EXIT_FINDING = 1
EXIT_USAGE = 2
EXIT_SOURCE = 3
EXIT_WRITE = 3
EXIT_BUILD = 125
EXIT_INTERRUPTED = 130


class PywalkError(Exception):
    """An error with a one-line message meant for the user."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(PywalkError):
    exit_code = EXIT_USAGE


class SourceError(PywalkError):
    """Kernel source missing, unreadable, or not a kernel tree."""

    exit_code = EXIT_USAGE


class FetchError(PywalkError):
    """The default kernel package could not be fetched."""

    exit_code = EXIT_SOURCE


class BuildError(PywalkError):
    """The variant could not be built (slicer, compiler, missing shim symbols)."""

    exit_code = EXIT_BUILD


class PatchError(BuildError):
    """A patch did not apply."""

    exit_code = EXIT_BUILD
