"""One zygote for all the local workers of a batch (``Autograder.fast_start``).

Left to themselves, the workers would each start a zygote (fast_start.py): the framework imports,
about 5 s of CPU, and 0.8 GiB of memory, once per worker. Instead the grading process starts one
zygote at the beginning of the batch (while it loads nbgrader) and serves it to its workers over a
Unix socket, in a folder only the grader can enter, behind a random key. A worker asks the service
for a child's folder and then for the child; the zygote forks it exactly as it would for the
worker itself, and the worker talks to the kernel as before. Which worker asked changes nothing a
child can reach (the child, its uid and its namespaces are fast_start.py's). A Dask worker runs on
its own machine, with a zygote of its own.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from multiprocessing.connection import Client, Listener
from pathlib import Path

from . import sandbox
from .config import SandboxLimits
from .fast_start import Zygote, ZygoteError


class ZygoteService:
    """The grading process's side: the zygote, started in the background, and the socket it is reached by."""

    def __init__(self, preload: tuple[str, ...], limits: SandboxLimits, timeout: float):
        self.key = (tuple(preload), limits.threads)
        self.limits, self.timeout = limits, timeout
        self.folder = Path(tempfile.mkdtemp(prefix="grade-zygote-service-"))  # mode 0700: the grader's alone
        self.authkey = os.urandom(32)
        try:
            self.listener = Listener(str(self.folder / "socket"), family="AF_UNIX", authkey=self.authkey)
        except OSError:  # e.g. a TMPDIR too deep for a socket's path (108 bytes)
            shutil.rmtree(self.folder, ignore_errors=True)
            raise
        self.lock = threading.Lock()  # guards the zygote: started, restarted, closed
        self.zygote: Zygote | None = None
        self.refused = ""  # why the zygote could not start (then nobody asks again)
        self.reported = False  # whether a run's phases carry the zygote's start already
        self.process = None  # the zygote's process from the moment it starts (ready or not)
        self.closed = False
        self.started, self.wake = threading.Event(), threading.Event()
        self.keeper = threading.Thread(target=self._keep, daemon=True)
        self.keeper.start()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def address(self) -> dict:
        """What a worker needs to reach the service (passed to it when it starts)."""
        return {"socket": str(self.folder / "socket"), "authkey": self.authkey, "key": self.key}

    def _keep(self) -> None:
        """Starts the zygote, and again whenever one is found dead, from one thread that lives as long as
        the service: the zygote's sandbox dies with the thread that started it (bwrap --die-with-parent)."""
        while not self.closed:
            with self.lock:
                old, self.zygote = self.zygote, None
            if old:
                old.close()
            if not self.refused:
                try:
                    zygote = Zygote(self.key[0], self.limits, self.timeout, on_start=self._starting)
                except (ZygoteError, sandbox.SandboxUnavailable, OSError, ValueError) as e:
                    zygote, self.refused = None, str(e) or type(e).__name__
                with self.lock:
                    self.zygote = zygote
            self.started.set()
            self.wake.wait()
            self.wake.clear()
        with self.lock:
            old, self.zygote = self.zygote, None
        if old:
            old.close()

    def _starting(self, process) -> None:
        self.process = process

    def _accept(self) -> None:
        while True:
            try:
                connection = self.listener.accept()
            except Exception:  # noqa: BLE001 - a caller without the key, or the listener closed
                if self.closed:
                    return
                continue
            if self.closed:
                connection.close()
                return
            threading.Thread(target=self._serve, args=(connection,), daemon=True).start()

    def _serve(self, connection) -> None:
        with connection:
            while True:
                try:
                    request = connection.recv()
                except (EOFError, OSError):
                    return
                try:
                    answer = self._answer(request)
                except Exception as e:  # noqa: BLE001 - the worker falls back to a fresh kernel, with the reason
                    answer = {"error": f"{type(e).__name__}: {e}"}
                connection.send(answer)

    def _zygote(self) -> Zygote | None:
        self.started.wait()
        with self.lock:
            zygote = self.zygote
            if zygote is None or zygote.alive():
                return zygote
            self.started.clear()  # it died: the keeper starts a new one, for this child and the next
            self.wake.set()
        self.started.wait()
        return self.zygote

    def _answer(self, request: dict) -> dict:
        asked = time.monotonic()
        zygote = self._zygote()
        waited = round(time.monotonic() - asked, 3)
        if zygote is None:
            raise ZygoteError(self.refused or "the service is closed")
        if request["op"] == "folder":
            return {"folder": str(zygote.folder(request["uid"])), "waited_s": waited}
        pid = zygote.spawn(request["uid"], Path(request["folder"]), request["connection_file"], request["limits"],
                           request["timeout"])
        with self.lock:
            first, self.reported = not self.reported, True
        return {"pid": pid, "sandbox_pid": zygote.sandbox_pid, "first": zygote.ready if first else None,
                "waited_s": waited}

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if not self.started.is_set() and self.process:  # still importing, and nobody will use it
            self.process.kill()
        self.wake.set()  # the keeper closes the zygote and leaves
        self.keeper.join(timeout=self.timeout + 10)
        try:  # wake the accepting thread, so that it leaves
            Client(str(self.folder / "socket"), family="AF_UNIX", authkey=self.authkey).close()
        except OSError:
            pass
        self.listener.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class RemoteZygote:
    """A worker's side: the same interface as ``fast_start.Zygote`` for a ``ForkedKernel``."""

    def __init__(self, address: dict):
        self.key = tuple(address["key"][0]), address["key"][1]
        self.address = address
        self.connection = None
        self.sandbox_pid = 0
        self.first_start: dict | None = None
        self.waited = 0.0  # seconds this worker's next kernel spent waiting for the zygote to start

    def _ask(self, request: dict) -> dict:
        try:
            if self.connection is None:
                self.connection = Client(self.address["socket"], family="AF_UNIX", authkey=self.address["authkey"])
            self.connection.send(request)
            answer = self.connection.recv()
        except (OSError, EOFError) as e:
            self.connection = None
            raise ZygoteError(f"the batch's zygote service cannot be reached: {e}") from e
        if "error" in answer:
            raise ZygoteError(answer["error"])
        self.waited += answer["waited_s"]
        return answer

    def folder(self, uid: int) -> Path:
        return Path(self._ask({"op": "folder", "uid": uid})["folder"])

    def spawn(self, uid: int, folder: Path, connection_file: str, limits: SandboxLimits, timeout: float) -> int:
        answer = self._ask({"op": "spawn", "uid": uid, "folder": str(folder), "connection_file": connection_file,
                            "limits": limits, "timeout": timeout})
        self.sandbox_pid = answer["sandbox_pid"]
        if answer["first"]:
            self.first_start = answer["first"]
        return answer["pid"]

    def first_report(self) -> dict:
        """For a kernel's phases: how long it waited for the zygote, and the zygote's start for the
        batch's first kernel only (the service decides which)."""
        ready, self.first_start = self.first_start, None
        waited, self.waited = self.waited, 0.0
        start = {"zygote_start_s": ready.get("wall_s"), "zygote_cpu_s": ready.get("cpu_s")} if ready else {}
        return {**start, "zygote_wait_s": round(waited, 3)} if start or waited >= 0.01 else start


_remote: RemoteZygote | None = None


def connect(address: dict) -> None:
    """A local worker's initializer: its kernels come from the batch's zygote service."""
    global _remote
    _remote = RemoteZygote(address)


def remote_for(preload: tuple[str, ...], limits: SandboxLimits) -> RemoteZygote | None:
    """The service's zygote when this worker has one for ``preload`` and the thread cap, else None."""
    return _remote if _remote and _remote.key == (tuple(preload), limits.threads) else None
