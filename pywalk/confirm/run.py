# SPDX-License-Identifier: GPL-2.0-only
"""One confirmation: generate and build the reproducer, get the image, build
the initramfs, boot, judge.  Errors are one line: bad input (UsageError,
exit 2), qemu or a package that cannot be had (FetchError, exit 3), the
reproducer not building (BuildError, 125)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field

from pywalk.confirm import guest, images, initramfs, reproducer
from pywalk.confirm.finding import Finding
from pywalk.confirm.verdict import Verdict
from pywalk.errors import BuildError, FetchError, UsageError
from pywalk.tree import cache

CFLAGS = ["-O2", "-static", "-pthread"]


@dataclass
class Confirmation:
    finding: Finding
    seconds: float
    image: images.Image
    source: str                         # the reproducer's C source
    argv: list[str]                     # the qemu command line
    verdict: Verdict
    console: guest.Console
    tools: dict = field(default_factory=dict)   # host tool -> Debian package version

    @property
    def cmdline(self) -> str:
        return self.argv[self.argv.index("-append") + 1]

    def as_json(self) -> dict:
        return {"confirmed": self.verdict.confirmed, "note": None if self.verdict.confirmed
                else "not seen under qemu's TCG, whose timing is not hardware timing: weaker "
                     "evidence than a confirmation",
                "finding": self.finding.as_json(),
                "seconds": self.seconds, "image": self.image.as_json(),
                "kernel_cmdline": self.cmdline, "qemu": guest.shell(self.argv),
                "packages": self.packages(), "verdict": self.verdict.as_json(),
                "killed": self.console.killed, "wall_s": round(self.console.wall_s, 2),
                "console_boot": self.boot_console(),
                "reproducer": self.source}

    def boot_console(self, cap: int = 2000) -> list[str]:
        """The console up to the reproducer's start, each line with qemu's elapsed time."""
        out = []
        for wall, text in self.console.lines[:cap]:
            out.append(f"{wall:7.2f} {text}")
            if text.startswith("pywalk-repro: start"):
                break
        return out

    def packages(self) -> list[dict]:
        out = []
        if self.image.package:
            out.append({"package": self.image.package, "version": self.image.version,
                        "sha256": self.image.sha256})
        else:
            out.append({"image": str(self.image.kernel), "sha256": self.image.sha256})
        out += [{"package": p, "version": v.get("version"), "sha256": v.get("sha256")}
                for p, v in self.tools.items()]
        return out


def _compile(source: str, work: pathlib.Path) -> pathlib.Path:
    (work / "repro.c").write_text(source)
    proc = subprocess.run(["gcc", *CFLAGS, "-o", str(work / "repro"), str(work / "repro.c")],
                          capture_output=True, text=True, errors="replace")
    if proc.returncode != 0:
        lines = [x for x in proc.stderr.splitlines() if "error" in x] or proc.stderr.splitlines()
        raise BuildError(f"pywalk: the reproducer does not build (gcc {' '.join(CFLAGS)}): "
                         f"{lines[0] if lines else 'no output'}; static libc: apt-get install "
                         "libc6-dev")
    return work / "repro"


def tool_packages() -> dict:
    """Debian package -> {version, sha256 of its .deb if the apt cache holds it}, of the
    host tools the guest uses (dpkg's view; empty where dpkg does not know it)."""
    out = {}
    for pkg in dict.fromkeys(initramfs.TOOLS.values()):
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                              text=True) if shutil.which("dpkg-query") else None
        version = proc.stdout.strip() if proc and proc.returncode == 0 else None
        deb = next(iter(sorted(pathlib.Path("/var/cache/apt/archives").glob(f"{pkg}_*.deb"))),
                   None)
        out[pkg] = {"version": version, "sha256": cache.sha256(deb) if deb else None}
    return out


def get_image(finding: Finding, image_path: str | None, progress) -> images.Image:
    if image_path:
        return images.user_image(image_path)
    if finding.user_tree:
        raise UsageError(f"pywalk: {finding.kernel} is a kernel tree of your own: there is no "
                         "Debian image of it; pass --image DIR with its bzImage and modules")
    from pywalk.tree import sources
    tree = sources.resolve(finding.kernel, progress=progress)
    if not tree.package_version:
        raise UsageError(f"pywalk: {finding.kernel}: the tree records no Debian package "
                         "version; pass --image DIR with a bzImage and its modules")
    return images.debian_image(tree.package_version, progress)


def write_kept(keep: str, finding: Finding, source: str, argv: list[str],
               seconds: float, kernel: str | None = None) -> list[pathlib.Path]:
    """--keep DIR: the reproducer's single C file and its run script."""
    d = pathlib.Path(keep)
    argv = list(argv)
    argv[argv.index("-initrd") + 1] = "initrd.cpio"     # ours is gone after the run
    try:
        d.mkdir(parents=True, exist_ok=True)
        (d / "repro.c").write_text(source)
        script = d / "run.sh"
        script.write_text(reproducer.run_script(finding, guest.shell(argv), seconds, kernel))
        script.chmod(0o755)
    except OSError as e:
        raise UsageError(f"pywalk: --keep {keep}: {e.strerror}") from None
    return [d / "repro.c", script]


def confirm(finding: Finding, *, seconds: float, image_path: str | None = None,
            keep: str | None = None, zap_mode: str = "mixed", progress=print,
            phase=lambda name, detail="": None) -> Confirmation:
    """Boot the finding's real kernel and run its reproducer (see the module docstring).

    ``progress`` takes one-line notes; ``phase(name, detail)`` the phases and,
    while running, the console's progress."""
    source = reproducer.generate(finding, zap_mode)     # a refused role: before any work
    initramfs.require_tools()
    phase("getting the kernel image", "downloading it unless cached")
    image = get_image(finding, image_path, progress)
    kernel = f"{image.package} {image.version}" if image.package else image.origin
    source = reproducer.generate(finding, zap_mode, kernel)
    with tempfile.TemporaryDirectory(prefix="pywalk-confirm-") as tmp:
        work = pathlib.Path(tmp)
        phase("building the initramfs")
        binary = _compile(source, work)
        try:
            data = initramfs.build(image.modules, binary, align=finding.align,
                                   seconds=seconds, seed=finding.seed)
        except (OSError, subprocess.SubprocessError) as e:
            raise FetchError(f"pywalk: cannot build the initramfs: {e}") from None
        (work / "initrd").write_bytes(data)
        argv = guest.command(image.kernel, work / "initrd")
        if keep:
            write_kept(keep, finding, source, argv, seconds, kernel)
        verdict = Verdict()
        phase("booting", image.origin)

        def on_line(wall: float, text: str) -> None:
            was = verdict.started
            verdict.feed(wall, text)
            if verdict.started and (not was or "pywalk-repro: t=" in text
                                    or verdict.lines in (1, 10, 100, 1000, 10000)):
                run_s = wall - (verdict.boot_s or 0.0)
                phase("running", f"{run_s:.0f} s of {seconds:g} s, {verdict.lines} message "
                      f"line(s), {verdict.bursts} burst(s)")

        console = guest.run(argv, seconds, on_line)
    if not verdict.started:
        why = (verdict.guest_errors or [f"last console line: {console.lines[-1][1]!r}"
                                         if console.lines else "no console output"])[-1]
        raise FetchError(f"pywalk: the guest did not start the reproducer"
                         f"{' (killed after %.0f s)' % console.wall_s if console.killed else ''}"
                         f": {why}")
    return Confirmation(finding=finding, seconds=seconds, image=image, source=source,
                        argv=argv, verdict=verdict, console=console, tools=tool_packages())
