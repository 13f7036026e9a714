#!/usr/bin/env python3
"""Generates the benchmark's world, in two formats from one description:
TOML zones for `resolver auth`, RFC 1035 zone files for NSD, and the query files.

    bench/gen.py OUT_DIR

The world (every server on port 53 of its own loopback address, inside the
benchmark's network namespace):
  .            a.root.bench-servers.     127.1.0.1
  bench.       a.tld.bench-servers.      127.1.1.1
  known.bench. ns.known.bench.           127.1.2.1   20,000 hosts (one known zone)
  zN.bench.    ns.zN.bench. (N < 20)     127.1.3.N+1  1,000 hosts each (delegated zones)
  mem.bench.   ns.mem.bench.             127.1.4.1   a wildcard: any name has an A record
  auth.bench.  ns.auth.bench.            127.1.9.1   10,000 hosts (authoritative benchmark)
Query files: hits.txt (1,000 names), known.txt, zones.txt (20,000 names each),
mem.txt (1,000,000 names), auth.txt (10,000 names); warm-known.txt and
warm-zones.txt resolve one name per zone first.
"""
import os
import sys

SOA = dict(refresh=7200, retry=3600, expire=1209600, minimum=300)
ZONES = 20
HOSTS_PER_ZONE = 1000
KNOWN_HOSTS = 20000
AUTH_HOSTS = 10000
MEM_NAMES = 1_000_000


def host_ip(i, base):
    return f"{base}.{(i >> 8) & 255}.{i & 255}"


class Zone:
    def __init__(self, origin, ns, ns_address, ttl=86400):
        self.origin, self.ttl = origin, ttl
        self.records = [("@", "NS", ns, None)]
        if ns.endswith("." + origin) or ns.endswith(origin) and origin != ".":
            self.records.append((ns, "A", ns_address, None))
        self.ns, self.ns_address = ns, ns_address

    def add(self, name, rtype, value, ttl=None):
        self.records.append((name, rtype, value, ttl))

    def toml(self):
        out = [f'origin = "{self.origin}"', f"ttl = {self.ttl}", "", "[soa]",
               f'mname = "{self.ns}"', f'rname = "hostmaster.{self.origin.lstrip(".")}"'
               if self.origin != "." else 'rname = "hostmaster.root."', "serial = 1"]
        out += [f"{k} = {v}" for k, v in SOA.items()]
        for name, rtype, value, ttl in self.records:
            out += ["", "[[records]]", f'name = "{name}"', f'type = "{rtype}"', f'value = "{value}"']
            if ttl is not None:
                out.append(f"ttl = {ttl}")
        return "\n".join(out) + "\n"

    def rfc1035(self):
        rname = "hostmaster.root." if self.origin == "." else f"hostmaster.{self.origin}"
        out = [f"$ORIGIN {self.origin}", f"$TTL {self.ttl}",
               f"@ IN SOA {self.ns} {rname} 1 {SOA['refresh']} {SOA['retry']} {SOA['expire']} {SOA['minimum']}"]
        for name, rtype, value, ttl in self.records:
            out.append(f"{name} {'' if ttl is None else ttl} IN {rtype} {value}")
        return "\n".join(out) + "\n"


def world():
    root = Zone(".", "a.root.bench-servers.", "127.1.0.1", ttl=518400)
    root.add("a.root.bench-servers.", "A", "127.1.0.1")
    root.add("bench.", "NS", "a.tld.bench-servers.", 172800)
    root.add("a.tld.bench-servers.", "A", "127.1.1.1", 172800)
    tld = Zone("bench.", "a.tld.bench-servers.", "127.1.1.1", ttl=172800)
    zones = {"root": root, "bench": tld}

    def delegate(label, address):
        zone = Zone(f"{label}.bench.", f"ns.{label}.bench.", address)
        tld.add(label, "NS", f"ns.{label}.bench.")
        tld.add(f"ns.{label}", "A", address)
        zones[label] = zone
        return zone

    known = delegate("known", "127.1.2.1")
    for i in range(KNOWN_HOSTS):
        known.add(f"h{i}", "A", host_ip(i, "10.2"))
    for z in range(ZONES):
        zone = delegate(f"z{z}", f"127.1.3.{z + 1}")
        for i in range(HOSTS_PER_ZONE):
            zone.add(f"h{i}", "A", host_ip(i, f"10.3"))
    mem = delegate("mem", "127.1.4.1")
    mem.add("*", "A", "10.4.0.1")
    auth = delegate("auth", "127.1.9.1")
    for i in range(AUTH_HOSTS):
        auth.add(f"h{i}", "A", host_ip(i, "10.9"))
    return zones


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(out):
    zones = world()
    os.makedirs(f"{out}/toml", exist_ok=True)
    os.makedirs(f"{out}/nsd", exist_ok=True)
    for key, zone in zones.items():
        with open(f"{out}/toml/{key}.toml", "w") as f:
            f.write(zone.toml())
        with open(f"{out}/nsd/{key}.zone", "w") as f:
            f.write(zone.rfc1035())
    # The authoritative benchmark serves auth.bench. alone.
    os.makedirs(f"{out}/toml-auth", exist_ok=True)
    with open(f"{out}/toml-auth/auth.toml", "w") as f:
        f.write(zones["auth"].toml())
    write(f"{out}/hits.txt", [f"h{i}.known.bench. A" for i in range(1000)])
    write(f"{out}/warm-known.txt", ["h0.known.bench. A"])
    write(f"{out}/known.txt", [f"h{i}.known.bench. A" for i in range(1, KNOWN_HOSTS)])
    write(f"{out}/warm-zones.txt", ["bench. NS"])
    write(f"{out}/zones.txt", [f"h{i}.z{z}.bench. A" for i in range(HOSTS_PER_ZONE) for z in range(ZONES)])
    write(f"{out}/mem.txt", [f"n{i}.mem.bench. A" for i in range(MEM_NAMES)])
    write(f"{out}/auth.txt", [f"h{i}.auth.bench. A" for i in range(AUTH_HOSTS)])


if __name__ == "__main__":
    main(sys.argv[1])
