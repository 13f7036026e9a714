"""The clients that ask the questions: dnsperf (load, and latency at a fixed
rate), dig (checks)."""
import re
import subprocess

from system import LISTEN


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


def ask_with_do(namespace, name, rtype):
    """dig +dnssec through the contender: (status, header flags, dig's output)."""
    out = subprocess.run(namespace.command("0-1", "dig", "+dnssec", "+time=5", "+tries=1", "@" + LISTEN[0], "-p",
                                           str(LISTEN[1]), name, rtype), capture_output=True, text=True).stdout
    status = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags:([^;]*);", out)
    return (status.group(1) if status else "no answer"), (flags.group(1).split() if flags else []), out
