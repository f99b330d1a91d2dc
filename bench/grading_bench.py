"""Benchmark: this grader against stock `nbgrader autograde`, on the same submissions, in one run.

    python -m bench.grading_bench [--students N] [--workers W] [--readme README.md]

The submissions are copies of the shipped 01_tensors examples (correct and partial: both
frameworks imported, every test run). Stock nbgrader grades them one after another in its own
course folder (its documented model: no parallel autograding, no sandbox); this grader grades
them sandboxed, reference run included: with fresh kernels (``--Autograder.fast_start=False``)
and with forked kernels (the default: one zygote for the local workers, one per Dask worker) on 1 and W
local workers and on a Dask cluster of W workers on loopback. A last batch adds one submission that prints 50 MB, to show
that the grader's own memory (the grading processes, not the students' kernels) does not grow with
what students print.

Each run reports wall time and CPU time (user + system of the whole process tree: the grader, its
workers, zygotes, sandboxes and kernels, as reaped; for the Dask row the scheduler and workers
too, started and stopped around it), and each submission's phases (kernel start, cells, scoring:
wall and CPU) from the results the grader saved.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .notebook_bench import PeakRSS

ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENT = "01_tensors"
EXAMPLES = ROOT / "autograder" / "examples" / ASSIGNMENT
MARKERS = ("<!-- grading-bench:start -->", "<!-- grading-bench:end -->")


def make_submissions(folder: Path, n: int, flood: bool = False) -> None:
    kinds = ["correct", "partial"]
    for i in range(n):
        src = EXAMPLES / kinds[i % 2] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
        dst = folder / f"student{i:03d}" / ASSIGNMENT
        dst.mkdir(parents=True)
        shutil.copy(src, dst / f"{ASSIGNMENT}.ipynb")
    if flood:
        nb = json.loads((EXAMPLES / "correct" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text())
        for cell in nb["cells"]:
            if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
                cell["source"] = "".join(cell["source"]) + "\nprint('x' * 50_000_000)\n"
                break
        dst = folder / "flooder" / ASSIGNMENT
        dst.mkdir(parents=True)
        (dst / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(nb))


class CgroupCPU:
    """CPU seconds (user + system) of every process started in a cgroup of the bench's own, whatever
    becomes of them: sandboxed kernels are killed, not reaped by the grader, so the rusage of reaped
    children misses them. cgroup v2 (``cpu.stat``) or v1 (``cpuacct``); without either (no root, a
    read-only /sys/fs/cgroup) it falls back to the rusage of reaped children, and says so."""

    def __init__(self):
        self.path, self.kind = None, "reaped children only (no writable cgroup: kernels are missed)"
        for root, kind in ((Path("/sys/fs/cgroup"), "v2"), (Path("/sys/fs/cgroup/unified"), "v2"),
                           (Path("/sys/fs/cgroup/cpuacct"), "v1")):
            marker = root / ("cgroup.controllers" if kind == "v2" else "cpuacct.usage")
            if not marker.exists():
                continue
            try:
                path = root / f"grading-bench-{os.getpid()}"
                path.mkdir(exist_ok=True)
                self.path, self.kind = path, f"cgroup {kind}"
                break
            except OSError:
                continue

    def enter(self) -> None:
        """In a child before exec (Popen's preexec_fn): it and all it starts are counted."""
        if self.path:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def seconds(self) -> float:
        if not self.path:
            r = resource.getrusage(resource.RUSAGE_CHILDREN)
            return r.ru_utime + r.ru_stime
        if self.kind == "cgroup v1":
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    def close(self) -> None:
        if self.path:
            try:
                self.path.rmdir()
            except OSError:
                pass


CPU = CgroupCPU()


def children_cpu() -> float:
    return CPU.seconds()


class ZygoteRSS(PeakRSS):
    """Peak resident memory of the zygotes alone (their pages are shared with the kernels they fork)."""

    def __init__(self):
        super().__init__(1, False)

    @staticmethod
    def _zygote_like(pid) -> bool:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return False
        return len(cmd) >= 5 and cmd[1] == b"-c" and cmd[4].split(b"/")[-1].startswith(b"grade-zygote-")

    def _rss(self, pid: int) -> int:
        """A zygote: root, its command line, and a parent that is not one (its forks share its pages)."""
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0
        if not self._zygote_like(pid) or "\nUid:\t0\t" not in status:  # not one, or a kernel forked from it
            return 0
        ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
        if ppid and self._zygote_like(ppid.group(1)):
            return 0
        return super()._rss(pid)

    def _run(self) -> None:  # every process of the machine: sampled less often than the grader's tree
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(self._rss(p) for p in self._tree()))
            self._stop.wait(0.5)


def timed(cmd: list[str], cwd: Path, env: dict | None = None, grader_only: bool = False) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=CPU.enter)
    meter = PeakRSS(proc.pid, grader_only)
    out, _ = proc.communicate()
    peak = meter.stop()
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:4])} failed:\n{out[-3000:]}")
    return time.perf_counter() - start, peak, out


def venv_env() -> dict:
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}


def stock_nbgrader(work: Path, subs: Path) -> tuple[float, int]:
    course = work / "stock"
    (course / "source").mkdir(parents=True)
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copytree(subs, course / "submitted")
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\nc.CourseDirectory.root = %r\nc.Execute.timeout = 120\n" % str(course))
    nbgrader = [sys.executable, "-m", "nbgrader"]
    subprocess.run(nbgrader + ["generate_assignment", ASSIGNMENT, "--force", "--log-level=ERROR"], cwd=course,
                   env=venv_env(), check=True, capture_output=True)
    cpu = children_cpu()
    seconds, peak, _ = timed(nbgrader + ["autograde", ASSIGNMENT, "--force", "--log-level=ERROR"], course, venv_env())
    return seconds, peak, children_cpu() - cpu


def this_grader(work: Path, subs: Path, workers: int, name: str, fast: bool = True,
                scheduler: str | None = None) -> dict:
    out = work / f"out-{name}"
    cmd = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(subs), "--out", str(out),
           "--db", f"sqlite:///{work / f'{name}.db'}", "--quiet", f"--Autograder.fast_start={fast}"]
    cmd += ["--scheduler", scheduler] if scheduler else ["--workers", str(workers)]
    cpu, zygotes = children_cpu(), ZygoteRSS()
    seconds, peak, _ = timed(cmd, ROOT, venv_env(), grader_only=True)
    zygote_peak = zygotes.stop()
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    results = [json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))]
    reference = json.loads((out / "reference.json").read_text())
    return {"seconds": seconds, "peak": peak, "zygotes": zygote_peak, "cpu": children_cpu() - cpu, "n": len(rows),
            "scores": {r.split(",")[0]: r.split(",")[2] for r in rows},
            "phases": [r["phases"] for r in results if r.get("phases")] + [reference.get("phases", {})]}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dask_cluster(workers: int):
    """A Dask scheduler and ``workers`` single-threaded workers on loopback, as this user."""
    from distributed import Client

    port, bindir = free_port(), Path(sys.executable).parent
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=venv_env(), cwd=ROOT, preexec_fn=CPU.enter)
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], **quiet)]
    try:
        for _ in range(workers):
            procs.append(subprocess.Popen([str(bindir / "dask"), "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                           "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"], **quiet))
        with Client(f"tcp://127.0.0.1:{port}", timeout="60s") as client:
            client.wait_for_workers(workers, timeout=180)
        yield f"tcp://127.0.0.1:{port}"
    finally:
        for p in reversed(procs):
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def mean(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else float("nan")


def phase_rows(label: str, run: dict) -> list[str]:
    """Per-submission means of each phase (the reference run included). The zygotes' own start is
    shown once per zygote, and a kernel's wait for its zygote is taken out of its start."""
    ph = [p for p in run["phases"] if "start_s" in p]
    zygotes = [p for p in ph if p.get("zygote_start_s") is not None]
    start = mean(p["start_s"] - p.get("zygote_wait_s", 0) for p in ph)
    start_cpu = mean(p["start_kernel_cpu_s"] + p["start_grader_cpu_s"] for p in ph)
    cells = mean(p.get("cells_s") for p in ph)
    cells_cpu = mean(p.get("cells_kernel_cpu_s", 0) + p.get("cells_grader_cpu_s", 0) for p in ph)
    scoring = mean(p.get("scoring_s") for p in ph)
    scoring_cpu = mean(p.get("scoring_cpu_s") for p in ph)
    kinds = sorted({p.get("kernel") for p in ph})
    rows = [f"| {label} ({'/'.join(kinds)} kernels) | {start:.2f} s / {start_cpu:.2f} s | {cells:.2f} s / "
            f"{cells_cpu:.2f} s | {scoring:.3f} s / {scoring_cpu:.3f} s |"]
    if zygotes:
        rows.append(f"| … its {len(zygotes)} zygote(s)' start (imports), once per batch or Dask worker | "
                    f"{mean(z['zygote_start_s'] for z in zygotes):.2f} s / {mean(z['zygote_cpu_s'] for z in zygotes):.2f} s"
                    " | | |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args(argv)
    n, w = args.students, args.workers
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        work = Path(tmp)
        subs = work / "submitted"
        make_submissions(subs, n)
        stock_s, stock_peak, stock_cpu = stock_nbgrader(work, subs)
        fresh = this_grader(work, subs, w, "fresh", fast=False)
        one = this_grader(work, subs, 1, "fast1")
        fast = this_grader(work, subs, w, "fast")
        with dask_cluster(w) as scheduler:
            cluster_cpu = children_cpu()  # from the grading on: the cluster's own start is not counted
            dask = this_grader(work, subs, w, "dask", scheduler=scheduler)
        dask["cpu"] = children_cpu() - cluster_cpu
        flood_subs = work / "flood"
        make_submissions(flood_subs, n, flood=True)
        flood = this_grader(work, flood_subs, w, "flood")
    CPU.close()

    def row(label: str, r: dict, count: int, memory: str) -> str:
        return (f"| {label} | {r['seconds']:.1f} s | {r['seconds'] / count:.2f} s | {r['cpu']:.0f} s | "
                f"{r['cpu'] / count:.2f} s | {stock_s / r['seconds']:.2f}× | {memory} |")

    def grader_memory(r: dict) -> str:
        zygotes = f"; zygotes {r['zygotes'] / 2**30:.2f} GiB" if r["zygotes"] else ""
        return f"{r['peak'] / 2**20:.0f} MiB (kernels excluded{zygotes})"

    lines = [
        f"Grading {n} dual-framework submissions of `{ASSIGNMENT}` on {os.cpu_count()} cores "
        f"(`make bench`, one run; CPU: user + system of every process of the run, measured by {CPU.kind}):",
        "",
        "| grader | wall time | per submission | CPU time | CPU per submission | throughput vs stock | "
        "peak memory of the grading processes |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| stock `nbgrader autograde` (serial, unsandboxed) | {stock_s:.1f} s | {stock_s / n:.2f} s | "
        f"{stock_cpu:.0f} s | {stock_cpu / n:.2f} s | 1.00× | {stock_peak / 2**30:.2f} GiB (kernels included) |",
        row(f"`python -m autograder grade --workers {w} --Autograder.fast_start=False` (fresh kernels)", fresh, n,
            grader_memory(fresh)),
        row("`python -m autograder grade --workers 1` (forked kernels, the default)", one, n, grader_memory(one)),
        row(f"`python -m autograder grade --workers {w}` (forked kernels, the default)", fast, n, grader_memory(fast)),
        row(f"the same on a Dask cluster of {w} workers on loopback (CPU: scheduler and workers, from the grading to their exit)", dask, n,
            f"– (zygotes {dask['zygotes'] / 2**30:.2f} GiB)"),
        row(f"`--workers {w}`, plus one submission printing 50 MB", flood, n + 1, grader_memory(flood)),
        "",
        f"**Throughput ratio: {stock_s / fast['seconds']:.2f}×** with {w} workers (this grader's time includes its "
        f"reference-solution run and the zygotes' start); scaling 1 → {w} local workers "
        f"{one['seconds'] / fast['seconds']:.2f}×, {w} local workers → a {w}-worker Dask cluster "
        f"{fast['seconds'] / dask['seconds']:.2f}×. Scores: {sorted(set(fast['scores'].values()))} "
        f"(identical in every run: {fresh['scores'] == one['scores'] == fast['scores'] == dask['scores']}); "
        f"the flooder scored {flood['scores'].get('flooder')}.",
        "",
        "Per submission (mean over the submissions and the reference run), wall / CPU:",
        "",
        "| run | start (kernel up and answering) | cells | scoring |",
        "|---|---:|---:|---:|",
        *phase_rows(f"fresh kernels, {w} workers", fresh),
        *phase_rows(f"forked kernels, {w} workers", fast),
        *phase_rows(f"forked kernels, Dask, {w} workers", dask),
    ]
    text = "\n".join(lines)
    print(text)
    if args.readme:
        from .notebook_bench import write_block

        write_block(args.readme, text, MARKERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
