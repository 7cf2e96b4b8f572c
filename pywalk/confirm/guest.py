# SPDX-License-Identifier: GPL-2.0-only
"""qemu under TCG (no KVM is assumed): boot the image with legacy pmem
(``memmap=8G!4G``: 8 GiB of guest RAM at 4 GiB becomes namespace0.0) and
read the serial console line by line until the guest powers off.

Every run ends: qemu is killed at boot_s + seconds + CHECK_S after its
start.  ``-no-reboot`` with ``panic=-1`` turns a kernel panic into qemu's
exit.
"""

from __future__ import annotations

import os
import pathlib
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass, field

QEMU = "qemu-system-x86_64"
MEMORY = "14G"                      # RAM up to 15 GiB: the pmem range 4..12 GiB lies inside
CPUS = 2
CMDLINE = "console=ttyS0 memmap=8G!4G panic=-1"
BOOT_S = 120.0                      # time allowed to reach the reproducer (measured: 5.5-9.4 s)
CHECK_S = 60.0                      # after the run: join, the data check, power-off


def command(kernel: pathlib.Path, initrd: pathlib.Path, cmdline: str = CMDLINE) -> list[str]:
    return [QEMU, "-machine", "pc", "-accel", "tcg,thread=multi", "-cpu", "max,la57=off",
            "-m", MEMORY, "-smp", str(CPUS), "-nographic", "-no-reboot",
            "-kernel", str(kernel), "-initrd", str(initrd), "-append", cmdline]


def shell(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


@dataclass
class Console:
    lines: list[tuple[float, str]] = field(default_factory=list)   # (host seconds, text)
    returncode: int | None = None
    killed: bool = False
    wall_s: float = 0.0


def run(argv: list[str], seconds: float, on_line=None, boot_s: float = BOOT_S) -> Console:
    """Run qemu; every console line (host time since start, text) to ``on_line``.

    KeyboardInterrupt kills qemu and propagates."""
    out = Console()
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    limit = boot_s + seconds + CHECK_S
    timer = threading.Timer(limit, _kill, (proc, out))
    timer.daemon = True
    timer.start()
    try:
        for raw in proc.stdout:
            text = raw.decode(errors="replace").rstrip("\r\n").replace("\r", "")
            now = time.monotonic() - t0
            out.lines.append((now, text))
            if on_line is not None:
                on_line(now, text)
        out.returncode = proc.wait()
    finally:
        timer.cancel()
        if proc.poll() is None:
            _kill(proc, out)
            proc.wait()
        proc.stdout.close()
        out.wall_s = time.monotonic() - t0
    return out


def _kill(proc: subprocess.Popen, out: Console) -> None:
    if proc.poll() is None:
        out.killed = True
        try:
            os.killpg(proc.pid, 9)      # qemu's own session (start_new_session)
        except ProcessLookupError:
            pass
