"""The clients that ask the questions: dnsperf (load, and latency at a fixed
rate), bench/latency.c (one question at a time, timed), dig (checks)."""
import os
import re
import subprocess

from system import LISTEN, ROOT


def dnsperf(namespace, cpus, server, query_file, *, seconds=None, runs=None, clients=10, outstanding=200, rate=None, verbose=False):
    """Runs dnsperf and returns its statistics (and per-query latencies when verbose)."""
    args = ["dnsperf", "-s", server[0], "-p", str(server[1]), "-d", query_file, "-c", str(clients),
            "-q", str(outstanding), "-T", "1", "-t", "5"]
    if seconds:
        args += ["-l", str(seconds)]
    if runs:
        args += ["-n", str(runs)]
    if rate:
        args += ["-Q", str(rate)]
    if verbose:
        args += ["-v"]
    out = subprocess.run(namespace.command(cpus, *args), capture_output=True, text=True, check=True).stdout

    def number(label):
        match = re.search(rf"{label}:\s+([0-9.]+)", out)
        return float(match.group(1)) if match else 0.0
    result = {
        "qps": number("Queries per second"),
        "latency_ms": number(r"Average Latency \(s\)") * 1000,
        "sent": number("Queries sent"),
        "completed": number("Queries completed"),
        "lost": number("Queries lost"),
        "runtime": number(r"Run time \(s\)"),
    }
    if verbose:
        # "> RCODE name type latency" per answer; a line for a lost query
        # has no latency at its end, and is not a latency.
        latencies = sorted(float(line.split()[-1]) for line in out.splitlines()
                           if line.startswith("> ") and re.fullmatch(r"[0-9.]+", line.split()[-1]))
        result["p99_ms"] = latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0
        result["p50_ms"] = latencies[len(latencies) // 2] * 1000 if latencies else 0.0
    return result


def build_latency_client(work):
    """Compiles bench/latency.c into `work` and returns the program's path."""
    program = os.path.join(work, "latency")
    subprocess.run(["cc", "-O2", "-Wall", "-o", program, os.path.join(ROOT, "bench", "latency.c")], check=True)
    return program


class WrongAnswer(RuntimeError):
    """A server answered a cached name with something else than NOERROR."""


def one_at_a_time(namespace, cpus, program, servers, query_file, count, gap=0.0, timeout_ms=1000):
    """Asks `count` rounds of one question to each of `servers` (addresses)
    in turn, one at a time (bench/latency.c), `gap` seconds apart for each
    server; returns per server its round trips in microseconds and its
    questions lost (no answer within `timeout_ms`)."""
    args = [program, str(count), str(int(gap * 1e6)), str(timeout_ms), query_file,
            *(f"{address}:{port}" for address, port in servers)]
    out = subprocess.run(namespace.command(cpus, *args), capture_output=True, text=True, check=True).stdout
    results = [{"rtt_us": [], "lost": 0} for _ in servers]
    for line in out.splitlines():
        fields = line.split()
        result = results[int(fields[0])]
        if fields[1] == "lost":
            result["lost"] += 1
            continue
        if fields[2] != "0":
            raise WrongAnswer(f"{servers[int(fields[0])]} answered RCODE {fields[2]} to a cached name")
        result["rtt_us"].append(int(fields[1]) / 1000)
    return results


def percentile(values, fraction):
    """The nearest-rank percentile of `values` (0 when there are none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n * fraction), at least 1
    return ordered[int(rank) - 1]


def ask_with_do(namespace, name, rtype):
    """dig +dnssec through the contender: (status, header flags, dig's output)."""
    out = subprocess.run(namespace.command("0-1", "dig", "+dnssec", "+time=5", "+tries=1", "@" + LISTEN[0], "-p",
                                           str(LISTEN[1]), name, rtype), capture_output=True, text=True).stdout
    status = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags:([^;]*);", out)
    return (status.group(1) if status else "no answer"), (flags.group(1).split() if flags else []), out
