"""The throughput lines: cache hits, cold resolution (validating or not),
the authoritative server, two resolvers behind dnsdist, memory per cached
RRset. Each measures one contender once and returns its figures; a line's
`lost` adds up every question of every dnsperf run in it that got no answer
at all (warm-ups included)."""
import os
import statistics
import time

from authoritative import Lab
from clients import ask_with_do, dnsperf
from contenders import Dnsdist
from system import AUTH_ADDRESS, LISTEN, log, pinning


def bench_cache_hits(namespace, work, contender_class, threads, seconds, rate):
    server_cpus, client_cpus = pinning(threads)
    lab = Lab(namespace, work, client_cpus)
    lab.start()
    contender = contender_class(namespace, work, threads, server_cpus)
    try:
        contender.start()
        hits = os.path.join(work, "hits.txt")
        warm = dnsperf(namespace, client_cpus, LISTEN, hits, runs=2)  # 1,000 names cached, and asked again
        cpu_before = contender.cpu_seconds()
        throughput = dnsperf(namespace, client_cpus, LISTEN, hits, seconds=seconds, clients=10, outstanding=200)
        cpu = contender.cpu_seconds() - cpu_before
        latency = dnsperf(namespace, client_cpus, LISTEN, hits, seconds=min(seconds, 5), rate=rate, verbose=True)
        return {"qps": throughput["qps"], "latency_ms": throughput["latency_ms"],
                "p99_ms": latency["p99_ms"], "p50_ms": latency["p50_ms"],
                "lost": warm["lost"] + throughput["lost"] + latency["lost"],
                "cpu_us": cpu * 1e6 / max(throughput["completed"], 1)}
    finally:
        contender.stop()
        lab.stop()


def bench_cold(namespace, work, contender_class, threads, warm_file, names_file, lab_class=None, validated=False):
    """Cold resolution of `names_file` after `warm_file`, against the lab
    (`lab_class`, default Lab); with `validated`, the first name of each file
    must come back with the AD flag (before the run and after it), and a bad
    signature as SERVFAIL (before), or the line fails."""
    server_cpus, client_cpus = pinning(threads)
    lab = (lab_class or Lab)(namespace, work, client_cpus)
    lab.start()
    contender = contender_class(namespace, work, threads, server_cpus)
    try:
        contender.start()
        if validated:
            require_validated(namespace, contender, os.path.join(work, warm_file), bogus=True)
        warm = dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, warm_file), runs=1, clients=1, outstanding=1)
        cpu_before = contender.cpu_seconds()
        system_before = contender.cpu_seconds((12,))
        run = dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, names_file), runs=1, clients=10, outstanding=100)
        cpu = contender.cpu_seconds() - cpu_before
        system = contender.cpu_seconds((12,)) - system_before
        if validated:
            require_validated(namespace, contender, os.path.join(work, names_file))
    finally:
        contender.stop()
        upstream = lab.stop()
    names = run["sent"] or 1
    return {"qps": run["completed"] / run["runtime"] if run["runtime"] else 0.0, "latency_ms": run["latency_ms"],
            "upstream_per_name": upstream / names, "lost": warm["lost"] + run["lost"],
            "cpu_us": cpu * 1e6 / max(run["completed"], 1), "system_us": system * 1e6 / max(run["completed"], 1)}


class NotValidated(RuntimeError):
    """A validating contender answered without validating (RFC 4035 §5)."""


BOGUS_NAME = "bogus.known.bench."  # signed, then its address changed (bench/sign.py)


def require_validated(namespace, contender, query_file, bogus=False):
    """Raises NotValidated unless the first question of `query_file` comes
    back NOERROR with AD (RFC 4035 §3.2.3) and, with `bogus`, BOGUS_NAME
    (whose signature does not match) comes back SERVFAIL (§5.5)."""
    with open(query_file) as f:
        name, rtype = f.readline().split()
    status, flags, out = ask_with_do(namespace, name, rtype)
    if status != "NOERROR" or "ad" not in flags:
        raise NotValidated(f"{contender.name} did not validate {name} {rtype} (NOERROR with AD expected):\n{out}")
    log(f"  {contender.name}: {name} {rtype} {status}, flags {' '.join(flags)}")
    if bogus:
        status, flags, out = ask_with_do(namespace, BOGUS_NAME, "A")
        if status != "SERVFAIL":
            raise NotValidated(f"{contender.name} accepted a bad signature ({BOGUS_NAME} A, SERVFAIL expected):\n{out}")
        log(f"  {contender.name}: {BOGUS_NAME} A {status} (a bad signature)")


def bench_auth(namespace, work, contender_class, threads, seconds):
    server_cpus, client_cpus = pinning(threads)
    contender = contender_class(namespace, work, threads, server_cpus)
    contender.start()
    try:
        queries = os.path.join(work, "auth.txt")
        warm = dnsperf(namespace, client_cpus, (AUTH_ADDRESS, 53), queries, runs=1)  # warm, as NSD is at start
        cpu_before = contender.cpu_seconds()
        run = dnsperf(namespace, client_cpus, (AUTH_ADDRESS, 53), queries, seconds=seconds, clients=10, outstanding=200)
        cpu = contender.cpu_seconds() - cpu_before
        return {"qps": run["qps"], "latency_ms": run["latency_ms"], "lost": warm["lost"] + run["lost"],
                "cpu_us": cpu * 1e6 / max(run["completed"], 1)}
    finally:
        contender.stop()


def bench_balanced(namespace, work, contender_class, seconds):
    """Cache hits through dnsdist in front of two single-threaded resolvers
    (everything on CPUs 0-1: dnsdist, both resolvers, dnsperf)."""
    lab = Lab(namespace, work, "1")
    lab.start()
    backends = [("127.0.0.1", 5301), ("127.0.0.1", 5302)]
    resolvers = [contender_class(namespace, work, 1, "0-1", listen=b) for b in backends]
    balancer = Dnsdist(namespace, work, "0-1", backends)
    try:
        for r in resolvers:
            r.start()
        hits = os.path.join(work, "hits.txt")
        lost = sum(dnsperf(namespace, "0-1", backend, hits, runs=1)["lost"] for backend in backends)  # each one warm
        balancer.start()
        run = dnsperf(namespace, "0-1", LISTEN, hits, seconds=seconds, clients=10, outstanding=200)
        return {"qps": run["qps"], "latency_ms": run["latency_ms"], "lost": lost + run["lost"]}
    finally:
        balancer.stop()
        for r in resolvers:
            r.stop()
        lab.stop()


def bench_memory(namespace, work, contender_class, names):
    server_cpus, client_cpus = pinning(2)
    lab = Lab(namespace, work, client_cpus)
    lab.start()
    contender = contender_class(namespace, work, 2, server_cpus)
    try:
        contender.start()
        mem_file = os.path.join(work, "mem.txt")
        subset = os.path.join(work, f"mem-{names}.txt")
        with open(mem_file) as source, open(subset, "w") as out:
            for i, line in enumerate(source):
                if i >= names:
                    break
                out.write(line)
        warm = dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, "warm-zones.txt"), runs=1, clients=1, outstanding=1)
        before = contender.rss_kib()
        run = dnsperf(namespace, client_cpus, LISTEN, subset, runs=1, clients=20, outstanding=500)
        time.sleep(1)
        after = contender.rss_kib()
    finally:
        contender.stop()
        lab.stop()
    cached = run["completed"] or 1
    return {"rss_mib": after / 1024, "bytes_per_rrset": (after - before) * 1024 / cached, "resolved": run["completed"],
            "lost": warm["lost"] + run["lost"]}


def interleaved(rounds, contenders, measure, optional=()):
    """Runs `measure(contender)` for each contender in turn, `rounds` times,
    and keeps each figure's median per contender; questions lost are added up
    over the rounds (one lost question is one too many). A contender named
    in `optional` whose measure raises NotValidated leaves the line: returns
    (results, {name: why} of those left out)."""
    runs = {c.name: [] for c in contenders}
    left_out = {}
    for _ in range(rounds):
        for contender in contenders:
            if contender.name in left_out:
                continue
            try:
                runs[contender.name].append(measure(contender))
            except NotValidated as failure:
                if contender.name not in optional:
                    raise
                log(f"  {contender.name} left out of this line: {failure}")
                left_out[contender.name] = str(failure).splitlines()[0]
                del runs[contender.name]
    summary = (lambda key, values: sum(values) if key == "lost" else statistics.median(values))
    return ({name: {key: summary(key, [r[key] for r in results]) for key in results[0]}
             for name, results in runs.items()}, left_out)
