#!/usr/bin/env python3
"""The side-by-side benchmark: resolver vs Unbound (recursive) and vs NSD
(authoritative), in one run, on one machine, in a network namespace of its
own. Run through bench/run (which installs the tools and builds resolver).

Every contender runs inside the namespace; dnsperf shares the machine's
cores with it and is pinned the same way for every contender:
  1 thread:  the server on CPU 0; dnsperf (and the lab's authoritative) on CPU 1
  2 threads: everything on CPUs 0-1
The authoritative servers behind both resolvers are the same: `resolver
auth` serving bench/gen.py's world, so that upstream costs are equal and
counted in one place.
"""
import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Another build with RESOLVER=/path/to/resolver (bench/run still builds this tree's).
RESOLVER = os.environ.get("RESOLVER", os.path.join(ROOT, "target", "release", "resolver"))
LISTEN = ("127.0.0.1", 5353)
AUTH_ADDRESS = "127.1.9.1"


def log(text):
    print(text, file=sys.stderr, flush=True)


class Namespace:
    """A network namespace with only its loopback up; deleted on exit."""

    def __init__(self):
        self.name = f"bench-{os.getpid()}"
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        subprocess.run(["ip", "-n", self.name, "link", "set", "lo", "up"], check=True)
        self.path = f"/var/run/netns/{self.name}"

    def command(self, cpus, *args):
        """A command line running `args` in the namespace, pinned to `cpus`."""
        return ["nsenter", f"--net={self.path}", "taskset", "-c", cpus, *args]

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], check=False)


class Process:
    """A server started in the namespace; stopped with SIGTERM, by PID."""

    def __init__(self, namespace, cpus, args, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.popen = subprocess.Popen(namespace.command(cpus, *args), stdout=self.log, stderr=subprocess.STDOUT)

    def cpu_seconds(self, fields_of=(11, 12)):
        """User and system CPU time used so far by the server and every
        process under it (NSD answers from forked children); system time
        alone with `fields_of=(12,)`."""
        return sum(cpu_of(pid, fields_of) for pid in [self.popen.pid, *descendants(self.popen.pid)])

    def rss_kib(self):
        with open(f"/proc/{self.popen.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def stop(self):
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        self.log.close()
        with open(self.log_path) as f:
            return f.read()


def stat_fields(pid):
    """The fields of /proc/PID/stat after the command name."""
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()


def cpu_of(pid, fields_of=(11, 12)):
    """User and system CPU seconds of one process (0 once it is gone);
    `fields_of=(12,)` for system time alone."""
    try:
        fields = stat_fields(pid)
    except OSError:
        return 0.0
    return sum(int(fields[i]) for i in fields_of) / os.sysconf("SC_CLK_TCK")


def descendants(pid):
    """Every process below `pid`."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                children.setdefault(int(stat_fields(entry)[1]), []).append(int(entry))
            except OSError:
                continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


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


class ServerExited(RuntimeError):
    """A server stopped before it answered; `log` says why."""

    def __init__(self, log_text):
        super().__init__(f"the server exited before answering:\n{log_text}")
        self.log = log_text


def wait_until_answering(namespace, server, name, timeout=30, process=None):
    """Waits until `server` answers `name`; raises ServerExited as soon as `process` is gone."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.popen.poll() is not None:
            raise ServerExited(process.stop())
        probe = subprocess.run(namespace.command("0-1", "dig", "+time=1", "+tries=1", "@" + server[0], "-p",
                                                 str(server[1]), name), capture_output=True, text=True)
        if "status:" in probe.stdout:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answers on {server}")


class Server:
    """A server started in the namespace, ready once `address` answers `probe`."""
    process = None

    def launch(self, args, log_name, address, probe):
        self.process = Process(self.namespace, self.cpus, args, os.path.join(self.work, log_name))
        wait_until_answering(self.namespace, address, probe, process=self.process)

    def stop(self):
        """Stops the server, if it started, and returns its log."""
        return self.process.stop() if self.process else ""


class Lab(Server):
    """The benchmark world's authoritative servers (`resolver auth`), counting what they receive."""

    def __init__(self, namespace, work, cpus):
        self.namespace, self.work, self.cpus = namespace, work, cpus
        self.config = os.path.join(work, "lab.toml")
        with open(self.config, "w") as f:
            f.write(f'[server]\nthreads = 1\nudp_sockets = 1\nrate_limit = 0\n[lab]\nzones = "{work}/toml"\nport = 53\n'
                    '[log]\nlevel = "info"\n')

    def start(self):
        self.launch([RESOLVER, "auth", "--config", self.config], "lab.log", ("127.1.0.1", 53), ".")

    def stop(self):
        """Stops the servers and returns how many queries they received in all."""
        text = super().stop()
        return sum(int(n) for n in re.findall(r": (\d+) queries received", text))


def trust_anchor(work):
    """The signed world's trust anchor: the root's DNSKEY, one line (bench/sign.py)."""
    with open(os.path.join(work, "signed", "root.key")) as f:
        return f.read().strip()


class SignedLab:
    """The signed world (bench/sign.py's signed/zones) served by NSD, one
    instance per level of the tree so that each address serves only its own
    zones (an NSD answers from the deepest zone it has, whatever the address
    asked): the root, bench., and every leaf zone (siblings may share one).
    Minimal responses, as Lab's: an answer carries its own RRSIG, not the
    zone's signed NS RRset and glue besides. Counts what they receive
    (`nsd-control stats`) as Lab does."""

    LEVELS = (("root", ["127.1.0.1"], [(".", "root.zone")], "."),
              ("tld", ["127.1.1.1"], [("bench.", "bench.zone")], "bench."),
              ("leaves", ["127.1.2.1", *(f"127.1.3.{z + 1}" for z in range(20))],
               [("known.bench.", "known.zone"), *((f"z{z}.bench.", f"z{z}.zone") for z in range(20))],
               "known.bench."))

    def __init__(self, namespace, work, cpus):
        self.namespace, self.cpus = namespace, cpus
        self.signed = os.path.join(work, "signed")
        self.configs, self.processes = [], []
        for level, addresses, zones, probe in self.LEVELS:
            config = os.path.join(self.signed, f"nsd-{level}.conf")
            with open(config, "w") as f:
                f.write(nsd_config(addresses, 1, os.path.join(self.signed, "zones"),
                                   os.path.join(self.signed, f"nsd-{level}"), zones, control=True, minimal=True))
            self.configs.append((config, addresses[0], probe))

    def start(self):
        for config, address, probe in self.configs:
            process = Process(self.namespace, self.cpus, ["nsd", "-d", "-c", config], config.replace(".conf", ".log"))
            self.processes.append(process)
            wait_until_answering(self.namespace, (address, 53), probe, process=process)

    def queries_received(self):
        total = 0
        for config, _, _ in self.configs:
            stats = subprocess.run(["nsd-control", "-c", config, "stats_noreset"], capture_output=True, text=True)
            counts = re.findall(r"^num\.queries=(\d+)$", stats.stdout, re.MULTILINE)
            if stats.returncode != 0 or not counts:
                raise RuntimeError(f"nsd-control stats_noreset for {config}: {stats.stdout}{stats.stderr}")
            total += sum(int(n) for n in counts)
        return total

    def stop(self):
        """Stops the servers and returns how many queries they received in all."""
        received = self.queries_received() if self.processes else 0
        for process in self.processes:
            process.stop()
        self.processes = []
        return received


class Ours(Server):
    name = "resolver"
    binary = RESOLVER
    cache = '[cache]\nsize = "4G"\n'

    def __init__(self, namespace, work, threads, cpus, listen=LISTEN):
        self.namespace, self.work, self.threads, self.cpus, self.listen = namespace, work, threads, cpus, listen
        self.config = os.path.join(work, f"{self.name.replace(' ', '-')}-{threads}-{listen[1]}.toml")
        with open(self.config, "w") as f:
            f.write(f"""[server]
listen = ["{listen[0]}:{listen[1]}"]
threads = {threads}
udp_sockets = {threads}
pending_answers = 100000
pending_per_client = 100000
rate_limit = 0
[resolver]
roots = ["127.1.0.1"]
port = 53
qname_minimisation = false
{self.cache}[log]
level = "warn"
{self.dnssec()}""")

    def dnssec(self):
        """The configuration's `[dnssec]` table, if any."""
        return ""

    def start(self):
        self.launch([self.binary, "serve", "--config", self.config], f"{self.name.replace(' ', '-')}-{self.listen[1]}.log",
                    self.listen, "bench.")


class DoesNotValidate(Exception):
    """The resolver rejects the `[dnssec]` table: this build cannot validate yet."""


class OursValidating(Ours):
    """Ours validating (RFC 4035 §5), with the signed world's root key as its trust anchor."""
    name = "resolver validating"

    def dnssec(self):
        return f'[dnssec]\nvalidate = true\ntrust_anchors = ["{trust_anchor(self.work)}"]\n'

    def start(self):
        try:
            super().start()
        except ServerExited as exited:
            if "unknown field `dnssec`" in exited.log:
                raise DoesNotValidate(exited.log) from exited
            raise


class Baseline(Ours):
    """Another build of ours (`--baseline`), e.g. before a change, with the
    cache's default size (its configuration keys may be older than ours)."""
    name = "resolver baseline"
    binary = None  # set from --baseline
    cache = ""


class Unbound(Server):
    name = "unbound"
    modules = "iterator"

    def __init__(self, namespace, work, threads, cpus, listen=LISTEN):
        self.namespace, self.work, self.threads, self.cpus, self.listen = namespace, work, threads, cpus, listen
        hints = os.path.join(work, "root.hints")
        with open(hints, "w") as f:
            f.write(". 518400 IN NS a.root.bench-servers.\na.root.bench-servers. 518400 IN A 127.1.0.1\n")
        slabs = 1 << max(0, (threads - 1).bit_length())
        self.config = os.path.join(work, f"{self.name.replace(' ', '-')}-{threads}-{listen[1]}.conf")
        with open(self.config, "w") as f:
            f.write(f"""server:
    interface: {listen[0]}@{listen[1]}
    port: {listen[1]}
    num-threads: {threads}
    so-reuseport: yes
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{work}"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    do-ip6: no
    root-hints: "{hints}"
    module-config: "{self.modules}"
    qname-minimisation: no
    minimal-responses: yes
    prefetch: no
    edns-buffer-size: 1232
    num-queries-per-thread: 4096
    outgoing-range: 8192
    msg-cache-slabs: {slabs}
    rrset-cache-slabs: {slabs}
    infra-cache-slabs: {slabs}
    key-cache-slabs: {slabs}
    msg-cache-size: 1024m
    rrset-cache-size: 2048m
{self.validation()}""")

    def validation(self):
        """Validator settings, if validating."""
        return ""

    def start(self):
        self.launch(["unbound", "-d", "-c", self.config], f"{self.name.replace(' ', '-')}-{self.listen[1]}.log",
                    self.listen, "bench.")


class UnboundValidating(Unbound):
    """Unbound validating, with the signed world's root key as its trust anchor."""
    name = "unbound validating"
    modules = "validator iterator"

    def validation(self):
        return f'    trust-anchor: "{trust_anchor(self.work)}"\n'


class OursAuth(Server):
    name = "resolver auth"

    def __init__(self, namespace, work, threads, cpus):
        self.namespace, self.work, self.cpus = namespace, work, cpus
        self.config = os.path.join(work, f"ours-auth-{threads}.toml")
        with open(self.config, "w") as f:
            f.write(f'[server]\nthreads = {threads}\nudp_sockets = {threads}\nrate_limit = 0\n'
                    f'[lab]\nzones = "{work}/toml-auth"\nport = 53\n[log]\nlevel = "warn"\n')

    def start(self):
        self.launch([RESOLVER, "auth", "--config", self.config], "ours-auth.log",
                    (AUTH_ADDRESS, 53), "auth.bench.")


def nsd_config(addresses, threads, zonesdir, state, zones, control=False, minimal=False):
    """An NSD configuration: `zones` ((name, file in `zonesdir`) pairs)
    served on port 53 of `addresses`, its own files named after `state`;
    with `control`, `nsd-control` reaches it through a local socket (no keys);
    with `minimal`, no NS or glue beside an answer (as `resolver auth`)."""
    listen = "".join(f"    ip-address: {a}\n" for a in addresses)
    served = "".join(f"zone:\n    name: {name}\n    zonefile: {file}\n" for name, file in zones)
    control = f'yes\n    control-interface: "{state}.sock"' if control else "no"
    return f"""server:
{listen}    port: 53
    server-count: {threads}
    reuseport: yes
    username: ""
    chroot: ""
    zonesdir: "{zonesdir}"
    database: ""
    pidfile: "{state}.pid"
    xfrdfile: "{state}-xfrd.state"
    xfrdir: "{os.path.dirname(state)}"
    zonelistfile: "{state}-zone.list"
    logfile: "{state}-server.log"
    verbosity: 0
    hide-version: yes
    refuse-any: no
    minimal-responses: {"yes" if minimal else "no"}
remote-control:
    control-enable: {control}
{served}"""


class Nsd(Server):
    name = "nsd"

    def __init__(self, namespace, work, threads, cpus):
        self.namespace, self.work, self.cpus = namespace, work, cpus
        self.config = os.path.join(work, f"nsd-{threads}.conf")
        with open(self.config, "w") as f:
            f.write(nsd_config([AUTH_ADDRESS], threads, f"{work}/nsd", f"{work}/nsd", [("auth.bench", "auth.zone")]))

    def start(self):
        self.launch(["nsd", "-d", "-c", self.config], "nsd.log", (AUTH_ADDRESS, 53), "auth.bench.")


class Dnsdist(Server):
    """dnsdist on LISTEN, balancing over resolvers, with health checks."""

    def __init__(self, namespace, work, cpus, backends):
        self.namespace, self.work, self.cpus = namespace, work, cpus
        self.config = os.path.join(work, "dnsdist.conf")
        servers = "\n".join(
            f'newServer({{address="{a}:{p}", checkName="bench.", checkType="SOA", checkInterval=1}})'
            for a, p in backends)
        with open(self.config, "w") as f:
            f.write(f'setLocal("{LISTEN[0]}:{LISTEN[1]}")\nsetACL({{"127.0.0.0/8"}})\n{servers}\n'
                    'setServerPolicy(leastOutstanding)\nsetSecurityPollSuffix("")\n')

    def start(self):
        self.launch(["dnsdist", "--supervised", "--disable-syslog", "-C", self.config], "dnsdist.log",
                    LISTEN, "bench.")


def pinning(threads):
    """(server CPUs, dnsperf and lab CPUs)."""
    return ("0", "1") if threads == 1 else ("0-1", "0-1")


def bench_cache_hits(namespace, work, contender_class, threads, seconds, rate):
    server_cpus, client_cpus = pinning(threads)
    lab = Lab(namespace, work, client_cpus)
    lab.start()
    contender = contender_class(namespace, work, threads, server_cpus)
    try:
        contender.start()
        hits = os.path.join(work, "hits.txt")
        dnsperf(namespace, client_cpus, LISTEN, hits, runs=2)  # warm: 1,000 names cached, and asked again
        cpu_before = contender.process.cpu_seconds()
        throughput = dnsperf(namespace, client_cpus, LISTEN, hits, seconds=seconds, clients=10, outstanding=200)
        cpu = contender.process.cpu_seconds() - cpu_before
        latency = dnsperf(namespace, client_cpus, LISTEN, hits, seconds=min(seconds, 5), rate=rate, verbose=True)
        return {"qps": throughput["qps"], "latency_ms": throughput["latency_ms"],
                "p99_ms": latency["p99_ms"], "p50_ms": latency["p50_ms"], "lost": throughput["lost"],
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
        dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, warm_file), runs=1, clients=1, outstanding=1)
        cpu_before = contender.process.cpu_seconds()
        system_before = contender.process.cpu_seconds((12,))
        run = dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, names_file), runs=1, clients=10, outstanding=100)
        cpu = contender.process.cpu_seconds() - cpu_before
        system = contender.process.cpu_seconds((12,)) - system_before
        if validated:
            require_validated(namespace, contender, os.path.join(work, names_file))
    finally:
        contender.stop()
        upstream = lab.stop()
    names = run["sent"] or 1
    return {"qps": run["completed"] / run["runtime"] if run["runtime"] else 0.0, "latency_ms": run["latency_ms"],
            "upstream_per_name": upstream / names, "lost": run["lost"], "cpu_us": cpu * 1e6 / max(run["completed"], 1),
            "system_us": system * 1e6 / max(run["completed"], 1)}


class NotValidated(RuntimeError):
    """A validating contender answered without validating (RFC 4035 §5)."""


BOGUS_NAME = "bogus.known.bench."  # signed, then its address changed (bench/sign.py)


def ask_with_do(namespace, name, rtype):
    """dig +dnssec through the contender: (status, header flags, dig's output)."""
    out = subprocess.run(namespace.command("0-1", "dig", "+dnssec", "+time=5", "+tries=1", "@" + LISTEN[0], "-p",
                                           str(LISTEN[1]), name, rtype), capture_output=True, text=True).stdout
    status = re.search(r"status: (\w+)", out)
    flags = re.search(r";; flags:([^;]*);", out)
    return (status.group(1) if status else "no answer"), (flags.group(1).split() if flags else []), out


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
        dnsperf(namespace, client_cpus, (AUTH_ADDRESS, 53), queries, runs=1)  # warm, as NSD is at start
        cpu_before = contender.process.cpu_seconds()
        run = dnsperf(namespace, client_cpus, (AUTH_ADDRESS, 53), queries, seconds=seconds, clients=10, outstanding=200)
        cpu = contender.process.cpu_seconds() - cpu_before
        return {"qps": run["qps"], "latency_ms": run["latency_ms"], "lost": run["lost"],
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
        for backend in backends:
            dnsperf(namespace, "0-1", backend, hits, runs=1)  # each one's cache warm
        balancer.start()
        run = dnsperf(namespace, "0-1", LISTEN, hits, seconds=seconds, clients=10, outstanding=200)
        return {"qps": run["qps"], "latency_ms": run["latency_ms"], "lost": run["lost"]}
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
        dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, "warm-zones.txt"), runs=1, clients=1, outstanding=1)
        before = contender.process.rss_kib()
        run = dnsperf(namespace, client_cpus, LISTEN, subset, runs=1, clients=20, outstanding=500)
        time.sleep(1)
        after = contender.process.rss_kib()
    finally:
        contender.stop()
        lab.stop()
    cached = run["completed"] or 1
    return {"rss_mib": after / 1024, "bytes_per_rrset": (after - before) * 1024 / cached, "resolved": run["completed"]}


def interleaved(rounds, contenders, measure):
    """Runs `measure(contender)` for each contender in turn, `rounds` times,
    and keeps each figure's median per contender; questions lost are added up
    over the rounds (one lost question is one too many)."""
    runs = {c.name: [] for c in contenders}
    for _ in range(rounds):
        for contender in contenders:
            runs[contender.name].append(measure(contender))
    summary = (lambda key, values: sum(values) if key == "lost" else statistics.median(values))
    return {name: {key: summary(key, [r[key] for r in results]) for key in results[0]}
            for name, results in runs.items()}


def versions():
    def first_line(args):
        try:
            out = subprocess.run(args, capture_output=True, text=True)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return "?"
    return {
        "resolver": first_line([RESOLVER, "--version"]),
        "unbound": "unbound " + first_line(["unbound", "-V"]).removeprefix("Version "),
        "nsd": first_line(["nsd", "-v"]),
        "dnsperf": dnsperf_version(),
        "dnsdist": first_line(["dnsdist", "--version"]),
        "ldns": first_line(["ldns-signzone", "-v"]).removeprefix("zone signer version ").split(" (")[0],
    }


def dnsperf_version():
    out = subprocess.run(["dnsperf", "-h"], capture_output=True, text=True)
    match = re.search(r"Version (\S+)", out.stdout + out.stderr)
    return match.group(1) if match else "?"


def ratio(ours, theirs):
    return ours / theirs if theirs else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10, help="length of each throughput run")
    parser.add_argument("--memory-names", type=int, default=1_000_000, help="RRsets cached for the memory line")
    parser.add_argument("--rate", type=int, default=20_000, help="the fixed load (q/s) of the latency runs")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds per line; medians are reported")
    parser.add_argument("--skip", action="append", default=[],
                        help="skip a part: hits, cold, validating, auth, dnsdist, memory")
    parser.add_argument("--baseline", metavar="BINARY",
                        help="another build of resolver (e.g. before a change) to run beside ours in the cache-hit and cold lines")
    parser.add_argument("--dnssec-algorithm", choices=("ECDSAP256SHA256", "ED25519"), default="ECDSAP256SHA256",
                        help="how the validating lines' world is signed (bench/sign.py)")
    parser.add_argument("--results", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    args = parser.parse_args()
    if args.baseline:
        Baseline.binary = os.path.abspath(args.baseline)

    work = tempfile.mkdtemp(prefix="resolver-bench-")
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "gen.py"), work], check=True)
    if "validating" not in args.skip:
        log(f"signing the world (ldns-signzone, {args.dnssec_algorithm})")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "sign.py"), work, args.dnssec_algorithm], check=True)
    namespace = Namespace()
    rows = []  # (measure, unit, ours, theirs, anchor, higher is better; ours None: skipped)
    ours_validates = True  # until the binary rejects [dnssec]
    try:
        for threads in (1, 2):
            if "hits" not in args.skip:
                log(f"cache hits, {threads} thread(s)")
                contenders = (Ours, Unbound) + ((Baseline,) if args.baseline else ())
                results = interleaved(args.rounds, contenders, lambda c: bench_cache_hits(
                    namespace, work, c, threads, args.seconds, args.rate))
                o, u = results["resolver"], results["unbound"]
                if args.baseline:
                    b = results[Baseline.name]
                    rows.append((f"cache hits q/s vs baseline, {threads} thr", "q/s", o["qps"], b["qps"], "baseline", True))
                    rows.append((f"cache hits server CPU per query vs baseline, {threads} thr", "µs", o["cpu_us"], b["cpu_us"], "baseline", False))
                    rows.append((f"cache hits p99 vs baseline, {threads} thr", "ms", o["p99_ms"], b["p99_ms"], "baseline", False))
                    rows.append((f"cache hits questions lost by baseline, {threads} thr", "queries", o["lost"], b["lost"], "baseline", False))
                rows.append((f"cache hits q/s, {threads} thr", "q/s", o["qps"], u["qps"], "unbound", True))
                rows.append((f"cache hits server CPU per query, {threads} thr", "µs", o["cpu_us"], u["cpu_us"], "unbound", False))
                rows.append((f"cache hits p99 at {args.rate} q/s, {threads} thr", "ms", o["p99_ms"], u["p99_ms"], "unbound", False))
                rows.append((f"cache hits questions lost, {threads} thr", "queries", o["lost"], u["lost"], "unbound", False))
            if "cold" not in args.skip:
                for label, warm, names in (("one known zone", "warm-known.txt", "known.txt"),
                                           ("20 delegated zones", "warm-zones.txt", "zones.txt")):
                    log(f"cold resolution, {label}, {threads} thread(s)")
                    contenders = (Ours, Unbound) + ((Baseline,) if args.baseline else ())
                    results = interleaved(args.rounds, contenders, lambda c: bench_cold(
                        namespace, work, c, threads, warm, names))
                    o, u = results["resolver"], results["unbound"]
                    if args.baseline:
                        b = results[Baseline.name]
                        rows.append((f"cold {label} names/s vs baseline, {threads} thr", "names/s", o["qps"], b["qps"], "baseline", True))
                        rows.append((f"cold {label} server CPU per name vs baseline, {threads} thr", "µs", o["cpu_us"], b["cpu_us"], "baseline", False))
                        rows.append((f"cold {label} of which in the kernel vs baseline, {threads} thr", "µs", o["system_us"], b["system_us"], "baseline", False))
                        rows.append((f"cold {label} questions lost by baseline, {threads} thr", "queries", o["lost"], b["lost"], "baseline", False))
                    rows.append((f"cold {label} names/s, {threads} thr", "names/s", o["qps"], u["qps"], "unbound", True))
                    rows.append((f"cold {label} mean latency, {threads} thr", "ms", o["latency_ms"], u["latency_ms"], "unbound", False))
                    rows.append((f"cold {label} upstream msgs/name, {threads} thr", "msgs", o["upstream_per_name"], u["upstream_per_name"], "unbound", False))
                    rows.append((f"cold {label} server CPU per name, {threads} thr", "µs", o["cpu_us"], u["cpu_us"], "unbound", False))
                    rows.append((f"cold {label} of which in the kernel, {threads} thr", "µs", o["system_us"], u["system_us"], "unbound", False))
                    rows.append((f"cold {label} questions lost, {threads} thr", "queries", o["lost"], u["lost"], "unbound", False))
            if "validating" not in args.skip:
                for label, warm, names in (("one known zone", "warm-known.txt", "known.txt"),
                                           ("20 delegated zones", "warm-zones.txt", "zones.txt")):
                    log(f"cold resolution validating, {label}, {threads} thread(s)")

                    def measure(contender):
                        return bench_cold(namespace, work, contender, threads, warm, names,
                                          lab_class=SignedLab, validated=True)
                    if ours_validates:
                        try:
                            results = interleaved(args.rounds, (OursValidating, UnboundValidating), measure)
                            o = results[OursValidating.name]
                        except DoesNotValidate:
                            ours_validates = False
                    if not ours_validates:
                        log("  resolver rejects [dnssec]: it does not validate yet; unbound alone")
                        results = interleaved(args.rounds, (UnboundValidating,), measure)
                        o = {key: None for key in results[UnboundValidating.name]}
                    u = results[UnboundValidating.name]
                    name = f"cold validating {label}"
                    rows.append((f"{name} names/s, {threads} thr", "names/s", o["qps"], u["qps"], "unbound validating", True))
                    rows.append((f"{name} mean latency, {threads} thr", "ms", o["latency_ms"], u["latency_ms"], "unbound validating", False))
                    rows.append((f"{name} upstream msgs/name, {threads} thr", "msgs", o["upstream_per_name"], u["upstream_per_name"], "unbound validating", False))
                    rows.append((f"{name} server CPU per name, {threads} thr", "µs", o["cpu_us"], u["cpu_us"], "unbound validating", False))
                    rows.append((f"{name} of which in the kernel, {threads} thr", "µs", o["system_us"], u["system_us"], "unbound validating", False))
                    rows.append((f"{name} questions lost, {threads} thr", "queries", o["lost"], u["lost"], "unbound validating", False))
            if "auth" not in args.skip:
                log(f"authoritative, {threads} thread(s)")
                results = interleaved(args.rounds, (OursAuth, Nsd), lambda c: bench_auth(namespace, work, c, threads, args.seconds))
                o, n = results["resolver auth"], results["nsd"]
                rows.append((f"authoritative q/s, {threads} thr", "q/s", o["qps"], n["qps"], "nsd", True))
                rows.append((f"authoritative server CPU per query, {threads} thr", "µs", o["cpu_us"], n["cpu_us"], "nsd", False))
                rows.append((f"authoritative questions lost, {threads} thr", "queries", o["lost"], n["lost"], "nsd", False))
        if "dnsdist" not in args.skip:
            log("two resolvers behind dnsdist")
            results = interleaved(args.rounds, (Ours, Unbound), lambda c: bench_balanced(
                namespace, work, c, args.seconds))
            o, u = results["resolver"], results["unbound"]
            rows.append(("cache hits through dnsdist, 2 x 1 thr", "q/s", o["qps"], u["qps"], "unbound", True))
            rows.append(("cache hits through dnsdist, mean latency", "ms", o["latency_ms"], u["latency_ms"], "unbound", False))
            rows.append(("cache hits through dnsdist, questions lost", "queries", o["lost"], u["lost"], "unbound", False))
        if "memory" not in args.skip:
            log(f"memory, {args.memory_names} RRsets")
            results = {c.name: bench_memory(namespace, work, c, args.memory_names) for c in (Ours, Unbound)}
            o, u = results["resolver"], results["unbound"]
            rows.append((f"RSS after {args.memory_names} RRsets", "MiB", o["rss_mib"], u["rss_mib"], "unbound", False))
            rows.append(("memory per cached RRset", "bytes", o["bytes_per_rrset"], u["bytes_per_rrset"], "unbound", False))
    finally:
        namespace.delete()
        shutil.rmtree(work, ignore_errors=True)

    table = ["| measure | resolver | anchor | anchor's | ours / anchor | better |", "|---|---:|---|---:|---:|---|"]
    for measure, unit, ours, theirs, anchor, higher in rows:
        better = "higher" if higher else "lower"
        if ours is None:  # a line ours cannot run yet
            table.append(f"| {measure} ({unit}) | skipped: resolver does not validate yet | {anchor} | {theirs:,.2f} | – | {better} |")
            continue
        r = ratio(ours, theirs)
        table.append(f"| {measure} ({unit}) | {ours:,.2f} | {anchor} | {theirs:,.2f} | {r:.2f} | {better} |")
    text = "\n".join(table)
    print(text)
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    cores = os.cpu_count()
    v = versions()
    with open(args.results, "a") as results:
        results.write(f"\n## {stamp}, {platform.node()}, {cores} cores ({platform.processor() or platform.machine()})\n\n")
        results.write(f"{v['resolver']}; {v['unbound']}; {v['nsd']}; {v['dnsdist']}; dnsperf {v['dnsperf']}. "
                      f"Throughput runs {args.seconds} s, medians of {args.rounds} interleaved rounds; "
                      f"dnsperf pinned as the server (see bench/README.md).\n\n")
        if args.baseline:
            results.write(f"Baseline: `{args.baseline}`.\n\n")
        if "validating" not in args.skip:
            results.write(f"Validating lines: the world signed by ldns {v['ldns']} ({args.dnssec_algorithm}, NSEC), served by NSD "
                          "(see bench/README.md).\n\n")
        results.write(text + "\n")
    lost = [(measure, ours) for measure, unit, ours, _, _, _ in rows
            if "questions lost" in measure and ours is not None and ours > 0]
    for measure, ours in lost:
        print(f"FAIL: {measure}: {ours:,.0f} questions got no answer at all")
    if lost:
        sys.exit(1)


if __name__ == "__main__":
    main()
