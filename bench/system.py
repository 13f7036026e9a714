"""The machinery under every line: the network namespace the benchmark runs
in, the processes it starts there (stopped by PID), their CPU time, waiting
until a server answers, and how the two cores are shared."""
import os
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Another build with RESOLVER=/path/to/resolver (bench/run still builds this tree's).
RESOLVER = os.environ.get("RESOLVER", os.path.join(ROOT, "target", "release", "resolver"))
LISTEN = ("127.0.0.1", 5353)
AUTH_ADDRESS = "127.1.9.1"


def log(text):
    print(text, file=sys.stderr, flush=True)


# The one-at-a-time client's CPU (bench/latency.c), whatever the server's thread count:
# with 2 threads the server may then run beside it or not, as the kernel schedules.
ONE_CLIENT_CPUS = "1"


def pinning(threads):
    """(server CPUs, client and lab CPUs): with one thread the server has
    CPU 0 and the client CPU 1; with two everything shares CPUs 0-1."""
    return ("0", "1") if threads == 1 else ("0-1", "0-1")


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
    """A server started in the namespace; stopped with SIGTERM, by PID.
    nsenter and taskset exec the server, so the PID is the server's."""

    def __init__(self, namespace, cpus, args, log_path):
        self.log_path = log_path
        self.log = open(log_path, "w")
        self.popen = subprocess.Popen(namespace.command(cpus, *args), stdout=self.log, stderr=subprocess.STDOUT)

    def pids(self):
        """The server's PID and those of every process under it (NSD answers from forked children)."""
        return [self.popen.pid, *descendants(self.popen.pid)]

    def cpu_seconds(self, fields_of=(11, 12)):
        """User and system CPU time used so far by the server and every
        process under it; system time alone with `fields_of=(12,)`."""
        return sum(cpu_of(pid, fields_of) for pid in self.pids())

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
    """A server started in the namespace, ready once `address` answers
    `probe`: one process, or several sharing a port (SO_REUSEPORT)."""
    processes = ()

    def launch(self, args, log_name, address, probe, copies=1):
        self.processes = []
        for copy in range(copies):
            name = log_name if copies == 1 else log_name.replace(".log", f"-{copy}.log")
            self.processes.append(Process(self.namespace, self.cpus, args, os.path.join(self.work, name)))
        for process in self.processes:
            wait_until_answering(self.namespace, address, probe, process=process)

    def pids(self):
        """Every PID of the server (its processes and theirs)."""
        return [pid for process in self.processes for pid in process.pids()]

    def cpu_seconds(self, fields_of=(11, 12)):
        """User and system CPU seconds of all the server's processes; system time alone with (12,)."""
        return sum(process.cpu_seconds(fields_of) for process in self.processes)

    def rss_kib(self):
        return sum(process.rss_kib() for process in self.processes)

    def stop(self):
        """Stops the server, if it started, and returns its log."""
        return "".join(process.stop() for process in self.processes)
