"""The report: one row per measure and anchor (ours ÷ anchor), the system
call tables per contender, the tools' versions, what is appended to
bench/RESULTS.md, and the questions ours lost (which fail the run)."""
import datetime
import os
import platform
import re
import subprocess

from system import RESOLVER


class Rows:
    """The table's rows: (measure, unit, ours, anchor's, anchor, higher is
    better); ours None: a line ours cannot run yet."""

    def __init__(self):
        self.rows = []
        self.notes = []  # sentences for RESULTS.md (a peer left out, and why)

    def add(self, measure, unit, ours, theirs, anchor, higher):
        self.rows.append((measure, unit, ours, theirs, anchor, higher))

    def compare(self, measure, unit, key, results, ours, peers, higher, best=False):
        """A row of ours (`results[ours][key]`) against each of `peers` that
        has results; with `best`, one more against the best of them."""
        present = [peer for peer in peers if peer in results]
        mine = results[ours][key] if ours in results else None
        for peer in present:
            self.add(measure, unit, mine, results[peer][key], peer, higher)
        if best and len(present) > 1:
            pick = max if higher else min
            winner = pick(present, key=lambda peer: results[peer][key])
            self.add(measure, unit, mine, results[winner][key], f"best peer ({winner})", higher)

    def lost_by_ours(self):
        """(measure, questions) of every line where ours lost questions, once each."""
        seen = {}
        for measure, _, ours, _, _, _ in self.rows:
            if "questions lost" in measure and "baseline" not in measure and ours:
                seen[measure] = ours
        return list(seen.items())

    def table(self):
        lines = ["| measure | resolver | anchor | anchor's | ours / anchor | better |", "|---|---:|---|---:|---:|---|"]
        for measure, unit, ours, theirs, anchor, higher in self.rows:
            better = "higher" if higher else "lower"
            if ours is None:
                lines.append(f"| {measure} ({unit}) | skipped: resolver does not validate yet | {anchor} | "
                             f"{theirs:,.2f} | – | {better} |")
                continue
            ratio = ours / theirs if theirs else float("nan")
            lines.append(f"| {measure} ({unit}) | {ours:,.2f} | {anchor} | {theirs:,.2f} | {ratio:.2f} | {better} |")
        return "\n".join(lines)


def syscall_tables(results, method):
    """One table per contender: system calls per answered query by name
    (rows, most used first), one column per load and thread count."""
    if not results:
        return ""
    out = [f"System calls per answered query ({method}; see bench/README.md):"]
    for name, columns in results.items():
        heads = list(columns)
        names = sorted({call for per in columns.values() for call in per},
                       key=lambda call: (call == "other", -max(per.get(call, 0) for per in columns.values())))
        out += ["", f"**{name}**", "", "| system call | " + " | ".join(heads) + " |",
                "|---|" + "---:|" * len(heads)]
        for call in names:
            out.append(f"| {call} | " + " | ".join(f"{columns[h].get(call, 0):.2f}" for h in heads) + " |")
        out.append("| **all** | " + " | ".join(f"**{sum(columns[h].values()):.2f}**" for h in heads) + " |")
    return "\n".join(out)


def first_line(args):
    try:
        out = subprocess.run(args, capture_output=True, text=True)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "?"


def versions():
    """Each tool's version, for the results' header."""
    dnsperf_help = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True)
    dnsperf = re.search(r"Version (\S+)", dnsperf_help.stdout + dnsperf_help.stderr)
    pdns = re.search(r"PowerDNS Recursor (\S+)", first_line(["pdns_recursor", "--version"]))
    return {
        "resolver": first_line([RESOLVER, "--version"]),
        "unbound": "unbound " + first_line(["unbound", "-V"]).removeprefix("Version "),
        "kresd": first_line(["kresd", "--version"]),
        "pdns_recursor": f"PowerDNS Recursor {pdns.group(1)}" if pdns else "?",
        "nsd": first_line(["nsd", "-v"]),
        "dnsperf": dnsperf.group(1) if dnsperf else "?",
        "dnsdist": first_line(["dnsdist", "--version"]),
        "ldns": first_line(["ldns-signzone", "-v"]).removeprefix("zone signer version ").split(" (")[0],
    }


def append_results(path, args, rows, syscalls_text):
    """Appends the run (header, notes, table, system call tables) to `path`."""
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    v = versions()
    peers = "; ".join(v[tool] for tool in ("kresd", "pdns_recursor") if v[tool] != "?")
    with open(path, "a") as results:
        results.write(f"\n## {stamp}, {platform.node()}, {os.cpu_count()} cores "
                      f"({platform.processor() or platform.machine()})\n\n")
        results.write(f"{v['resolver']}; {v['unbound']}; {peers + '; ' if peers else ''}{v['nsd']}; {v['dnsdist']}; "
                      f"dnsperf {v['dnsperf']}. Throughput runs {args.seconds} s, medians of {args.rounds} "
                      f"interleaved rounds; dnsperf pinned as the server (see bench/README.md).\n\n")
        if args.baseline:
            results.write(f"Baseline: `{args.baseline}`.\n\n")
        if "validating" not in args.skip:
            results.write(f"Validating lines: the world signed by ldns {v['ldns']} ({args.dnssec_algorithm}, NSEC), "
                          "served by NSD (see bench/README.md).\n\n")
        if "latency" not in args.skip:
            results.write(f"Latency lines: bench/latency.c, {args.latency_queries} questions to each server per round "
                          f"back to back, {args.idle_queries} after {args.idle_gap:g} s idle (see bench/README.md).\n\n")
        for note in rows.notes:
            results.write(f"{note}\n\n")
        results.write(rows.table() + "\n")
        if syscalls_text:
            results.write("\n" + syscalls_text + "\n")
