# SPDX-License-Identifier: GPL-2.0-only
"""Replaying a scheduled finding: what a report must carry, and the rerun.

A report of a scheduled hunt carries under ``replay`` how to rebuild the
variant (the --kernel and --patch arguments, the kernel version, the sha256
of every tree file used and of every patch) and under ``schedule`` the
thread plan, the run's seed and the switches.  Replaying runs the same
threads on the same seed with the scheduler switching exactly where the
report says; on the same variant that is the same interleaving, so the same
finding at the same step.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pywalk.errors import UsageError
from pywalk.hunt import schedule
from pywalk.variant import runtime


def provenance(variant: runtime.Variant, kernel_arg, patch_args, fuzz=None) -> dict:
    r = variant.result
    return {"kernel_arg": str(kernel_arg), "kernel_version": r.kernel.version,
            "kernel_origin": r.kernel.origin, "package_version": r.kernel.package_version,
            "kernel_git": getattr(variant, "kernel_git", None), "fuzz": fuzz,
            "instrumented": bool(getattr(r, "instrumented", False)),
            "variant": r.variant_id,
            "patch_args": [os.path.abspath(p) for p in patch_args],
            "patches": [{"name": p.name, "sha256": p.sha256} for p in r.patches],
            "sources": {s.path: s.sha256 for s in r.sources}}


def check_report(report: dict) -> None:
    if not isinstance(report, dict):
        raise UsageError("pywalk: the report is not a JSON object")
    for key in ("schedule", "replay", "scenario"):
        if key not in report:
            raise UsageError(f"pywalk: the report has no {key!r}: it is not from "
                             "`pywalk stress --schedule ...`, `shrink` or `explore`")
    s = report["schedule"]
    missing = [k for k in ("threads", "ops", "run_seed", "sites", "switches")
               if not isinstance(s, dict) or k not in s]
    missing += [k for k in ("kernel_arg", "patch_args", "sources") if k not in report["replay"]]
    if missing:
        raise UsageError(f"pywalk: the report lacks {', '.join(missing)}")
    try:
        schedule.Spec.from_json(report["scenario"], s)
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"pywalk: the report's schedule is malformed ({e})") from None
    if report["scenario"] not in schedule.stress.SCENARIOS:
        raise UsageError(f"pywalk: unknown scenario {report['scenario']!r} in the report")


def build_for(report: dict, extra_patches=(), fuzz=None, *,
              replace: bool = False) -> tuple[runtime.Variant, list[str]]:
    """The report's variant plus extra patches (replace: the report's kernel
    with extra_patches instead of its patches, none: the tree as shipped);
    notes on what differs."""
    rp = report["replay"]
    mine = [] if replace else list(rp["patch_args"])
    for p in mine:
        if not os.path.exists(p):
            raise UsageError(f"pywalk: the report's patch {p} is gone")
    fuzz = fuzz if fuzz is not None else rp.get("fuzz")
    extra = {"instrumented": True} if rp.get("instrumented") else {}   # instrumented builds
    variant = runtime.build(rp["kernel_arg"], [*mine, *extra_patches], fuzz=fuzz, **extra)
    now = provenance(variant, rp["kernel_arg"], mine, fuzz)
    notes = list(variant.result.notes)
    if now["kernel_version"] != rp["kernel_version"]:
        notes.append(f"kernel {now['kernel_version']}, the report's was {rp['kernel_version']}")
    old_p = [p["sha256"] for p in rp["patches"]]
    if replace:
        names = ", ".join(p["name"] for p in rp["patches"]) or "none"
        notes.append(f"the report's patches ({names}) replaced by "
                     + (", ".join(p["name"] for p in now["patches"]) or "none: the tree as shipped"))
    elif [p["sha256"] for p in now["patches"][:len(old_p)]] != old_p:
        notes.append("the report's patches changed since")
    if not extra_patches and not (replace and old_p):
        diff = sorted(k for k in set(rp["sources"]) | set(now["sources"])
                      if rp["sources"].get(k) != now["sources"].get(k))
        if diff:
            notes.append(f"tree files differ from the report's: {', '.join(diff)}")
    return variant, notes


@dataclass
class ReplayResult:
    outcome: schedule.Outcome
    expected_signature: str | None
    expected_step: int | None

    @property
    def same(self) -> bool:
        o = self.outcome
        return (o.finding is not None and o.finding.signature == self.expected_signature
                and o.finding_step == self.expected_step)


def replay(variant: runtime.Variant, report: dict, *, trace_cap: int = 0) -> ReplayResult:
    spec = schedule.Spec.from_json(report["scenario"], report["schedule"])
    out = schedule.run_once(variant, spec, trace_cap=trace_cap,
                            hunt_seed=report["schedule"].get("seed"))
    findings = report.get("findings") or []
    sig = findings[0]["signature"] if findings else None
    return ReplayResult(out, sig, report["schedule"].get("steps") if findings else None)
