"""The latency lines: what one person waits for a cached answer. One client
(bench/latency.c) asks one question at a time, the round trip timed with
the monotonic clock; the contenders run side by side, each with 1 and with
2 threads, and are asked in turn (so that drift falls on all alike):

  back to back   COUNT questions for each, each sent as soon as the last
                 answer came back;
  after idling   IDLE_COUNT questions for each, each server idle for GAP
                 seconds before each one (a person's dig now and then).

dnsperf cannot do this: it sends from one thread and receives in another
(a wake-up inside the client, timed with the answer), and asks one server.

Placement: the client (and the lab) on CPU 1; a 1-thread server on CPU 0,
a 2-thread server on CPUs 0-1, as in the throughput lines."""
import os
import statistics

from authoritative import Lab
from clients import dnsperf, one_at_a_time, percentile
from system import ONE_CLIENT_CPUS, log, pinning

FIRST_PORT = 5401


def start_contenders(namespace, work, classes):
    """Every class with 1 and with 2 threads, each on a port of its own: {(name, threads): server}."""
    servers, port = {}, FIRST_PORT
    try:
        for threads in (1, 2):
            for cls in classes:
                server = cls(namespace, work, threads, pinning(threads)[0], listen=("127.0.0.1", port))
                servers[(cls.name, threads)] = server
                server.start()
                port += 1
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return servers


def figures(result):
    """p50/p90/p99 in microseconds, and the questions lost, of one server's run."""
    rtts = result["rtt_us"]
    return {"p50_us": percentile(rtts, 0.50), "p90_us": percentile(rtts, 0.90), "p99_us": percentile(rtts, 0.99),
            "lost": result["lost"], "answers": len(rtts)}


def bench_latency(namespace, work, client, classes, rounds, count, idle_count, idle_gap):
    """Runs the latency lines: `rounds` rounds back to back (each with the
    contenders started afresh and warmed), then one round after idling.
    Returns {"back to back": {(name, threads): figures}, "after idling": ...};
    back to back, each figure is the median over the rounds (lost: the sum)."""
    hits = os.path.join(work, "hits.txt")
    back_to_back, idle = {}, {}
    for round_number in range(rounds):
        lab = Lab(namespace, work, ONE_CLIENT_CPUS)
        lab.start()
        try:
            servers = start_contenders(namespace, work, classes)
            try:
                keys = list(servers)
                warm_lost = {}
                for key, server in servers.items():  # 1,000 names cached, and asked again
                    warm_lost[key] = dnsperf(namespace, ONE_CLIENT_CPUS, server.listen, hits, runs=2)["lost"]
                log(f"  round {round_number + 1}: {count} questions one at a time to each of {len(keys)} servers")
                results = one_at_a_time(namespace, ONE_CLIENT_CPUS, client, [servers[k].listen for k in keys], hits, count)
                for key, result in zip(keys, results):
                    row = figures(result)
                    row["lost"] += warm_lost[key]
                    back_to_back.setdefault(key, []).append(row)
                if round_number == rounds - 1 and idle_count:
                    log(f"  {idle_count} questions to each, each server idle {idle_gap:g} s before each "
                        f"(about {idle_count * idle_gap:.0f} s)")
                    results = one_at_a_time(namespace, ONE_CLIENT_CPUS, client, [servers[k].listen for k in keys], hits,
                                            idle_count, gap=idle_gap)
                    idle = {key: figures(result) for key, result in zip(keys, results)}
            finally:
                for server in servers.values():
                    server.stop()
        finally:
            lab.stop()
    medians = {}
    for key, rows in back_to_back.items():
        medians[key] = {figure: (sum(r[figure] for r in rows) if figure == "lost"
                                 else statistics.median(r[figure] for r in rows)) for figure in rows[0]}
    return {"back to back": medians, "after idling": idle}
