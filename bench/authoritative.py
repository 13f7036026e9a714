"""The authoritative servers: the benchmark world behind every resolver
(`resolver auth` serving bench/gen.py's zones, or NSD serving the signed
world), and the contenders of the authoritative line (ours and NSD)."""
import os
import re
import subprocess

from system import AUTH_ADDRESS, RESOLVER, Process, Server, wait_until_answering


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
