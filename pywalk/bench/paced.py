# SPDX-License-Identifier: GPL-2.0-only
"""Paced refault (`--refault between`): every timed walk starts on the
tables as populated.

Before each walk, `faulters` threads read-refault every huge leaf of the
walked range through the tree's fault path (each thread its share), the
walker waits for the last of them, and then walks alone, timed
(csrc/bench_paced.c).  Each walk therefore splits the same leaves and
retries the same way, in A as in B, and the spread of B/A is the spread
of the walk, not of how many leaves a concurrent refault happened to
bring back (`--refault during`, pywalk/bench/refault.py).

Census walks (untimed, after a refault round like every timed walk) count
what a walk does where the timed walk does not count: for the tree's own
clients (csrc/clients.c pw_client_census()), their callbacks and retries.
"""

from __future__ import annotations

import errno
import threading

from pywalk.bench.layouts import PAGE, Seg
from pywalk.bench.measure import BenchError, Side
from pywalk.variant.runtime import WALKERS


def refaulted(segs: list[Seg]) -> list[Seg]:
    """The segments a walk may split: huge leaves (4 KiB ptes are never split)."""
    return [s for s in segs if s.step > PAGE]


class Pacer:
    """One side's faulter threads and the rendezvous with its walker."""

    def __init__(self, side: Side, segs: list[Seg], n: int):
        self.side, self.n = side, n
        ffi, lib = side.ffi, side.lib
        segs = refaulted(segs)
        self.nsegs = len(segs)
        self.pace = lib.pw_bench_pace_new(n)
        if self.pace == ffi.NULL:
            raise BenchError("pywalk: out of memory for the refault rendezvous")
        self.rets = [0] * n
        self.threads: list[threading.Thread] = []
        # one array for all faulters: pw_bench_pace_faulter() only reads it
        self.segs = ffi.new("struct pw_bench_seg[]", max(1, len(segs)))
        for k, s in enumerate(segs):
            self.segs[k].start, self.segs[k].end, self.segs[k].step = (
                side.start + s.start, side.start + s.end, s.step)
        self.census_counts = ffi.new("struct pw_walk_counts *")

    def _start(self) -> None:
        lib, handle = self.side.lib, self.side.mm.handle

        def body(k: int) -> None:
            self.rets[k] = lib.pw_bench_pace_faulter(handle, self.pace, self.segs,
                                                     self.nsegs, k)

        self.threads = [threading.Thread(target=body, args=(k,), daemon=True,
                                         name=f"pywalk-refault-{k}") for k in range(self.n)]
        for t in self.threads:
            t.start()

    def _check(self, r: int, what: str) -> None:
        if r == -errno.ETIMEDOUT:   # a faulter did not finish its round in a minute
            raise BenchError(f"pywalk: {self.side.variant.name}: a refault round did not "
                             "finish in 60 s")
        if r < 0:
            for k, t in enumerate(self.threads):
                if not t.is_alive() and self.rets[k]:
                    self.side.check(self.rets[k], "refaulting")
        self.side.check(r, what)

    def walk(self, iters: int, size: int) -> list[int]:
        """iters timed walks of [start, start + size), each after a refault round."""
        side = self.side
        if not self.threads:
            self._start()
        ns = side._buf(iters)
        r = side.lib.pw_bench_walk_paced(side.mm.handle, self.pace, side.start,
                                         side.start + size, WALKERS[side.walker], iters, ns,
                                         side.counts)
        self._check(r, "a refault round and walk_page_range()")
        side.add_counts(iters)
        return side.ffi.unpack(ns, iters)

    def census(self, size: int) -> dict:
        """One untimed walk after a refault round: what it did, counted."""
        side = self.side
        if not self.threads:
            self._start()
        c = self.census_counts
        r = side.lib.pw_bench_census_paced(side.mm.handle, self.pace, side.start,
                                           side.start + size, WALKERS[side.walker], c)
        self._check(r, "a census walk")
        return side.counts_of(c)

    def refault(self) -> None:
        """One refault round: the tables as populated again."""
        if not self.threads:
            self._start()
        self._check(self.side.lib.pw_bench_pace_refault(self.pace), "a refault round")

    @property
    def faults(self) -> int:
        return int(self.side.lib.pw_bench_pace_faults(self.pace))

    def close(self) -> None:
        if self.pace is None:
            return
        self.side.lib.pw_bench_pace_stop(self.pace)
        for t in self.threads:
            t.join()
        self.threads = []
        self.side.lib.pw_bench_pace_free(self.pace)
        self.pace = None
