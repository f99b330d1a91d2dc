"""Run a list of code cells in a fresh kernel, sandboxed or not, and never trust it to behave.

Each cell gets a time limit; past it the kernel is killed (an interrupt can be ignored), and the
whole run has a wall clock too. Output is capped in bytes while it streams, and IOPub refuses
oversized messages, so the grader's memory stays bounded whatever a submission prints. A kernel
that dies, hangs or floods is reported, never raised.
"""

from __future__ import annotations

import base64
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.kernelspec import KernelSpec

from . import sandbox

CHECK_MIME = "application/vnd.sidebyside.check+json"
MAX_MESSAGE_BYTES = 8 * 2**20  # one IOPub message; larger ones cut the connection (then: timeout)


@dataclass(frozen=True)
class RunLimits:
    cell_timeout_s: float = 120
    notebook_timeout_s: float = 600
    startup_timeout_s: float = 120
    cell_output_bytes: int = 200_000
    notebook_output_bytes: int = 2_000_000


@dataclass
class CellRun:
    outputs: list = field(default_factory=list)   # nbformat-style outputs (capped)
    checks: list = field(default_factory=list)    # hand-back payloads sent during this cell
    status: str = "ok"                            # ok | error | timeout | not_run | kernel_died
    error: str = ""


@dataclass
class NotebookRun:
    cells: list[CellRun]
    status: str = "completed"  # completed | timeout | notebook_timeout | kernel_died | output_flood | kernel_failed_to_start
    reason: str = ""
    seconds: float = 0.0


class _CappedClient(BlockingKernelClient):
    def connect_iopub(self, identity=None):
        sock = self.context.socket(zmq.SUB)
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        sock.setsockopt(zmq.RCVHWM, 64)
        sock.connect(self._make_url("iopub"))
        sock.setsockopt(zmq.SUBSCRIBE, b"")
        return sock


# The first thing the kernel runs: how a rewritten test cell hands data back (see checks.py).
HANDBACK_PRELUDE = f'''
def __sxs_handback__(name, *values):
    import base64, numpy, sidebyside
    from IPython.display import publish_display_data
    packed = []
    for value in values:
        try:
            a = numpy.asarray(sidebyside.to_numpy(value))
            if a.dtype.kind in "biufc":
                packed.append({{"dtype": a.dtype.str, "shape": list(a.shape),
                               "b64": base64.b64encode(numpy.ascontiguousarray(a).tobytes()).decode()}})
            elif a.dtype.kind == "U":
                packed.append({{"dtype": "str", "shape": list(a.shape), "items": [str(x) for x in a.ravel()]}})
            else:
                packed.append({{"unsupported": type(value).__name__}})
        except Exception as e:
            packed.append({{"unsupported": type(value).__name__ + ": " + type(e).__name__}})
    publish_display_data({{"{CHECK_MIME}": {{"name": str(name), "values": packed}}}})
'''


class Kernel:
    """A fresh python3 kernel; sandboxed with bubblewrap unless ``sandboxed=False`` (trusted code)."""

    def __init__(self, sandboxed: bool = True, limits: sandbox.Limits = sandbox.Limits(), files: Path | None = None):
        self.sandboxed, self.limits, self.files = sandboxed, limits, files
        self.lease = sandbox.UidLease() if sandboxed and os.geteuid() == 0 else None
        self.uid = self.lease.uid if self.lease else os.getuid()
        if self.lease:  # the uid is ours alone now: nothing may still run under it
            wait_for_uid_to_vanish(self.uid, grace=0)
        self.workdir = Path(tempfile.mkdtemp(prefix="grade-"))
        self.km = self.kc = None

    def start(self, timeout: float) -> None:
        runtime, scratch = self.workdir / "runtime", self.workdir / "scratch"
        runtime.mkdir()
        if self.files:  # data files shipped with the assignment
            shutil.copytree(self.files, scratch)
        else:
            scratch.mkdir()
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        if self.sandboxed:
            if os.geteuid() == 0:
                for p in (self.workdir, runtime, scratch, *scratch.rglob("*")):
                    os.chown(p, self.uid, self.uid)
            argv = sandbox.command(argv, scratch, runtime, self.uid, self.limits)
        km = KernelManager(transport="ipc", ip=str(runtime / "kernel"),
                           connection_file=str(runtime / "kernel.json"), client_class=f"{__name__}._CappedClient")
        km._kernel_spec = KernelSpec(argv=argv, display_name="grading", language="python")
        self.km = km
        km.write_connection_file()
        if self.sandboxed and os.geteuid() == 0:  # the kernel's uid must read its connection file
            os.chown(km.connection_file, self.uid, self.uid)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JPY_")}
        env.update(sandbox.sandbox_env(self.limits) if not self.sandboxed else {})
        self.log = open(self.workdir / "kernel.log", "wb")  # the kernel's own stdout/stderr, for diagnosis
        km.start_kernel(cwd=str(scratch), env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.kc = km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)

    def stop(self) -> None:
        try:
            if self.kc:
                self.kc.stop_channels()
            if self.km and self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
            if self.lease:
                wait_for_uid_to_vanish(self.uid)
        finally:
            if getattr(self, "log", None):
                self.log.close()
            shutil.rmtree(self.workdir, ignore_errors=True)
            if self.lease:
                self.lease.release()

    def kill(self) -> None:
        """Kill at once (the whole sandbox goes with it): an interrupt can be ignored."""
        if self.km and self.km.has_kernel:
            self.km.shutdown_kernel(now=True)

    def alive(self) -> bool:
        return bool(self.km and self.km.is_alive())


def _replied(kc, msg_id: str) -> float | None:
    """When the kernel's execute_reply for ``msg_id`` has arrived on the shell channel, or None."""
    while True:
        try:
            reply = kc.get_shell_msg(timeout=0)
        except queue.Empty:
            return None
        if reply["parent_header"].get("msg_id") == msg_id:
            return time.monotonic()


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


def _output_size(msg_type: str, content: dict) -> int:
    if msg_type == "stream":
        return len(content.get("text", ""))
    return sum(len(str(v)) for v in content.get("data", {}).values()) + len(str(content.get("traceback", "")))


def run_cells(codes: list[str], *, sandboxed: bool = True,
              limits: RunLimits = RunLimits(), sandbox_limits: sandbox.Limits = sandbox.Limits(),
              files: Path | None = None, prelude: str = HANDBACK_PRELUDE) -> NotebookRun:
    """Execute ``codes`` in order in a fresh kernel; returns what happened, whatever happened."""
    start = time.monotonic()
    runs = [CellRun(status="not_run") for _ in codes]
    result = NotebookRun(runs)
    kernel = Kernel(sandboxed, sandbox_limits, files)
    output_budget = 0
    try:
        try:
            kernel.start(limits.startup_timeout_s)
        except Exception as e:  # noqa: BLE001 - any failure to start is the submission's run failing
            result.status, result.reason = "kernel_failed_to_start", f"the kernel did not start: {type(e).__name__}: {e}"
            return result
        deadline = start + limits.notebook_timeout_s
        for index, code in enumerate([prelude, *codes]):
            run = CellRun() if index == 0 else runs[index - 1]
            run.status = "ok"
            msg_id = kernel.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
            cell_deadline = min(time.monotonic() + limits.cell_timeout_s, deadline)
            cell_bytes, truncated, replied_at = 0, False, None
            while True:
                now = time.monotonic()
                if now >= cell_deadline:
                    run.status = "timeout"
                    if now >= deadline:
                        result.status, result.reason = "notebook_timeout", (
                            f"the notebook ran past its {limits.notebook_timeout_s:g} s limit (cell {index})")
                    else:
                        result.status, result.reason = "timeout", (
                            f"cell {index} ran past its {limits.cell_timeout_s:g} s limit; the kernel was killed")
                    kernel.kill()
                    return result
                if replied_at is None:
                    replied_at = _replied(kernel.kc, msg_id)
                elif now - replied_at > 2.0:  # the cell finished but its "idle" never came:
                    result.status = "output_flood"  # an oversized message cut the output channel
                    result.reason = (f"an output message over {MAX_MESSAGE_BYTES // 2**20} MiB cut the grader's link "
                                     f"to the kernel's output (noticed at cell {index}); checks after it were lost")
                    break
                try:
                    msg = kernel.kc.get_iopub_msg(timeout=min(0.5, cell_deadline - now))
                except queue.Empty:
                    if not kernel.alive():
                        run.status = "kernel_died"
                        result.status, result.reason = "kernel_died", (
                            f"the kernel died in cell {index} (a crash, os._exit, or the memory limit)")
                        return result
                    continue
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "status" and content.get("execution_state") == "idle":
                    break
                if kind == "error":
                    run.status = "error"
                    run.error = f"{content.get('ename')}: {content.get('evalue')}"[:2000]
                if kind == "display_data" and CHECK_MIME in content.get("data", {}):
                    run.checks.append(content["data"][CHECK_MIME])
                    continue
                if kind not in ("stream", "display_data", "execute_result", "error"):
                    continue
                size = _output_size(kind, content)
                if cell_bytes + size > limits.cell_output_bytes or output_budget + size > limits.notebook_output_bytes:
                    if not truncated:
                        run.outputs.append({"output_type": "stream", "name": "stdout",
                                            "text": "\n[output truncated by the grader]\n"})
                        truncated = True
                    continue
                cell_bytes += size
                output_budget += size
                out = {"output_type": kind, **{k: v for k, v in content.items() if k != "transient"}}
                run.outputs.append(out)
        return result
    finally:
        result.seconds = round(time.monotonic() - start, 2)
        kernel.stop()


def decode_value(packed: dict, max_bytes: int = 64 * 2**20):
    """A handed-back value as a NumPy array, parsed strictly (no pickle, whitelisted dtypes, size checks)."""
    import numpy as np

    if not isinstance(packed, dict) or "unsupported" in packed:
        raise ValueError(f"not data: {packed.get('unsupported', '?') if isinstance(packed, dict) else type(packed).__name__}")
    shape = packed.get("shape")
    if not (isinstance(shape, list) and all(isinstance(n, int) and 0 <= n for n in shape) and len(shape) <= 8):
        raise ValueError("bad shape")
    if packed.get("dtype") == "str":
        items = packed.get("items")
        if not (isinstance(items, list) and all(isinstance(i, str) for i in items)):
            raise ValueError("bad text items")
        return np.array(items, dtype=str).reshape(shape)
    dtype = np.dtype(packed.get("dtype"))
    if dtype.kind not in "biufc" or dtype.hasobject:
        raise ValueError(f"dtype {dtype} is not allowed")
    raw = base64.b64decode(packed.get("b64", ""), validate=True)
    if len(raw) > max_bytes or len(raw) != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize:
        raise ValueError("size does not match shape and dtype")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
