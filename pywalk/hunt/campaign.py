# SPDX-License-Identifier: GPL-2.0-only
"""A campaign: one hunt per seed of a range, findings deduplicated by signature.

Each seed's hunt is its own process, ``python -m pywalk stress ... --seed S
--json FILE`` with the campaign's hunt flags (the same budget for every
seed), so a hunt that dies, hangs or is cut short by Ctrl-C costs that seed
only, and a worker of ``pytest -n`` or a remote host runs the very same
command (pywalk/campaign/).  ``jobs`` such processes run at a time.

Two findings are the same finding when pywalk.hunt.compare.key() says so
(kind, innermost frames, message without its numbers); a known race is
named by compare.name().  The first seed (in seed order) that found a
signature is its replayable report: its own hunt's JSON, whose seed and
flags rerun it (and, for ``--schedule`` hunts, ``pywalk replay`` replays).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import json
from dataclasses import dataclass, field

from pywalk.hunt import compare, stress

SEED_MAX = (1 << 64) - 1
# a seed's process ended without a report (killed, or a crash the harness did not catch)
DIED = "DIED"


def parse_seeds(text: str) -> range:
    """'A-B' (inclusive) or 'N'; ValueError with a one-line reason otherwise."""
    lo, sep, hi = str(text).strip().partition("-")
    try:
        a = int(lo, 10)
        b = int(hi, 10) if sep else a
    except ValueError:
        raise ValueError(f"{text!r} is not a seed range (A-B, e.g. 1-200, or one seed)") from None
    if a < 0 or b > SEED_MAX:
        raise ValueError(f"{text!r}: seeds are 0..{SEED_MAX}")
    if b < a:
        raise ValueError(f"{text!r} is an empty range (the first seed is after the last)")
    return range(a, b + 1)


def finding_from_json(d: dict) -> stress.Finding:
    """A finding as a hunt's report stores it (what compare.key()/name() read)."""
    f = stress.Finding(d["kind"], d.get("address") or 0, list(d.get("backtrace") or []),
                       d.get("message", ""), d.get("where"), d.get("thread", -1),
                       d.get("role", "?"), d.get("elapsed_s") or 0.0, d.get("ops") or 0,
                       d.get("scenario", ""), d.get("variant", ""), d.get("seed", 0),
                       d.get("thread_name"), list(d.get("racing") or []),
                       d.get("pmd_alloc_recheck"))
    return f


@dataclass
class SeedRun:
    """One seed's hunt: its report (None if the process left none) and exit code."""

    seed: int
    rc: int
    report: dict | None
    stderr: str = ""
    command: list[str] = field(default_factory=list)
    stopped: bool = False       # the campaign's Ctrl-C stopped it (maybe before it began)

    @property
    def interrupted(self) -> bool:
        return (self.rc == 130 or (self.stopped and self.rc == -signal.SIGTERM)
                or bool(self.report and self.report.get("interrupted")))

    @property
    def usage_error(self) -> bool:
        """The hunt did not run at all (bad flags, no build): every seed would say so."""
        return self.report is None and self.rc in (2, 3, 125)

    def findings(self, data_races: bool = False) -> list[dict]:
        if self.report is None:
            if self.interrupted or self.usage_error:
                return []
            last = (self.stderr.strip().splitlines() or ["no output"])[-1]
            why = (f"killed by signal {-self.rc}" if self.rc < 0 else f"exit code {self.rc}")
            return [{"kind": DIED, "signature": f"{DIED} {why}", "backtrace": [],
                     "message": f"the hunt process died ({why}) without a report: {last}",
                     "ops": None, "elapsed_s": None, "seed": self.seed}]
        return list(self.report.get("findings") or []) + \
            (list(self.report.get("data_races") or []) if data_races else [])

    def summary(self, data_races: bool = False) -> dict:
        r = self.report or {}
        fs = self.findings(data_races)
        return {"seed": self.seed, "exit_code": self.rc, "ops": r.get("ops"),
                "elapsed_s": r.get("elapsed_s"), "interrupted": self.interrupted,
                "findings": len(fs), "first_finding_ops": r.get("first_finding_ops"),
                "first_finding_s": r.get("first_finding_s"),
                "signatures": sorted({f["signature"] for f in fs})}


def identity(d: dict) -> tuple[tuple[str, str], str]:
    """(compare.key(), compare.name()) of a finding from a report."""
    if d["kind"] == DIED:
        return (d["signature"], ""), d["signature"]
    f = finding_from_json(d)
    return compare.key(f), compare.name(f)


@dataclass
class Signature:
    """One distinct finding of a campaign, and every seed that found it."""

    key: tuple[str, str]
    name: str                   # a known race's name, or kind and innermost frames
    first: dict                 # the first seed's first such finding
    first_seed: int
    seeds: list[int] = field(default_factory=list)
    count: int = 0              # findings over all seeds
    report: str | None = None   # where the first seed's report was kept

    def as_json(self) -> dict:
        return {"signature": self.key[0], "message": self.key[1], "name": self.name,
                "seeds": self.seeds, "seed_count": len(self.seeds), "findings": self.count,
                "first_seed": self.first_seed, "first_ops": self.first.get("ops"),
                "first_elapsed_s": self.first.get("elapsed_s"), "report": self.report,
                "first": self.first}


def dedupe(runs: list[SeedRun], data_races: bool = False) -> list[Signature]:
    """The campaign's distinct findings, in the order of the seed that found each first."""
    sigs: dict[tuple[str, str], Signature] = {}
    for run in sorted(runs, key=lambda r: r.seed):
        for d in run.findings(data_races):
            k, name = identity(d)
            s = sigs.get(k)
            if s is None:
                s = sigs[k] = Signature(k, name, d, run.seed)
            if not s.seeds or s.seeds[-1] != run.seed:
                s.seeds.append(run.seed)
            s.count += 1
    return list(sigs.values())


def stress_command(hunt_args: list[str], seed: int, json_path: str) -> list[str]:
    return [sys.executable, "-m", "pywalk", "stress", *hunt_args, "--seed", str(seed),
            "--json", str(json_path), "--quiet"]


def _env() -> dict:
    """The children import this very pywalk (a checkout or the installed one)."""
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # .../pywalk
    root = os.path.dirname(here)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return env


def run_seed(hunt_args: list[str], seed: int, json_path: str, *, started=None) -> SeedRun:
    """One hunt in its own process.  started(proc) is called with the child
    (to forward Ctrl-C to it)."""
    cmd = stress_command(hunt_args, seed, json_path)
    try:
        os.unlink(json_path)
    except FileNotFoundError:
        pass
    # its own session: a terminal's Ctrl-C reaches the campaign, which stops
    # each hunt once, by SIGTERM (a hunt ends on it as on Ctrl-C, and an
    # ignored SIGINT, as in a background job, is inherited; SIGTERM is not)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, env=_env(), text=True,
                            start_new_session=True)
    if started is not None:
        started(proc)
    try:
        _, err = proc.communicate()
    except KeyboardInterrupt:       # (pytest's Ctrl-C): stop the hunt, keep nothing
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        raise
    report = None
    try:
        with open(json_path) as f:
            report = json.load(f)
    except (OSError, ValueError):
        pass
    shown = [c for c in cmd[1:] if c not in ("--json", str(json_path), "--quiet")]
    return SeedRun(seed, proc.returncode, report, err or "", ["python", *shown])


@dataclass
class CampaignResult:
    seeds: range
    jobs: int
    hunt_args: list[str]
    runs: list[SeedRun] = field(default_factory=list)
    interrupted: bool = False
    stopped: SeedRun | None = None      # a seed whose hunt could not run at all

    def signatures(self, data_races: bool = False) -> list[Signature]:
        return dedupe(self.runs, data_races)

    def as_json(self, sigs: list[Signature], data_races: bool = False) -> dict:
        done = sorted(self.runs, key=lambda r: r.seed)
        return {"campaign": {"seeds": f"{self.seeds.start}-{self.seeds.stop - 1}",
                             "jobs": self.jobs, "hunt_args": self.hunt_args,
                             "seeds_run": sum(not r.interrupted for r in done),
                             "seeds_with_findings": sum(bool(r.findings(data_races))
                                                        for r in done),
                             "interrupted": self.interrupted},
                "signatures": [s.as_json() for s in sigs],
                "per_seed": [r.summary(data_races) for r in done]}


def run(hunt_args: list[str], seeds: range, jobs: int = 1, *, workdir: str | None = None,
        on_done=None) -> CampaignResult:
    """Every seed's hunt, jobs at a time.  Ctrl-C (KeyboardInterrupt in the
    calling thread) is forwarded to the running hunts, which keep what they
    measured; no seed starts after it.  on_done(run) after each seed."""
    result = CampaignResult(seeds, max(1, jobs), list(hunt_args))
    lock = threading.Lock()
    todo = iter(seeds)
    live: set = set()
    stop = threading.Event()
    tmp = tempfile.mkdtemp(prefix="pywalk-campaign-", dir=workdir)

    def started(proc):
        with lock:
            live.add(proc)
            if stop.is_set():       # interrupted while it started
                proc.send_signal(signal.SIGTERM)

    def worker():
        try:
            _work()
        finally:
            with lock:
                running[0] -= 1
                if not running[0]:
                    finished.set()

    def _work():
        while not stop.is_set():
            with lock:
                seed = next(todo, None)
            if seed is None:
                return
            r = run_seed(hunt_args, seed, os.path.join(tmp, f"seed-{seed}.json"),
                         started=started)
            with lock:
                live.difference_update(p for p in list(live) if p.poll() is not None)
                r.stopped = result.interrupted
                result.runs.append(r)
                if r.usage_error and result.stopped is None:
                    result.stopped = r
                    stop.set()
            if on_done is not None:
                on_done(r)

    threads = [threading.Thread(target=worker, name=f"pywalk-campaign-{i}", daemon=True)
               for i in range(min(result.jobs, len(seeds)))]
    running, finished = [len(threads)], threading.Event()
    for t in threads:
        t.start()
    try:
        # (not Thread.join(): a join cut by Ctrl-C may take a live thread for ended)
        while not finished.is_set():
            try:
                finished.wait(0.2)
            except KeyboardInterrupt:   # (again: the hunts are stopping already)
                result.interrupted = True
                stop.set()
                with lock:
                    for p in live:
                        if p.poll() is None:
                            p.send_signal(signal.SIGTERM)
    finally:
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)
    return result


def finding_text(run: SeedRun, data_races: bool = False) -> str:
    """What a seed found, as a failing test says it: each finding, its frames
    and its racing side, and the command that reruns the seed."""
    lines = []
    seen = set()
    for d in run.findings(data_races):
        k, name = identity(d)
        if k in seen:
            continue
        seen.add(k)
        where = f" after {d['ops']:,} ops" if d.get("ops") is not None else ""
        lines.append(f"seed {run.seed}: {d['kind']}: {d.get('message', '')}"
                     + (f" [{name}]" if name and name != d["signature"] else "")
                     + f" (thread {d.get('thread', '?')}, {d.get('role', '?')}){where}")
        lines += [f"    {b}" for b in (d.get("backtrace") or [])[:12]]
        racing = d.get("racing") or []
        if len(racing) > 2:
            lines.append(f"  (the last 2 of {len(racing)} racing stores to the entry, newest first)")
        for r in racing[:2]:
            vals = (f" {r['old']:#x} -> {r['new']:#x}"
                    if isinstance(r.get("old"), int) and isinstance(r.get("new"), int) else "")
            lines.append(f"  racing: thread {r.get('thread', '?')} ({r.get('role', '?')}) "
                         f"{r.get('op', '')}{vals}")
            lines += [f"    {b}" for b in (r.get("backtrace") or [])[:6]]
    lines.append("rerun: " + shlex.join(run.command))
    return "\n".join(lines)
