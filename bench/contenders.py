"""The recursive resolvers measured side by side: ours, Unbound (the anchor),
Knot Resolver and PowerDNS Recursor (when installed), each with a
validating twin for the validating lines, and dnsdist in front of two.

Every one is configured alike: the benchmark world's root as its only root
hint, the same number of threads (Knot Resolver: as many processes, sharing
one cache, as its documentation scales it), no QNAME minimisation, minimal
responses, EDNS 1232, no prefetch, no 0x20, no DNSSEC unless validating
(then the signed world's root key as the only trust anchor), caches far
larger than the data, answering on `listen`."""
import os
import shutil

from system import LISTEN, RESOLVER, Server, ServerExited

ROOT_HINT = ("a.root.bench-servers.", "127.1.0.1")


def trust_anchor(work):
    """The signed world's trust anchor: the root's DNSKEY, one line (bench/sign.py)."""
    with open(os.path.join(work, "signed", "root.key")) as f:
        return f.read().strip()


def trust_anchor_ds(work):
    """The root key's DS record's data ("tag algorithm digest-type digest", bench/sign.py)."""
    with open(os.path.join(work, "signed", "root.ds")) as f:
        return f.read().split(" DS ", 1)[1].strip()


def root_hints(work):
    """A root hints file naming the benchmark world's root server."""
    hints = os.path.join(work, "root.hints")
    with open(hints, "w") as f:
        f.write(f". 518400 IN NS {ROOT_HINT[0]}\n{ROOT_HINT[0]} 518400 IN A {ROOT_HINT[1]}\n")
    return hints


class Recursive(Server):
    """A recursive resolver with `threads` threads on `cpus`, answering on `listen`."""
    name = None
    program = None  # what must be installed for it to run

    def __init__(self, namespace, work, threads, cpus, listen=LISTEN):
        self.namespace, self.work, self.threads, self.cpus, self.listen = namespace, work, threads, cpus, listen
        self.label = f"{self.name.replace(' ', '-')}-{threads}-{listen[1]}"
        self.configure()

    @classmethod
    def available(cls):
        return cls.program is None or shutil.which(cls.program) is not None

    def configure(self):
        """Writes the configuration files."""


class Ours(Recursive):
    name = "resolver"
    binary = RESOLVER
    cache = '[cache]\nsize = "4G"\n'

    def configure(self):
        self.config = os.path.join(self.work, f"{self.label}.toml")
        with open(self.config, "w") as f:
            f.write(f"""[server]
listen = ["{self.listen[0]}:{self.listen[1]}"]
threads = {self.threads}
udp_sockets = {self.threads}
pending_answers = 100000
pending_per_client = 100000
rate_limit = 0
[resolver]
roots = ["{ROOT_HINT[1]}"]
port = 53
qname_minimisation = false
{self.cache}[log]
level = "warn"
{self.dnssec()}""")

    def dnssec(self):
        """The configuration's `[dnssec]` table, if any."""
        return ""

    def start(self):
        self.launch([self.binary, "serve", "--config", self.config], f"{self.label}.log", self.listen, "bench.")


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


class Unbound(Recursive):
    name = "unbound"
    program = "unbound"
    modules = "iterator"

    def configure(self):
        slabs = 1 << max(0, (self.threads - 1).bit_length())
        self.config = os.path.join(self.work, f"{self.label}.conf")
        with open(self.config, "w") as f:
            f.write(f"""server:
    interface: {self.listen[0]}@{self.listen[1]}
    port: {self.listen[1]}
    num-threads: {self.threads}
    so-reuseport: yes
    do-daemonize: no
    chroot: ""
    username: ""
    directory: "{self.work}"
    pidfile: ""
    use-syslog: no
    logfile: ""
    verbosity: 0
    access-control: 127.0.0.0/8 allow
    do-not-query-localhost: no
    do-ip6: no
    root-hints: "{root_hints(self.work)}"
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
        self.launch(["unbound", "-d", "-c", self.config], f"{self.label}.log", self.listen, "bench.")


class UnboundValidating(Unbound):
    """Unbound validating, with the signed world's root key as its trust anchor."""
    name = "unbound validating"
    modules = "validator iterator"

    def validation(self):
        return f'    trust-anchor: "{trust_anchor(self.work)}"\n'


class KnotResolver(Recursive):
    """Knot Resolver 5 (kresd): single-threaded, so `threads` processes on
    one SO_REUSEPORT port sharing one cache (LMDB), in memory (tmpfs, as
    its documentation advises for speed) and emptied before each start."""
    name = "knot-resolver"
    program = "kresd"

    def configure(self):
        self.rundir = os.path.join(self.work, self.label)
        memory = "/dev/shm" if os.path.isdir("/dev/shm") else self.rundir
        self.cache_dir = os.path.join(memory, f"resolver-bench-{os.getpid()}-{self.label}-cache")
        os.makedirs(self.rundir, exist_ok=True)
        with open(os.path.join(self.rundir, "config"), "w") as f:
            f.write(f"""net.ipv6 = false
net.listen('{self.listen[0]}', {self.listen[1]}, {{ kind = 'dns' }})
net.bufsize(1232)
cache.open(4 * GB, 'lmdb://{self.cache_dir}')
trust_anchors.remove('.')
{self.validation()}option('NO_MINIMIZE', true)
option('NO_0X20', true)
option('ALLOW_LOCAL', true)
modules.unload('detect_time_skew')
modules.unload('detect_time_jump')
modules.load('hints > iterate')
hints.root({{['{ROOT_HINT[0]}'] = '{ROOT_HINT[1]}'}})
""")

    def validation(self):
        """The trust anchor, if validating (none: kresd does not validate)."""
        return ""

    def start(self):
        shutil.rmtree(self.cache_dir, ignore_errors=True)  # cold: an LMDB cache outlives its processes
        self.launch(["kresd", "-n", "-q", "-c", "config", self.rundir], f"{self.label}.log", self.listen, "bench.",
                    copies=self.threads)

    def stop(self):
        text = super().stop()
        shutil.rmtree(self.cache_dir, ignore_errors=True)
        return text


class KnotResolverValidating(KnotResolver):
    """Knot Resolver validating, with the signed world's root key as its only trust anchor."""
    name = "knot-resolver validating"

    def validation(self):
        return f"trust_anchors.add('{trust_anchor(self.work)}')\n"


class PowerDnsRecursor(Recursive):
    """PowerDNS Recursor 4: `threads` worker threads, each with its own
    SO_REUSEPORT socket (no distributor thread, as Unbound and ours)."""
    name = "pdns-recursor"
    program = "pdns_recursor"
    dnssec = "off"  # no DO bit, no validation

    def configure(self):
        self.config_dir = os.path.join(self.work, self.label)
        os.makedirs(self.config_dir, exist_ok=True)
        with open(os.path.join(self.config_dir, "recursor.conf"), "w") as f:
            f.write(f"""local-address={self.listen[0]}
local-port={self.listen[1]}
threads={self.threads}
reuseport=yes
pdns-distributes-queries=no
hint-file={root_hints(self.work)}
allow-from=127.0.0.0/8
dont-query=
qname-minimization=no
dnssec={self.dnssec}
{self.validation()}max-cache-entries=4000000
max-packetcache-entries=4000000
refresh-on-ttl-perc=0
edns-outgoing-bufsize=1232
udp-truncation-threshold=1232
security-poll-suffix=
daemon=no
write-pid=no
socket-dir={self.config_dir}
disable-syslog=yes
quiet=yes
loglevel=3
""")

    def validation(self):
        """Trust anchor settings, if validating."""
        return "aggressive-nsec-cache-size=0\n"

    def start(self):
        self.launch(["pdns_recursor", f"--config-dir={self.config_dir}"], f"{self.label}.log", self.listen, "bench.")


class PowerDnsRecursorValidating(PowerDnsRecursor):
    """PowerDNS Recursor validating, with the signed world's root key (as a DS) as its only trust anchor."""
    name = "pdns-recursor validating"
    dnssec = "validate"

    def validation(self):
        lua = os.path.join(self.config_dir, "anchors.lua")
        with open(lua, "w") as f:
            f.write(f"clearTA('.')\naddTA('.', '{trust_anchor_ds(self.work)}')\n")
        return f"lua-config-file={lua}\n"


PEERS = (KnotResolver, PowerDnsRecursor)
VALIDATING_PEERS = (KnotResolverValidating, PowerDnsRecursorValidating)


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
                    'setServerPolicy(leastOutstanding)\nsetSecurityPollSuffix("")\nsetUDPSocketBufferSizes(4194304, 4194304)\n')

    def start(self):
        self.launch(["dnsdist", "--supervised", "--disable-syslog", "-C", self.config], "dnsdist.log",
                    LISTEN, "bench.")
