"""A real one-node SLURM for the tests: munged, slurmctld and slurmd on localhost, all state in one folder.

`SlurmCluster(folder).start()` writes slurm.conf for this machine (its CPUs and memory, the node named
after this host), starts the three daemons in the foreground as child processes, and waits until the
node is idle; `stop()` ends them. Clients (sbatch, scontrol, scancel) find it through SLURM_CONF.

There is no accounting database (slurmdbd) here, and submitit watches its jobs with
`sacct -o JobID,State,NodeList --parsable2 -j <id>`: the cluster puts a stand-in `sacct` first on PATH
that answers that one question from `scontrol show job` (finished jobs are kept for MinJobAge).
Real clusters have accounting; the product code calls the real sacct.

Run this file to start a cluster by hand: `python tests/sweeps/slurm_cluster.py /tmp/slurm` (Ctrl-C stops it).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

DAEMONS = {"munged": "/usr/sbin/munged", "slurmctld": "/usr/sbin/slurmctld", "slurmd": "/usr/sbin/slurmd"}
CLIENTS = ("sbatch", "scontrol", "scancel", "squeue")
SACCT_STAND_IN = '''#!{python}
"""sacct for a cluster without accounting: `-o JobID,State,NodeList --parsable2 -j ID ...` from scontrol."""
import subprocess, sys
args, ids = sys.argv[1:], []
for i, arg in enumerate(args):
    if arg == "-j":
        ids.append(args[i + 1])
print("JobID|State|NodeList")
for job in ids:
    out = subprocess.run(["scontrol", "-o", "show", "job", job], capture_output=True, text=True).stdout
    for line in out.splitlines():
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        if fields.get("ArrayTaskId") and "-" not in fields["ArrayTaskId"] and "," not in fields["ArrayTaskId"]:
            name = fields["ArrayJobId"] + "_" + fields["ArrayTaskId"]
        elif fields.get("ArrayTaskId"):
            name = fields["ArrayJobId"] + "_[" + fields["ArrayTaskId"].split("%")[0] + "]"
        else:
            name = fields.get("JobId", job)
        print(f"{{name}}|{{fields.get('JobState', 'UNKNOWN')}}|{{fields.get('NodeList', '')}}")
'''


def missing() -> str | None:
    """Why a live cluster cannot start here (None: it can)."""
    if os.geteuid() != 0:
        return "a test SLURM cluster needs root (munged and slurmd run as root)"
    absent = [path for path in DAEMONS.values() if not os.access(path, os.X_OK)]
    absent += [name for name in CLIENTS if shutil.which(name) is None]
    if absent:
        return f"no {', '.join(absent)}: apt-get install slurm-wlm munge"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _memory_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 256  # slurmd drains a node that has less than it says
    return 1024


class SlurmCluster:
    """One node (this host) in one partition ("test"), jobs sharing the node's CPUs."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.folder / "slurm.conf"
        self.bin = self.folder / "bin"
        self.processes: list[subprocess.Popen] = []
        self.setup_s = 0.0

    @property
    def env(self) -> dict[str, str]:
        """What a client needs to reach this cluster (tests put it into os.environ)."""
        return {"SLURM_CONF": str(self.conf), "PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"}

    def write_config(self) -> None:
        f = self.folder
        for sub in ("state", "spool", "log", "bin"):
            (f / sub).mkdir(parents=True, exist_ok=True)
        key = f / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o600)
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=ganlabtest",
                    f"SlurmctldHost={self.node}(127.0.0.1)",
                    f"SlurmctldPort={_free_port()}",
                    f"SlurmdPort={_free_port()}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    f"AuthInfo=socket={f / 'munge.socket'},cred_expire=5",  # a requeued job waits this long (default 120 s)
                    f"StateSaveLocation={f / 'state'}",
                    f"SlurmdSpoolDir={f / 'spool'}",
                    f"SlurmctldPidFile={f / 'slurmctld.pid'}",
                    f"SlurmdPidFile={f / 'slurmd.pid'}",
                    f"SlurmctldLogFile={f / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={f / 'log' / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_CPU",
                    "SchedulerType=sched/builtin",
                    "SchedulerParameters=sched_interval=1",  # a requeued job starts once eligible (default: a 60 s pass)
                    "MpiDefault=none",
                    "ReturnToService=2",
                    "MinJobAge=3600",  # finished jobs stay visible to scontrol (the sacct stand-in)
                    "KillWait=5",  # SIGTERM to SIGKILL at a time limit or scancel
                    "InactiveLimit=0",
                    "SlurmdTimeout=300",
                    f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={_memory_mb()} State=UNKNOWN",
                    f"PartitionName=test Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            )
        )
        sacct = self.bin / "sacct"
        sacct.write_text(SACCT_STAND_IN.format(python=sys.executable))
        sacct.chmod(0o755)

    def _daemon(self, *command: str) -> None:
        log = open(self.folder / "log" / f"{Path(command[0]).name}.out", "ab")
        self.processes.append(
            subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env},
                             start_new_session=True)
        )  # fmt: skip

    def start(self, timeout: float = 60.0) -> SlurmCluster:
        started = time.perf_counter()
        self.write_config()
        f = self.folder
        self._daemon(
            DAEMONS["munged"], "--foreground", "--force", f"--socket={f / 'munge.socket'}", f"--key-file={f / 'munge.key'}",
            f"--pid-file={f / 'munged.pid'}", f"--log-file={f / 'log' / 'munged.log'}", f"--seed-file={f / 'munged.seed'}",
        )  # fmt: skip
        self._wait(lambda: (f / "munge.socket").exists(), timeout, "munged")
        self._daemon(DAEMONS["slurmctld"], "-D", "-i", "-f", str(self.conf))
        self._wait(lambda: self._scontrol("ping").returncode == 0 and "UP" in self._scontrol("ping").stdout, timeout, "slurmctld")
        self._daemon(DAEMONS["slurmd"], "-D", "-f", str(self.conf), "-N", self.node)
        self._wait(lambda: self.node_state() == "IDLE", timeout, "slurmd (node idle)")
        self.setup_s = time.perf_counter() - started
        return self

    def _scontrol(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["scontrol", *args], capture_output=True, text=True, env={**os.environ, **self.env})

    def node_state(self) -> str:
        out = self._scontrol("-o", "show", "node", self.node).stdout
        fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
        return fields.get("State", "")

    def _wait(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            dead = [p for p in self.processes if p.poll() is not None]
            if dead:
                break
            time.sleep(0.2)
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-1500:]}" for p in sorted((self.folder / "log").glob("*")))
        self.stop()
        raise RuntimeError(f"test SLURM cluster: {what} did not come up within {timeout:.0f} s\n{logs}")

    def _squeue(self) -> str:
        return subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True, env={**os.environ, **self.env}).stdout.strip()

    def job_fields(self, job_id: str) -> dict[str, str]:
        """`scontrol show job` of one job (an array task as <array id>_<task>) as a dict."""
        out = self._scontrol("-o", "show", "job", job_id).stdout
        return dict(f.split("=", 1) for f in out.split() if "=" in f)

    def stop(self) -> None:
        """Cancel what still runs, then end the daemons (slurmd first), each by its own pid."""
        if self.processes and all(p.poll() is None for p in self.processes):
            subprocess.run(["scancel", "--partition=test"], capture_output=True, env={**os.environ, **self.env})
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and self._squeue():
                time.sleep(0.5)
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self.processes.clear()


if __name__ == "__main__":
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/gan-lab-slurm")
    reason = missing()
    if reason:
        sys.exit(reason)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    cluster = SlurmCluster(folder).start()
    print(f"up in {cluster.setup_s:.1f} s; use it with: export SLURM_CONF={cluster.conf} PATH={cluster.bin}:$PATH")
    try:
        signal.pause()
    finally:
        cluster.stop()
