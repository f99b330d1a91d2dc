"""The fast start (``Autograder.fast_start``): a pre-started process, the zygote (zygote.py), that
has imported what the assignment's read-only cells import (PyTorch, TensorFlow, Keras, sidebyside,
...) and IPython/ipykernel, forks one sandboxed kernel per submission. The imports (about 4.5 s of
CPU with both frameworks) are paid once, not once per student. A batch's local workers share the
grading process's zygote (zygote_service.py); any other worker (a Dask worker) starts its own here.

The guarantees are those of a fresh kernel (sandbox.py), and the tests in
``autograder/tests/test_fast_start.py`` prove each one: the child runs as its own leased uid, in its
own PID, mount, network, IPC and UTS namespaces (it can neither see nor signal nor trace the zygote
or another child), with its own scratch folder, /tmp and /dev/shm, the same rlimits and environment,
and fresh random states. The zygote never runs student code, holds nothing of any student, and reads
nothing a child writes except the one status line its child sends before student code exists.

When the fast start is impossible (a zygote that does not come up, a thread started by an
import, a child that cannot be set up) the submission runs in a fresh kernel, exactly as with
``fast_start=False``; the reason is kept in the run's ``phases``.
"""

from __future__ import annotations

import ast
import atexit
import json
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from jupyter_client import KernelManager

from . import sandbox
from .config import SandboxLimits

ZYGOTE_SOURCE = Path(__file__).with_name("zygote.py")
ALWAYS = ("numpy", "sidebyside")  # what the hand-back prelude imports in every kernel
# Modules a package imports lazily, on the course's own setup path, that cost a kernel more than its
# whole grading: sbs.seed_everything calls torch.use_deterministic_algorithms, which imports
# torch._dynamo (about 1 s of CPU). Imported by the zygote (no thread starts) after the package itself.
LAZY = {"torch": ("torch._dynamo",)}


def imports_of(codes: list[str]) -> list[str]:
    """The modules ``codes`` import at their top level (``import a.b``, ``from a.b import c``), in
    order, once each. Only trusted code (the assignment's read-only cells) may decide what the
    zygote imports. Code that does not parse contributes nothing."""
    names: list[str] = []
    for code in codes:
        try:
            tree = ast.parse(code)
        except SyntaxError:
            continue
        for node in tree.body:
            found = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else []
            names += [n for n in found if n not in names]
    return names


def preload_for(codes: list[str]) -> tuple[str, ...]:
    """What a zygote imports for an assignment whose read-only cells are ``codes``: their imports in
    their order (``import sidebyside`` first caps the threads, as in a fresh kernel), then what those
    packages would import lazily (``LAZY``), then the prelude's."""
    names = imports_of(codes)
    names += [lazy for n in list(names) for lazy in LAZY.get(n, ()) if lazy not in names]
    return tuple(names + [n for n in ALWAYS if n not in names])


class ZygoteError(RuntimeError):
    """The zygote could not start or could not fork a child: the fresh kernel is used instead."""


class Zygote:
    """A zygote (a worker's own, or a batch's: zygote_service.py) and the pipe pair that is its only way in."""

    def __init__(self, preload: tuple[str, ...], limits: SandboxLimits, timeout: float, on_start=None):
        """Starts the zygote and waits until it is ready; ``on_start`` is handed its process at once
        (so that a caller that no longer needs it can kill it while it imports)."""
        self.preload, self.lock = preload, threading.Lock()
        self.base = Path(tempfile.mkdtemp(prefix="grade-zygote-"))
        os.chmod(self.base, 0o711)  # children enter their own folder; they cannot list the others
        self.log = open(self.base / "zygote.log", "wb")
        argv = [sandbox.python_executable(), "-c", ZYGOTE_SOURCE.read_text(), json.dumps(list(preload)), str(self.base)]
        started = time.monotonic()
        self.proc = subprocess.Popen(sandbox.zygote_command(argv, self.base, limits), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, env={})
        if on_start:
            on_start(self.proc)
        self.counter = 0
        self.reported = False  # whether a run's phases carry this zygote's start already
        try:
            self.ready = self._read(timeout)
        except ZygoteError:
            self.close()
            raise
        if not self.ready.get("ready"):
            self.close()
            raise ZygoteError(f"the zygote refused to serve: {self.ready.get('reason')}")
        self.ready["wall_s"] = round(time.monotonic() - started, 3)

    def _read(self, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.proc.stdout], [], [], left)[0]:
                raise ZygoteError(f"the zygote did not answer within {timeout:g} s")
            chunk = os.read(self.proc.stdout.fileno(), 4096)
            if not chunk:
                raise ZygoteError(f"the zygote exited ({self.proc.wait()}): {self.tail()}")
            line += chunk
        return json.loads(line)

    def tail(self) -> str:
        try:
            return (self.base / "zygote.log").read_bytes()[-1500:].decode(errors="replace")
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    @property
    def sandbox_pid(self) -> int:
        """The zygote's sandbox (bwrap) as this machine numbers it: every child descends from it."""
        return self.proc.pid

    def first_report(self) -> dict:
        """The zygote's start, for the phases of its first kernel only (which waited for all of it)."""
        if self.reported:
            return {}
        self.reported = True
        return {"zygote_start_s": self.ready.get("wall_s"), "zygote_cpu_s": self.ready.get("cpu_s"),
                "zygote_wait_s": self.ready.get("wall_s")}

    def folder(self, uid: int) -> Path:
        """A new child's folder: root's and enterable (the zygote binds from it), holding the
        child's runtime/ and scratch/, which are the child's uid's alone."""
        with self.lock:
            self.counter += 1
            folder = self.base / str(self.counter)
        folder.mkdir(mode=0o711)
        return folder

    def spawn(self, uid: int, folder: Path, connection_file: str, limits: SandboxLimits, timeout: float) -> int:
        """Starts a child; returns B's pid as the zygote numbers it."""
        request = {"uid": uid, "dir": str(folder), "connection_file": connection_file,
                   "limits": {"memory_bytes": limits.memory_bytes, "file_bytes": limits.file_bytes,
                              "open_files": limits.open_files, "processes": limits.processes,
                              "cpu_seconds": limits.cpu_seconds}}
        with self.lock:  # one request in flight: a reply always answers the request before it
            if not self.alive():
                raise ZygoteError("the zygote is not running")
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
            answer = self._read(timeout)
        if not answer.get("ok"):
            raise ZygoteError(answer.get("reason", "no reason given"))
        return answer["pid"]

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # the zygote leaves when its request pipe closes
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.base, ignore_errors=True)


_zygotes: dict[tuple, Zygote] = {}
_refused: dict[tuple, str] = {}
_registry_lock = threading.Lock()


def zygote_for(preload: tuple[str, ...], limits: SandboxLimits, timeout: float) -> Zygote:
    """This worker's zygote for ``preload`` and the thread cap (the environment a zygote was started
    with cannot change); started on first use, restarted if it died, never retried once refused."""
    key = (tuple(preload), limits.threads)
    with _registry_lock:
        if key in _refused:
            raise ZygoteError(_refused[key])
        zygote = _zygotes.get(key)
        if zygote and zygote.alive():
            return zygote
        if zygote:
            zygote.close()
        for other in list(_zygotes):  # one zygote per slot: another assignment's goes
            _zygotes.pop(other).close()
        try:
            zygote = _zygotes[key] = Zygote(key[0], limits, timeout)
        except (ZygoteError, sandbox.SandboxUnavailable, OSError, ValueError) as e:
            _refused[key] = str(e)
            raise ZygoteError(str(e)) from e
        return zygote


def close_all() -> None:
    with _registry_lock:
        for key in list(_zygotes):
            _zygotes.pop(key).close()


atexit.register(close_all)
try:  # multiprocessing's workers leave through os._exit: their finalizers run, atexit does not
    from multiprocessing import util as _mp_util

    _mp_util.Finalize(None, close_all, exitpriority=10)
except ImportError:  # pragma: no cover
    pass


class ForkedKernel:
    """A kernel forked from this worker's zygote; the same interface as ``kernel.Kernel``."""

    def __init__(self, zygote: Zygote, limits: SandboxLimits, files: dict[str, bytes] | None, max_message_bytes: int):
        self.zygote, self.limits, self.files = zygote, limits, files
        self.max_message_bytes = max_message_bytes
        # As root, a leased uid of its own; otherwise the grader's uid, as a fresh non-root kernel's
        self.lease = sandbox.UidLease() if os.geteuid() == 0 else None
        self.uid = self.lease.uid if self.lease else os.getuid()
        if self.lease:
            sandbox.wait_for_uid_to_vanish(self.uid, grace=0)
        self.workdir: Path | None = None
        self.km = self.kc = None
        self.init_pid = None  # B: PID 1 of the child's namespace, as this machine numbers it
        self.namespace = ""  # B's PID namespace: every process of the child is in it
        self.zygote_start: dict = {}

    def start(self, timeout: float) -> None:
        self.workdir = self.zygote.folder(self.uid)
        runtime, scratch = self.workdir / "runtime", self.workdir / "scratch"
        runtime.mkdir(mode=0o700)
        scratch.mkdir(mode=0o700)
        for name, data in (self.files or {}).items():
            path = scratch / name
            if scratch.resolve() not in path.resolve().parents:
                raise ValueError(f"a data file outside the scratch folder: {name!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        km = KernelManager(transport="ipc", ip=str(runtime / "kernel"), connection_file=str(runtime / "kernel.json"),
                           client_class=f"{__package__}.kernel._CappedClient")
        km.write_connection_file()
        self.km = km
        for p in (runtime, scratch, *scratch.rglob("*"), Path(km.connection_file)) if self.lease else ():
            os.chown(p, self.uid, self.uid)
        pid = self.zygote.spawn(self.uid, self.workdir, km.connection_file, self.limits, timeout)
        self.init_pid = _init_pid(self.uid, pid, self.zygote.sandbox_pid)
        self.namespace = _namespace(self.init_pid) if self.init_pid else ""
        self.kc = km.client(max_message_bytes=self.max_message_bytes)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)

    def kill(self) -> None:
        """The whole child goes: B first (its PID namespace, and everything in it, dies with it), then
        as root every process of its leased uid; not root, the uid is the grader's own: B's namespace only."""
        if self.init_pid:
            _kill(self.init_pid, self.uid)
        for pid in sandbox.processes_of(self.uid) if self.lease else self.members():
            _kill(pid, self.uid)

    def members(self) -> list[int]:
        """The processes still in the child's PID namespace."""
        return [p for p in sandbox.processes_of(self.uid) if self.namespace and _namespace(p) == self.namespace]

    def stop(self) -> None:
        try:
            if self.kc:
                self.kc.stop_channels()
            self.kill()
            if self.lease:
                sandbox.wait_for_uid_to_vanish(self.uid)
            else:
                deadline = time.monotonic() + 10
                while self.members() and time.monotonic() < deadline:
                    time.sleep(0.1)
        finally:
            if self.workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            if self.lease:
                self.lease.release()

    def alive(self) -> bool:
        return bool(self.init_pid) and _state(self.init_pid, self.uid) not in ("", "Z", "X")


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _state(pid: int, uid: int) -> str:
    """The process's state letter, or '' when it is gone or no longer the child's (a reused pid)."""
    status = _status(pid)
    if not status or int(status["Uid"].split()[0]) != uid:
        return ""
    return status["State"][:1]


def _namespace(pid: int) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def _descends_from(pid: int, ancestor: int) -> bool:
    while pid > 1:
        pid = int(_status(pid).get("PPid", "0"))
        if pid == ancestor:
            return True
    return False


def _init_pid(uid: int, zygote_numbered: int, zygote_sandbox: int, timeout: float = 10.0) -> int | None:
    """B's pid here: the process of ``uid``, under this zygote's sandbox, that is PID 1 in its own
    namespace and ``zygote_numbered`` in the zygote's (not root, every zygote and child has one uid)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for pid in sandbox.processes_of(uid):
            if (_status(pid).get("NSpid", "").split()[-2:] == [str(zygote_numbered), "1"]
                    and _descends_from(pid, zygote_sandbox)):
                return pid
        time.sleep(0.02)
    return None


def _kill(pid: int, uid: int) -> None:
    if _state(pid, uid):
        try:
            os.kill(pid, 9)
        except OSError:
            pass


def start_kernel(preload: tuple[str, ...], limits: SandboxLimits, files, max_message_bytes: int,
                 timeout: float) -> tuple[ForkedKernel | None, str]:
    """A started kernel forked from the batch's zygote (zygote_service.py) or else this worker's own,
    or (None, why not)."""
    from .zygote_service import remote_for

    try:
        zygote = remote_for(preload, limits) or zygote_for(preload, limits, timeout)
    except ZygoteError as e:
        return None, f"no zygote: {e}"
    kernel = ForkedKernel(zygote, limits, files, max_message_bytes)
    try:
        kernel.start(timeout)
        kernel.zygote_start = zygote.first_report()  # the first kernel pays the zygote's start: say how much
        return kernel, ""
    except Exception as e:  # noqa: BLE001 - this submission gets a fresh kernel instead
        kernel.stop()
        return None, f"the forked kernel did not start: {type(e).__name__}: {e}"


__all__ = ["ForkedKernel", "Zygote", "ZygoteError", "close_all", "imports_of", "preload_for", "start_kernel",
           "zygote_for"]
