"""Run a student's kernel in a bubblewrap sandbox.

What the kernel can see: a read-only system (/usr, /lib, /bin, fonts), the Python installation
and the course's .venv (read-only), the helper package ``sidebyside`` (read-only, on PYTHONPATH),
its own empty scratch folder as the working directory, a private /tmp, and the folder holding its
connection file and IPC sockets. Nothing else of the host: no solutions, no hidden tests, no
gradebook, no configuration, no other student's work.

How it is held: new PID, network (no interfaces at all), IPC and UTS namespaces; it dies with the
grader (``--die-with-parent``); it runs as an unprivileged uid with every capability dropped and
``no_new_privs``; rlimits cap memory (RLIMIT_DATA, which, unlike RLIMIT_AS, lets the frameworks
reserve address space), file size, open files, processes (counted per uid: each worker slot has
its own uid) and CPU time; thread pools are capped through the environment.
"""

from __future__ import annotations

import fcntl
import os
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .config import SandboxLimits as Limits

ROOT = Path(__file__).resolve().parents[1]
HELPER_PACKAGE = ROOT / "course" / "sidebyside"
SANDBOX_UIDS = range(61000, 65000)  # one per running kernel; no passwd entry needed
LEASES = Path(tempfile.gettempdir()) / "autograder-uid-leases"


class SandboxUnavailable(RuntimeError):
    """bubblewrap (or what it needs) is missing: refuse rather than run student code unconfined."""


def processes_of(uid: int) -> list[int]:
    pids = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            for line in status.read_text().splitlines():
                if line.startswith("Uid:"):
                    if int(line.split()[1]) == uid:
                        pids.append(int(status.parent.name))
                    break
        except (OSError, ValueError):
            continue
    return pids


def wait_for_uid_to_vanish(uid: int, timeout: float = 10.0, grace: float = 2.0) -> None:
    """The sandbox dies with its PID namespace, but the kernel reaps thousands of forked
    processes asynchronously, and the next kernel under this uid would hit RLIMIT_NPROC meanwhile.
    The uid is leased to this sandbox alone, so whatever still runs under it after a grace period
    is killed outright."""
    deadline = time.monotonic() + timeout
    grace = time.monotonic() + grace
    while (pids := processes_of(uid)) and time.monotonic() < deadline:
        if time.monotonic() > grace:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.1)


def reap_orphans() -> int:
    """Kill processes left under a sandbox uid that no running sandbox holds (a grader killed while
    a kernel was starting can leave one); returns how many were killed."""
    uids = set()
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            line = next(x for x in status.read_text().splitlines() if x.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        uid = int(line.split()[1])
        if uid in SANDBOX_UIDS:
            uids.add(uid)
    killed = 0
    for uid in uids:
        LEASES.mkdir(mode=0o700, exist_ok=True)
        with open(LEASES / str(uid), "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live sandbox owns it
            for pid in processes_of(uid):
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except OSError:
                    pass
    return killed


class UidLease:
    """An unprivileged uid that no other sandbox on this machine uses while the lease is held
    (an exclusive flock per uid, so concurrent graders, workers and batches never share one)."""

    def __init__(self):
        LEASES.mkdir(mode=0o700, exist_ok=True)
        start = random.randrange(len(SANDBOX_UIDS))
        for i in range(len(SANDBOX_UIDS)):
            uid = SANDBOX_UIDS[(start + i) % len(SANDBOX_UIDS)]
            f = open(LEASES / str(uid), "w")
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.close()
                continue
            self.uid, self._file = uid, f
            return
        raise SandboxUnavailable("every sandbox uid is in use")

    def release(self) -> None:
        self._file.close()  # closing drops the lock


def bwrap_path() -> str:
    path = shutil.which("bwrap")
    if not path:
        raise SandboxUnavailable(
            "bubblewrap is not installed, so student code cannot be sandboxed. Install it "
            "(Debian/Ubuntu: apt-get install bubblewrap) or, only for code you trust, pass --unsafe-no-sandbox.")
    return path


def _parents(path: Path) -> list[str]:
    """bwrap creates missing parents of a mount point as root-only folders: make them traversable."""
    args = []
    for parent in reversed(path.parents[:-1]):  # skip "/"
        args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _ro(path: Path, target: Path | None = None) -> list[str]:
    target = target or path
    return _parents(target) + ["--ro-bind", str(path), str(target)]


def python_prefixes() -> list[Path]:
    """The .venv and the installation its interpreter comes from."""
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    return sorted(prefixes)


def python_executable() -> str:
    """This interpreter by a path the sandbox can see: through the resolved environment folder
    (a .venv that is a symlink is mounted at its real place)."""
    exe = Path(sys.executable)
    if exe.parent.parent == Path(sys.prefix):
        return str(Path(sys.prefix).resolve() / exe.parent.name / exe.name)
    return str(exe)


def sandbox_env(limits: Limits) -> dict[str, str]:
    n = str(limits.threads)
    return {
        "HOME": "/tmp", "TMPDIR": "/tmp", "PATH": f"{Path(python_executable()).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8", "PYTHONPATH": "/opt/course", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0",
        "MPLCONFIGDIR": "/tmp/matplotlib", "MPLBACKEND": "agg", "CUDA_VISIBLE_DEVICES": "",
        "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "TQDM_DISABLE": "1",
        "OMP_NUM_THREADS": n, "MKL_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n,
        "TF_NUM_INTRAOP_THREADS": n, "TF_NUM_INTEROP_THREADS": n, "TORCHINDUCTOR_COMPILE_THREADS": "1",
    }


def _isolation() -> list[str]:
    """The bwrap arguments every sandbox shares: its own namespaces, a private /proc, /dev, /dev/shm
    and /tmp, the system, the Python installation and the helper package read-only."""
    args = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session",
            "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm",
            "--perms", "1777", "--tmpfs", "/tmp", "--perms", "0755", "--dir", "/etc"]  # /etc: enterable
    for system in ("/usr", "/bin", "/lib", "/lib64", "/etc/ld.so.cache", "/etc/fonts", "/etc/alternatives"):
        if Path(system).exists():
            args += ["--ro-bind", system, system]
    for prefix in python_prefixes():
        args += _ro(prefix)
    return args + _ro(HELPER_PACKAGE, Path("/opt/course/sidebyside"))


def _environment(limits: Limits) -> list[str]:
    args = ["--clearenv"]
    for key, value in sandbox_env(limits).items():
        args += ["--setenv", key, value]
    return args


def command(argv: list[str], scratch: Path, runtime: Path, uid: int, limits: Limits) -> list[str]:
    """The command line that runs ``argv`` (a kernel) inside the sandbox, under hard rlimits.

    ``scratch`` becomes the kernel's working directory (/home/student); ``runtime`` holds the
    connection file and IPC sockets and is mounted at the same path. When the grader runs as root
    both must be owned by ``uid``, which the kernel runs as; otherwise the kernel keeps the
    grader's own (unprivileged) uid inside a user namespace.
    """
    as_root = os.geteuid() == 0
    rlimits = [shutil.which("prlimit") or "/usr/bin/prlimit", f"--data={limits.memory_bytes}",
               f"--fsize={limits.file_bytes}", f"--nofile={limits.open_files}", f"--nproc={limits.processes}",
               f"--cpu={limits.cpu_seconds}", "--core=0", "--"]
    args = [*rlimits, bwrap_path(), *([] if as_root else ["--unshare-user", "--cap-drop", "ALL"]), *_isolation()]
    args += _parents(runtime) + ["--bind", str(runtime), str(runtime)]
    args += ["--perms", "0755", "--dir", "/home", "--bind", str(scratch), "/home/student", "--chdir", "/home/student"]
    args += _environment(limits) + ["--"]
    if as_root:  # drop to the worker slot's own uid, with no capabilities and no way back
        args += [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={uid}",
                 "--clear-groups", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
    return args + list(argv)


# What the zygote (fast_start.py, zygote.py) keeps to build each child's sandbox; it never runs student code.
ZYGOTE_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_NET_ADMIN")


def zygote_command(argv: list[str], base: Path, limits: Limits) -> list[str]:
    """The command line of a worker slot's zygote: the same sandbox as a kernel's (same mounts,
    namespaces and environment), so that it can give each forked child its own namespaces, mounts,
    rlimits and uid (see zygote.py). ``base`` holds the children's folders (0711: a child's own
    folders are 0700). As root it runs as root with only ``ZYGOTE_CAPS``, and each child gets its
    own leased uid. Not root it is exactly a fresh kernel's sandbox (a user namespace, every
    capability dropped): each child then creates its own user namespace inside it, mapping the same
    single uid, and keeps the grader's uid, as a fresh non-root kernel does."""
    privileges = ["--cap-drop", "ALL"]
    if os.geteuid() == 0:
        privileges += [a for cap in ZYGOTE_CAPS for a in ("--cap-add", cap)]
    else:
        privileges = ["--unshare-user", *privileges]
    args = [shutil.which("prlimit") or "/usr/bin/prlimit", "--core=0", "--", bwrap_path(), *privileges, *_isolation()]
    args += _parents(base) + ["--bind", str(base), str(base)]
    args += ["--perms", "0755", "--dir", "/home", "--perms", "0755", "--dir", "/home/student", "--chdir", "/home/student"]
    return args + _environment(limits) + ["--"] + list(argv)


def check_available() -> None:
    """Raise SandboxUnavailable with a clear message unless a sandbox can be started here."""
    bwrap_path()
    for tool in ("prlimit", "setpriv"):
        if not shutil.which(tool) and not Path(f"/usr/bin/{tool}").exists():
            raise SandboxUnavailable(f"{tool} (util-linux) is missing: the sandbox needs it")
