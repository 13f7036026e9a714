#!/usr/bin/env python3
"""Signs the part of bench/gen.py's world that the validating line walks,
with ldns (Debian's ldnsutils), into a folder of its own:

    bench/sign.py WORK_DIR [ALGORITHM]   # reads WORK_DIR/nsd/*.zone, writes WORK_DIR/signed/

One key per zone (ALGORITHM: ECDSAP256SHA256, algorithm 13, by default,
the more used of the modern two, or ED25519, 15), KSK-flagged (257) and
used as a combined signing key; NSEC; signatures valid from an hour ago
for 30 days.
Children first, so that each child's DS is in its parent before the parent
is signed (RFC 4035 §2.4):
  known.bench., z0.bench. ... z19.bench.  (mem. and auth.bench. stay unsigned:
  insecure delegations, proven by bench.'s NSEC)
  bench.   with the DS of each signed child
  .        with the DS of bench.
Written: signed/zones/{root,bench,known,zN}.zone (what NSD serves),
signed/keys/ (ldns-keygen's files), and the trust anchor of both resolvers,
the root's DNSKEY, in signed/root.key (and its DS in signed/root.ds), each
one line in presentation form.

One answer is made bogus on purpose: bogus.known.bench. A, whose address is
changed after signing, so that its RRSIG no longer matches (RFC 4035
§5.3.3). A validator must answer it SERVFAIL; bench.py checks that it does.
"""
import datetime
import os
import subprocess
import sys

ZONES = 20
LEAVES = ["known"] + [f"z{z}" for z in range(ZONES)]
BOGUS = ("bogus.known.bench.", "10.2.255.254", "10.2.255.255")  # name, address signed, address served
ALGORITHMS = ("ECDSAP256SHA256", "ED25519")


def origin_of(key):
    """The zone's name for one of gen.py's zone keys."""
    return {"root": ".", "bench": "bench."}.get(key, f"{key}.bench.")


def presentation(line):
    """One record line without ldns' trailing comment, single-spaced."""
    return " ".join(line.split(";", 1)[0].split())


def spoil(path):
    """Changes BOGUS's address in a signed zone file, leaving its RRSIG."""
    with open(path) as f:
        lines = f.read().splitlines(keepends=True)
    changed = 0
    for i, line in enumerate(lines):
        fields = line.split()
        if fields[:1] == [BOGUS[0]] and fields[-2:] == ["A", BOGUS[1]]:
            lines[i] = line.replace(BOGUS[1], BOGUS[2])
            changed += 1
    if changed != 1:
        sys.exit(f"sign.py: {BOGUS[0]} A {BOGUS[1]} found {changed} times in {path}")
    with open(path, "w") as f:
        f.writelines(lines)


def run(args, cwd):
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=True).stdout


def main(work, algorithm=ALGORITHMS[0]):
    if algorithm not in ALGORITHMS:
        sys.exit(f"sign.py: algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}")
    signed = os.path.join(work, "signed")
    keys = os.path.join(signed, "keys")
    zones = os.path.join(signed, "zones")
    os.makedirs(keys, exist_ok=True)
    os.makedirs(zones, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    inception = (now - datetime.timedelta(hours=1)).strftime("%Y%m%d%H%M%S")
    expiration = (now + datetime.timedelta(days=30)).strftime("%Y%m%d%H%M%S")

    def sign(key, extra_records):
        """Signs gen.py's zone `key` with `extra_records` (the children's DS)
        added, and returns the DS of its new key, for the parent."""
        base = run(["ldns-keygen", "-a", algorithm, "-k", origin_of(key)], keys).strip()
        unsigned = os.path.join(zones, f"{key}.unsigned")
        with open(os.path.join(work, "nsd", f"{key}.zone")) as source, open(unsigned, "w") as out:
            out.write(source.read())
            out.writelines(record + "\n" for record in extra_records)
        run(["ldns-signzone", "-i", inception, "-e", expiration, "-f", os.path.join(zones, f"{key}.zone"),
             unsigned, os.path.join(keys, base)], keys)
        os.remove(unsigned)
        return base, presentation(run(["ldns-key2ds", "-n", "-2", f"{base}.key"], keys))

    leaf_ds = [sign(leaf, [f"{BOGUS[0]} IN A {BOGUS[1]}"] if leaf == "known" else [])[1] for leaf in LEAVES]
    spoil(os.path.join(zones, "known.zone"))
    _, bench_ds = sign("bench", leaf_ds)
    root_key, root_ds = sign("root", [bench_ds])
    with open(os.path.join(keys, f"{root_key}.key")) as f:
        dnskey = presentation(f.read())
    with open(os.path.join(signed, "root.key"), "w") as f:
        f.write(dnskey + "\n")
    with open(os.path.join(signed, "root.ds"), "w") as f:
        f.write(root_ds + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
