#!/usr/bin/env python3
"""The side-by-side benchmark: resolver vs Unbound, Knot Resolver and
PowerDNS Recursor (recursive; the last two when installed) and vs NSD
(authoritative), in one run, on one machine, in a network namespace of its
own. Run through bench/run (which installs the tools and builds resolver).

Every contender runs inside the namespace; dnsperf shares the machine's
cores with it and is pinned the same way for every contender:
  1 thread:  the server on CPU 0; dnsperf (and the lab's authoritative) on CPU 1
  2 threads: everything on CPUs 0-1
The authoritative servers behind every resolver are the same: `resolver
auth` serving bench/gen.py's world, so that upstream costs are equal and
counted in one place.

The modules, by job: system (namespace, processes), contenders (the
resolvers), authoritative (the world's servers, NSD), clients (dnsperf,
bench/latency.c, dig), lines (the throughput lines), latency, syscalls,
report (the table and RESULTS.md); this file runs the parts and reports.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from authoritative import Nsd, OursAuth, SignedLab
from clients import build_latency_client
from contenders import (PEERS, VALIDATING_PEERS, Baseline, DoesNotValidate, Ours, OursValidating, Unbound,
                        UnboundValidating)
from latency import bench_latency
from lines import bench_auth, bench_balanced, bench_cache_hits, bench_cold, bench_memory, interleaved
from report import Rows, append_results, syscall_tables
from syscalls import LOADS, bench_syscalls, counter_class
from system import ROOT, Namespace, log

PARTS = ("hits", "cold", "validating", "auth", "dnsdist", "memory", "latency", "syscalls")
COLD_LINES = (("one known zone", "warm-known.txt", "known.txt"), ("20 delegated zones", "warm-zones.txt", "zones.txt"))


def hits(run, threads):
    """Cache hits: q/s, server CPU per query, p99 at a fixed rate, questions lost."""
    log(f"cache hits, {threads} thread(s)")
    results, _ = interleaved(run.args.rounds, run.contenders(), lambda c: bench_cache_hits(
        run.namespace, run.work, c, threads, run.args.seconds, run.args.rate))
    rows, anchors = run.rows, run.anchors()
    if run.args.baseline:
        b, o = Baseline.name, Ours.name
        rows.compare(f"cache hits q/s vs baseline, {threads} thr", "q/s", "qps", results, o, [b], True)
        rows.compare(f"cache hits server CPU per query vs baseline, {threads} thr", "µs", "cpu_us", results, o, [b], False)
        rows.compare(f"cache hits p99 vs baseline, {threads} thr", "ms", "p99_ms", results, o, [b], False)
        rows.compare(f"cache hits questions lost by baseline, {threads} thr", "queries", "lost", results, o, [b], False)
    rows.compare(f"cache hits q/s, {threads} thr", "q/s", "qps", results, Ours.name, anchors, True)
    rows.compare(f"cache hits server CPU per query, {threads} thr", "µs", "cpu_us", results, Ours.name, anchors, False)
    rows.compare(f"cache hits p99 at {run.args.rate} q/s, {threads} thr", "ms", "p99_ms", results, Ours.name, anchors,
                 False)
    rows.compare(f"cache hits questions lost, {threads} thr", "queries", "lost", results, Ours.name, anchors, False)


def cold(run, threads):
    """Cold resolution in one known zone and across 20 delegated zones."""
    for label, warm, names in COLD_LINES:
        log(f"cold resolution, {label}, {threads} thread(s)")
        results, _ = interleaved(run.args.rounds, run.contenders(), lambda c: bench_cold(
            run.namespace, run.work, c, threads, warm, names))
        rows, anchors = run.rows, run.anchors()
        if run.args.baseline:
            b, o = Baseline.name, Ours.name
            rows.compare(f"cold {label} names/s vs baseline, {threads} thr", "names/s", "qps", results, o, [b], True)
            rows.compare(f"cold {label} server CPU per name vs baseline, {threads} thr", "µs", "cpu_us", results, o, [b],
                         False)
            rows.compare(f"cold {label} of which in the kernel vs baseline, {threads} thr", "µs", "system_us", results,
                         o, [b], False)
            rows.compare(f"cold {label} questions lost by baseline, {threads} thr", "queries", "lost", results, o, [b],
                         False)
        cold_rows(rows, f"cold {label}", threads, results, Ours.name, anchors)


def cold_rows(rows, name, threads, results, ours, anchors):
    rows.compare(f"{name} names/s, {threads} thr", "names/s", "qps", results, ours, anchors, True, best=True)
    rows.compare(f"{name} mean latency, {threads} thr", "ms", "latency_ms", results, ours, anchors, False)
    rows.compare(f"{name} upstream msgs/name, {threads} thr", "msgs", "upstream_per_name", results, ours, anchors, False)
    rows.compare(f"{name} server CPU per name, {threads} thr", "µs", "cpu_us", results, ours, anchors, False)
    rows.compare(f"{name} of which in the kernel, {threads} thr", "µs", "system_us", results, ours, anchors, False)
    rows.compare(f"{name} questions lost, {threads} thr", "queries", "lost", results, ours, anchors, False)


def validating(run, threads):
    """The cold lines with DNSSEC validation on, against the signed world."""
    peers = [cls for cls in VALIDATING_PEERS if cls.available() and cls.name.split()[0] not in run.args.skip]
    for label, warm, names in COLD_LINES:
        log(f"cold resolution validating, {label}, {threads} thread(s)")

        def measure(contender):
            return bench_cold(run.namespace, run.work, contender, threads, warm, names, lab_class=SignedLab,
                              validated=True)
        optional = [cls.name for cls in peers]
        if run.ours_validates:
            try:
                results, left_out = interleaved(run.args.rounds, (OursValidating, UnboundValidating, *peers), measure,
                                                optional)
            except DoesNotValidate:
                run.ours_validates = False
        if not run.ours_validates:
            log("  resolver rejects [dnssec]: it does not validate yet; the others alone")
            results, left_out = interleaved(run.args.rounds, (UnboundValidating, *peers), measure, optional)
            results[OursValidating.name] = {key: None for key in results[UnboundValidating.name]}
        for peer, why in left_out.items():
            run.rows.notes.append(f"{peer} left out of the validating line ({label}, {threads} thr): {why}")
        anchors = [UnboundValidating.name, *(cls.name for cls in peers)]
        cold_rows(run.rows, f"cold validating {label}", threads, results, OursValidating.name, anchors)


def auth(run, threads):
    log(f"authoritative, {threads} thread(s)")
    results, _ = interleaved(run.args.rounds, (OursAuth, Nsd), lambda c: bench_auth(
        run.namespace, run.work, c, threads, run.args.seconds))
    o, n = OursAuth.name, Nsd.name
    run.rows.compare(f"authoritative q/s, {threads} thr", "q/s", "qps", results, o, [n], True)
    run.rows.compare(f"authoritative server CPU per query, {threads} thr", "µs", "cpu_us", results, o, [n], False)
    run.rows.compare(f"authoritative questions lost, {threads} thr", "queries", "lost", results, o, [n], False)


def dnsdist(run):
    log("two resolvers behind dnsdist")
    results, _ = interleaved(run.args.rounds, (Ours, Unbound), lambda c: bench_balanced(
        run.namespace, run.work, c, run.args.seconds))
    o, u = Ours.name, [Unbound.name]
    run.rows.compare("cache hits through dnsdist, 2 x 1 thr", "q/s", "qps", results, o, u, True)
    run.rows.compare("cache hits through dnsdist, mean latency", "ms", "latency_ms", results, o, u, False)
    run.rows.compare("cache hits through dnsdist, questions lost", "queries", "lost", results, o, u, False)


def memory(run):
    names = run.args.memory_names
    log(f"memory, {names} RRsets")
    results = {c.name: bench_memory(run.namespace, run.work, c, names) for c in (Ours, Unbound)}
    o, u = Ours.name, [Unbound.name]
    run.rows.compare(f"RSS after {names} RRsets", "MiB", "rss_mib", results, o, u, False)
    run.rows.compare("memory per cached RRset", "bytes", "bytes_per_rrset", results, o, u, False)
    run.rows.compare("memory line questions lost", "queries", "lost", results, o, u, False)


def latency(run):
    """One question at a time: back to back, and after idling."""
    args = run.args
    log(f"latency, one question at a time ({args.rounds} rounds of {args.latency_queries} each, "
        f"then {args.idle_queries} after {args.idle_gap:g} s idle)")
    lines = bench_latency(run.namespace, run.work, run.client(), run.contenders(), args.rounds,
                          args.latency_queries, args.idle_queries, args.idle_gap)
    for line, label in (("back to back", "cache hit one at a time"),
                        ("after idling", f"cache hit after {args.idle_gap:g} s idle")):
        for threads in (1, 2):
            results = {name: figures for (name, t), figures in lines[line].items() if t == threads}
            if not results:
                continue
            for figure in ("p50", "p90", "p99"):
                run.rows.compare(f"{label} {figure}, {threads} thr", "µs", f"{figure}_us", results, Ours.name,
                                 run.anchors(), False)
                if args.baseline:
                    run.rows.compare(f"{label} {figure} vs baseline, {threads} thr", "µs", f"{figure}_us", results,
                                     Ours.name, [Baseline.name], False)
            run.rows.compare(f"{label} questions lost, {threads} thr", "queries", "lost", results, Ours.name,
                             run.anchors(), False)
            if args.baseline:
                run.rows.compare(f"{label} questions lost by baseline, {threads} thr", "queries", "lost", results,
                                 Ours.name, [Baseline.name], False)


def syscalls(run):
    """System calls per answered query, by name, per contender."""
    counter = counter_class()
    log(f"system calls per answered query ({counter.method})")
    per_contender, totals, lost = {}, {}, {}
    for threads in (1, 2):
        for cls in (Ours, Unbound, *run.peers):
            measured = bench_syscalls(run.namespace, run.work, run.client(), cls, threads, counter)
            for load in LOADS:
                per_contender.setdefault(cls.name, {})[f"{load}, {threads} thr"] = measured["per_load"][load]
                totals.setdefault((load, threads), {})[cls.name] = {"calls": sum(measured["per_load"][load].values())}
            lost.setdefault(threads, {})[cls.name] = {"lost": measured["lost"]}
    for threads in (1, 2):
        for load in LOADS:
            run.rows.compare(f"system calls per answered query, {load}, {threads} thr", "calls", "calls",
                             totals[(load, threads)], Ours.name, run.anchors(), False)
        run.rows.compare(f"system call runs questions lost, {threads} thr", "queries", "lost", lost[threads],
                         Ours.name, run.anchors(), False)
    run.syscalls_text = syscall_tables(per_contender, counter.method)


class Run:
    """What the parts share: the options, the namespace, the world, the peers, the rows."""

    def __init__(self, args, namespace, work, peers):
        self.args, self.namespace, self.work, self.peers = args, namespace, work, peers
        self.rows = Rows()
        self.ours_validates = True  # until the binary rejects [dnssec]
        self.syscalls_text = ""
        self.latency_client = None

    def contenders(self):
        """Ours, Unbound, the peers installed, and the baseline if any."""
        return (Ours, Unbound, *self.peers) + ((Baseline,) if self.args.baseline else ())

    def anchors(self):
        """Whom ours is compared with: Unbound, then each peer installed."""
        return [Unbound.name, *(cls.name for cls in self.peers)]

    def client(self):
        """bench/latency.c, compiled once per run."""
        if self.latency_client is None:
            self.latency_client = build_latency_client(self.work)
        return self.latency_client


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput run")
    parser.add_argument("--memory-names", type=int, default=1_000_000, help="RRsets cached for the memory line")
    parser.add_argument("--rate", type=int, default=20_000, help="the fixed load (q/s) of the cache-hit p99 runs")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per line; medians are reported")
    parser.add_argument("--latency-queries", type=int, default=10_000,
                        help="questions one at a time to each contender, per round, in the latency line")
    parser.add_argument("--idle-queries", type=int, default=200, help="questions to each contender after idling")
    parser.add_argument("--idle-gap", type=float, default=1.0, help="seconds each contender idles before each of those")
    parser.add_argument("--skip", action="append", default=[],
                        help=f"skip a part: {', '.join(PARTS)}; or a peer: "
                             f"{', '.join(cls.name for cls in PEERS)}")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="another build of resolver (e.g. before a change) to run beside ours in the cache-hit, cold and latency lines")
    parser.add_argument("--dnssec-algorithm", choices=("ECDSAP256SHA256", "ED25519"), default="ECDSAP256SHA256",
                        help="how the validating lines' world is signed (bench/sign.py)")
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = parser.parse_args()
    unknown = set(args.skip) - set(PARTS) - {cls.name for cls in PEERS}
    if unknown:
        parser.error(f"--skip: no part or peer named {', '.join(sorted(unknown))}")
    return args


def main():
    args = arguments()
    if args.baseline:
        Baseline.binary = os.path.abspath(args.baseline)
    peers = []
    for cls in PEERS:
        if cls.name in args.skip:
            continue
        if not cls.available():
            log(f"{cls.name}: {cls.program} is not installed; left out (bench/run installs it)")
            continue
        peers.append(cls)

    work = tempfile.mkdtemp(prefix="resolver-bench-")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen.py"), work], check=True)
    if "validating" not in args.skip:
        log(f"signing the world (ldns-signzone, {args.dnssec_algorithm})")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "sign.py"), work, args.dnssec_algorithm], check=True)
    namespace = Namespace()
    run = Run(args, namespace, work, peers)
    try:
        for threads in (1, 2):
            for part in (hits, cold, validating, auth):
                if part.__name__ not in args.skip:
                    part(run, threads)
        for part in (dnsdist, memory, latency, syscalls):
            if part.__name__ not in args.skip:
                part(run)
    finally:
        namespace.delete()
        shutil.rmtree(work, ignore_errors=True)

    print(run.rows.table())
    if run.syscalls_text:
        print("\n" + run.syscalls_text)
    append_results(args.results, args, run.rows, run.syscalls_text)
    lost = run.rows.lost_by_ours()
    for measure, questions in lost:
        print(f"FAIL: {measure}: {questions:,.0f} questions got no answer at all")
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
