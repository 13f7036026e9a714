"""System calls per answered query, by name, for each contender: where a
change on the socket path saves (or spends). Counted over a fixed number
of queries on three loads, each contender started once per thread count:

  cold one known zone     10,000 never-asked names (h1000-h10999.known.bench.) after one name of
                          the zone, dnsperf as the cold line (10 clients, 100 outstanding);
  cache hits              10,000 cached questions (hits.txt ten times), dnsperf as the
                          cache-hit line (10 clients, 200 outstanding);
  cache hits one at a time 2,000 cached questions from bench/latency.c, one at a time (the client
                          on CPU 1, as in the latency lines).

perf stat counts the syscalls:sys_enter_NAME tracepoints of every thread of
the server's processes, enabled through perf's control FIFO just around the
load; SYSCALLS are counted by name and raw_syscalls:sys_enter counts them all
("other" is the difference): a tracepoint per system call of the kernel would
take perf half a minute to open and close. Without those tracepoints,
`strace -c -f` counts every system call by name (ptrace slows the server
many times over, so batching may differ: the results say which was used)."""
import os
import select
import signal
import subprocess
import time

from authoritative import Lab
from clients import dnsperf, one_at_a_time
from system import LISTEN, ONE_CLIENT_CPUS, log, pinning

SYSCALLS = ("recvmsg", "recvmmsg", "recvfrom", "read", "readv", "sendmsg", "sendmmsg", "sendto", "write", "writev",
            "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "poll", "ppoll", "select", "pselect6",
            "io_uring_enter", "futex", "sched_yield", "nanosleep", "clock_nanosleep", "clock_gettime",
            "gettimeofday", "getrandom", "socket", "connect", "bind", "close", "setsockopt", "getsockopt",
            "getsockname", "fcntl", "ioctl", "mmap", "munmap", "mprotect", "madvise", "brk", "mremap", "msync",
            "fsync", "fdatasync", "pread64", "pwrite64", "lseek",
            "timerfd_settime", "eventfd2", "accept4", "shutdown", "getpid", "gettid", "rt_sigprocmask", "openat",
            "tgkill")
LOADS = ("cold one known zone", "cache hits", "cache hits one at a time")
COLD_NAMES = (999, 10999)  # lines of known.txt: h1000 ... h10999, none of them in hits.txt
HITS_RUNS = 10
ONE_AT_A_TIME = 2000
TIMEOUT = 60


class PerfCount:
    """System calls of every thread of `pids`, counted between start() and
    stop() by perf stat (started disabled, enabled through its control FIFO)."""
    method = "perf stat -e 'syscalls:sys_enter_NAME' -e raw_syscalls:sys_enter"

    def __init__(self, pids, work):
        self.pids, self.work = pids, work

    @staticmethod
    def works():
        """Whether perf can count the syscalls tracepoints here."""
        try:
            probe = subprocess.run(["perf", "stat", "-x,", "-e", "syscalls:sys_enter_getpid", "-e",
                                    "raw_syscalls:sys_enter", "true"], capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return False
        return probe.returncode == 0 and "not supported" not in probe.stderr and "<not" not in probe.stderr

    def start(self):
        paths = [os.path.join(self.work, f"perf-{name}") for name in ("control", "ack")]
        for path in paths:
            if os.path.exists(path):
                os.remove(path)
            os.mkfifo(path)
        self.control, self.ack = (os.open(path, os.O_RDWR) for path in paths)
        self.output = os.path.join(self.work, "perf-stat.csv")
        events = ["-e", "raw_syscalls:sys_enter"] + [arg for name in SYSCALLS for arg in ("-e", f"syscalls:sys_enter_{name}")]
        self.perf = subprocess.Popen(["perf", "stat", "-x,", "-o", self.output, "-D", "-1", "--control",
                                      f"fd:{self.control},{self.ack}", *events, "-p", ",".join(map(str, self.pids))],
                                     pass_fds=(self.control, self.ack), stderr=subprocess.PIPE, text=True)
        self.command("enable")

    def command(self, word):
        """Sends perf a control command and waits for its acknowledgement."""
        os.write(self.control, f"{word}\n".encode())
        ready, _, _ = select.select([self.ack], [], [], TIMEOUT)
        if not ready:
            self.perf.kill()
            raise RuntimeError(f"perf did not acknowledge {word!r}: {self.perf.communicate()[1]}")
        os.read(self.ack, 64)

    def stop(self):
        """Stops counting: {syscall name: count}, "other" for the rest."""
        self.command("disable")
        self.perf.send_signal(signal.SIGINT)
        _, errors = self.perf.communicate(timeout=TIMEOUT)
        os.close(self.control)
        os.close(self.ack)
        counts, total = {}, 0
        with open(self.output) as f:
            for line in f:
                fields = line.strip().split(",")
                if len(fields) < 3 or not fields[0].isdigit():
                    continue
                if fields[2] == "raw_syscalls:sys_enter":
                    total = int(fields[0])
                elif int(fields[0]):
                    counts[fields[2].removeprefix("syscalls:sys_enter_")] = int(fields[0])
        if self.perf.returncode not in (0, -signal.SIGINT) or not total:
            raise RuntimeError(f"perf stat failed ({self.perf.returncode}): {errors}")
        if total > sum(counts.values()):
            counts["other"] = total - sum(counts.values())
        return counts


class StraceCount:
    """System calls of every thread of `pids`, counted by `strace -c -f`
    from the moment every thread is traced until stop()."""
    method = "strace -c -f"

    def __init__(self, pids, work):
        self.pids, self.output = pids, os.path.join(work, "strace-c.txt")

    def start(self):
        args = ["strace", "-c", "-f", "-q", "-o", self.output]
        for pid in self.pids:
            args += ["-p", str(pid)]
        self.strace = subprocess.Popen(args, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + TIMEOUT
        while not all(traced(pid) for pid in self.pids):
            if time.monotonic() > deadline or self.strace.poll() is not None:
                self.strace.kill()
                raise RuntimeError(f"strace did not attach: {self.strace.communicate()[1]}")
            time.sleep(0.05)

    def stop(self):
        self.strace.send_signal(signal.SIGINT)
        self.strace.communicate(timeout=TIMEOUT)
        counts = {}
        with open(self.output) as f:
            for line in f:
                fields = line.split()
                if len(fields) >= 5 and fields[1].replace(".", "").isdigit() and fields[-1] != "total":
                    counts[fields[-1]] = int(fields[3])
        return counts


def traced(pid):
    """Whether every thread of `pid` has a tracer."""
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/status") as status:
            if any(line.startswith("TracerPid:") and line.split()[1] == "0" for line in status):
                return False
    return True


def counter_class():
    """PerfCount where perf can count system calls, else StraceCount."""
    return PerfCount if PerfCount.works() else StraceCount


def per_query(counts, answered):
    return {name: count / max(answered, 1) for name, count in counts.items()}


def bench_syscalls(namespace, work, client, contender_class, threads, counter):
    """One contender with `threads` threads: {load: {syscall: per answered
    query}} for LOADS, and the questions lost."""
    server_cpus, client_cpus = pinning(threads)
    cold = os.path.join(work, "syscalls-cold.txt")
    with open(os.path.join(work, "known.txt")) as source, open(cold, "w") as out:
        out.writelines(source.readlines()[COLD_NAMES[0]:COLD_NAMES[1]])
    hits = os.path.join(work, "hits.txt")
    lab = Lab(namespace, work, client_cpus)
    lab.start()
    contender = contender_class(namespace, work, threads, server_cpus)
    per_load, lost = {}, 0
    try:
        contender.start()
        lost += dnsperf(namespace, client_cpus, LISTEN, os.path.join(work, "warm-known.txt"), runs=1, clients=1,
                        outstanding=1)["lost"]

        def counted(load, run):
            nonlocal lost
            count = counter(contender.pids(), work)
            count.start()
            answered, missing = run()
            per_load[load] = per_query(count.stop(), answered)
            lost += missing
            log(f"  {contender.name}, {threads} thr, {load}: {sum(per_load[load].values()):.2f} per answer")

        def dnsperf_run(query_file, **options):
            result = dnsperf(namespace, client_cpus, LISTEN, query_file, **options)
            return result["completed"], result["lost"]

        def single():
            [result] = one_at_a_time(namespace, ONE_CLIENT_CPUS, client, [LISTEN], hits, ONE_AT_A_TIME)
            return len(result["rtt_us"]), result["lost"]
        counted(LOADS[0], lambda: dnsperf_run(cold, runs=1, clients=10, outstanding=100))
        lost += dnsperf(namespace, client_cpus, LISTEN, hits, runs=2)["lost"]  # warm: 1,000 names cached
        counted(LOADS[1], lambda: dnsperf_run(hits, runs=HITS_RUNS, clients=10, outstanding=200))
        counted(LOADS[2], single)
    finally:
        contender.stop()
        lab.stop()
    return {"per_load": per_load, "lost": lost}
