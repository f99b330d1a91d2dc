"""Run a list of code cells in a fresh kernel, sandboxed or not, and never trust it to behave.

Each cell gets a time limit; past it the kernel is killed (an interrupt can be ignored), and the
whole run has a wall clock too. Output and hand-backs are capped in bytes while they stream, and
every channel from the kernel (IOPub, shell, control, stdin) refuses a message over
``RunLimits.message_bytes``: zmq's MAXMSGSIZE cuts the link before anything is buffered, so the
grader's memory stays bounded whatever a submission prints or replies. A cut link, a kernel that
dies or hangs are recorded statuses, never raised. The limits come from ``config.Autograder``.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import zmq
from jupyter_client import BlockingKernelClient, KernelManager
from jupyter_client.connect import channel_socket_types
from jupyter_client.kernelspec import KernelSpec
from traitlets import Int

from . import handback, sandbox
from .config import RunLimits, SandboxLimits

LINK_GRACE_S = 3.0  # how long a cell's execute_reply and its IOPub "idle" may lag each other before a link counts as cut


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
    # how it ran, never what it scored: kernel ("forked" | "fresh"), why not forked, and wall and CPU
    # seconds of the start (kernel up and answering) and of the cells (see measure_phases)
    phases: dict = field(default_factory=dict)


class _CappedClient(BlockingKernelClient):
    """A client whose every channel refuses a message over ``max_message_bytes``: zmq drops the
    connection instead of receiving it (the run then notices the cut link and records it)."""

    max_message_bytes = Int(8 * 2**20)  # set from RunLimits.message_bytes by Kernel.start

    def _create_connected_socket(self, channel, identity=None):
        sock = self.context.socket(channel_socket_types[channel])
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)  # set before connect: it is per connection
        if channel == "iopub":
            sock.setsockopt(zmq.RCVHWM, 64)
        if identity:
            sock.identity = identity
        sock.connect(self._make_url(channel))
        return sock


class Kernel:
    """A fresh python3 kernel; sandboxed with bubblewrap unless ``sandboxed=False`` (trusted code)."""

    def __init__(self, sandboxed: bool, limits: SandboxLimits, files: dict[str, bytes] | None, max_message_bytes: int):
        self.sandboxed, self.limits, self.files = sandboxed, limits, files
        self.max_message_bytes = max_message_bytes
        self.lease = sandbox.UidLease() if sandboxed and os.geteuid() == 0 else None
        self.uid = self.lease.uid if self.lease else os.getuid()
        if self.lease:  # the uid is ours alone now: nothing may still run under it
            sandbox.wait_for_uid_to_vanish(self.uid, grace=0)
        self.workdir = Path(tempfile.mkdtemp(prefix="grade-"))
        self.km = self.kc = None

    def start(self, timeout: float) -> None:
        runtime, scratch = self.workdir / "runtime", self.workdir / "scratch"
        runtime.mkdir()
        scratch.mkdir()
        for name, data in (self.files or {}).items():  # data files shipped with the assignment
            path = scratch / name
            if scratch.resolve() not in path.resolve().parents:
                raise ValueError(f"a data file outside the scratch folder: {name!r}")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        argv = [sandbox.python_executable() if self.sandboxed else sys.executable,
                "-m", "ipykernel_launcher", "-f", "{connection_file}"]
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
        self.kc = km.client(max_message_bytes=self.max_message_bytes)
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=timeout)

    def stop(self) -> None:
        try:
            if self.kc:
                self.kc.stop_channels()
            if self.km and self.km.has_kernel:
                self.km.shutdown_kernel(now=True)
            if self.lease:
                sandbox.wait_for_uid_to_vanish(self.uid)
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


def kernel_cpu(uid: int | None) -> float:
    """CPU seconds (user + system) used so far by every process of a sandboxed kernel's uid, with
    the children they reaped; the uid is leased to that kernel alone (root only, else None)."""
    if uid is None:
        return 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in sandbox.processes_of(uid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def _start(sandboxed: bool, fast_start: bool, preload: tuple, sandbox_limits: SandboxLimits, files,
           limits: RunLimits, phases: dict):
    """A started kernel: forked from this worker's zygote when ``fast_start`` allows it, else fresh."""
    if fast_start and sandboxed:
        from . import fast_start as fast

        forked, why = fast.start_kernel(tuple(preload), sandbox_limits, files, limits.message_bytes,
                                        limits.startup_timeout_s)
        if forked:
            phases.update(kernel="forked", **forked.zygote_start)
            return forked
        phases["fallback"] = why
    phases["kernel"] = "fresh"
    kernel = Kernel(sandboxed, sandbox_limits, files, limits.message_bytes)
    try:
        kernel.start(limits.startup_timeout_s)
    except BaseException:
        kernel.stop()
        raise
    return kernel


def _replied(kc, msg_id: str) -> float | None:
    """When the kernel's execute_reply for ``msg_id`` has arrived on the shell channel, or None."""
    while True:
        try:
            reply = kc.get_shell_msg(timeout=0)
        except queue.Empty:
            return None
        if reply["parent_header"].get("msg_id") == msg_id:
            return time.monotonic()


def _output_size(msg_type: str, content: dict) -> int:
    if msg_type == "stream":
        return len(str(content.get("text", "")))
    data = content.get("data", {})
    return (sum(len(str(v)) for v in data.values()) if isinstance(data, dict) else len(str(data))) \
        + len(str(content.get("traceback", "")))


def _handback_size(payload) -> int:
    return len(json.dumps(payload))


def run_cells(codes: list[str], *, sandboxed: bool, limits: RunLimits, sandbox_limits: SandboxLimits,
              files: dict[str, bytes] | None = None, prelude: str = handback.PRELUDE, fast_start: bool = False,
              preload: tuple[str, ...] = ()) -> NotebookRun:
    """Execute ``codes`` in order in a new kernel (forked from a zygote that imported ``preload`` when
    ``fast_start``, see fast_start.py; else fresh); returns what happened, whatever happened."""
    start = time.monotonic()
    cpu_start = time.process_time()
    runs = [CellRun(status="not_run") for _ in codes]
    result = NotebookRun(runs)
    phases = result.phases
    kernel = None
    output_budget, handback_budget = 0, 0
    cap = f"{limits.message_bytes / 2**20:g} MiB"
    try:
        try:
            kernel = _start(sandboxed, fast_start, preload, sandbox_limits, files, limits, phases)
        except Exception as e:  # noqa: BLE001 - a kernel that cannot start is the grader's (or the machine's) failure
            result.status, result.reason = "kernel_failed_to_start", f"the kernel did not start: {type(e).__name__}: {e}"
            return result
        leased = kernel.uid if getattr(kernel, "lease", None) else None
        phases.update(start_s=round(time.monotonic() - start, 3), start_kernel_cpu_s=round(kernel_cpu(leased), 3),
                      start_grader_cpu_s=round(time.process_time() - cpu_start, 3))
        cells_start, cells_cpu = time.monotonic(), time.process_time()
        deadline = start + limits.notebook_timeout_s
        for index, code in enumerate([prelude, *codes]):
            run = CellRun() if index == 0 else runs[index - 1]
            run.status = "ok"
            msg_id = kernel.kc.execute(code, store_history=False, allow_stdin=False, stop_on_error=False)
            cell_deadline = min(time.monotonic() + limits.cell_timeout_s, deadline)
            cell_bytes, truncated, replied_at, idle_at = 0, False, None, None
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
                if idle_at is not None:
                    if replied_at is not None:
                        break  # the cell is done: its reply and its "idle" both arrived
                    if now - idle_at > LINK_GRACE_S:  # "idle" came, the reply never did: it was refused
                        result.status = "output_flood"
                        result.reason = (f"the kernel's reply to cell {index} was over {cap} (a huge payload or "
                                         "set_next_input?): the grader cut the link and stopped the notebook")
                        kernel.kill()
                        return result
                    time.sleep(0.05)
                    continue
                if replied_at is not None and now - replied_at > LINK_GRACE_S:  # replied, but no "idle":
                    result.status = "output_flood"  # an oversized message cut the output channel, for good:
                    result.reason = (f"an output message over {cap} cut the grader's link to the kernel's output "
                                     f"in cell {index}; the notebook was stopped there, as no check after it "
                                     "could come back")  # (each later cell would wait LINK_GRACE_S for nothing)
                    kernel.kill()
                    return result
                try:
                    msg = kernel.kc.get_iopub_msg(timeout=min(0.5, max(cell_deadline - now, 0.01)))
                except queue.Empty:
                    if not kernel.alive():
                        run.status = "kernel_died"
                        result.status, result.reason = "kernel_died", (
                            f"the kernel died in cell {index} (a crash, os._exit, or the memory limit)")
                        return result
                    continue
                try:
                    parent, kind, content = msg["parent_header"], msg["msg_type"], msg["content"]
                    if not (isinstance(parent, dict) and isinstance(content, dict)) or parent.get("msg_id") != msg_id:
                        continue
                    if kind == "status" and content.get("execution_state") == "idle":
                        idle_at = time.monotonic()
                        continue
                    if kind == "error":
                        run.status = "error"
                        run.error = f"{content.get('ename')}: {content.get('evalue')}"[:2000]
                    data = content.get("data")
                    if kind == "display_data" and isinstance(data, dict) and handback.MIME in data:
                        payload = data[handback.MIME]
                        size = _handback_size(payload)
                        if handback_budget + size <= limits.handback_bytes:
                            handback_budget += size
                            run.checks.append(payload)
                        continue
                    if kind not in ("stream", "display_data", "execute_result", "error"):
                        continue
                    size = _output_size(kind, content)
                except (KeyError, TypeError, AttributeError, ValueError):
                    continue  # a malformed message (student code can forge them): ignored
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
        if kernel is not None:
            if "start_s" in phases:
                leased = kernel.uid if getattr(kernel, "lease", None) else None
                phases.update(cells_s=round(time.monotonic() - cells_start, 3),
                              cells_kernel_cpu_s=round(max(0.0, kernel_cpu(leased) - phases["start_kernel_cpu_s"]), 3),
                              cells_grader_cpu_s=round(time.process_time() - cells_cpu, 3))
            kernel.stop()
