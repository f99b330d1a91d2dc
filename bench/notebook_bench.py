"""Benchmark every notebook: wall time and the peak memory of the kernel and its children, plus the install size.

    python -m bench.notebook_bench [--readme README.md] [NOTEBOOK ...]

Each notebook runs top to bottom in a fresh kernel (the same way nbval runs it), in its own
folder. Wall time counts from the kernel's start to the end of the last cell; peak memory is the
kernel process's high-water mark of resident memory (VmHWM), read just before it shuts down.
Budgets: 90 s and 1.2 GiB per notebook (Binder gives the whole server 1-2 GiB).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIME_BUDGET_S = 90
MEMORY_BUDGET_GIB = 1.2
LAB_BUDGET_GIB = 1.5
MARKERS = ("<!-- bench:start -->", "<!-- bench:end -->")


def peak_rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmHWM for process {pid}")


def run_notebook(path: Path, timeout: int = 600) -> dict:
    nb = nbformat.read(path, as_version=4)
    sockets = tempfile.TemporaryDirectory(prefix="bench-kernel-")
    # IPC sockets (absolute paths: the kernel runs in the notebook's folder) instead of open TCP ports.
    km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(sockets.name, "kernel"))
    start = time.perf_counter()
    km.start_kernel(cwd=str(path.parent))
    # The kernel and every process it starts (torch.compile's workers, a child running another Keras backend).
    tree = PeakRSS(km.provisioner.process.pid, grader_only=False, proportional=True)
    try:
        NotebookClient(nb, km=km, timeout=timeout, allow_errors=False).execute()
        wall = time.perf_counter() - start
        peak = max(peak_rss_bytes(km.provisioner.process.pid), tree.stop())
    finally:
        tree.stop()
        km.shutdown_kernel(now=True)
        sockets.cleanup()
    return {"notebook": str(path.relative_to(ROOT)), "wall_s": round(wall, 1), "peak_rss_gib": round(peak / 2**30, 2)}


class PeakRSS:
    """Peak resident memory of a process tree, sampled every 50 ms; processes whose uid is a
    sandbox uid (the students' kernels) are left out when ``grader_only``."""

    def __init__(self, pid: int, grader_only: bool, proportional: bool = False):
        self.pid, self.grader_only, self.peak, self._stop = pid, grader_only, 0, threading.Event()
        # proportional: each page shared by n processes counts 1/n (Pss), so forked workers that share their
        # parent's pages copy-on-write are not counted twice
        self.field = "Pss" if proportional else "VmRSS"
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _tree(self) -> list[int]:
        children, pids, out = {}, [self.pid], []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
            except (OSError, IndexError, ValueError):
                pass
        while pids:
            p = pids.pop()
            out.append(p)
            pids += children.get(p, [])
        return out

    def _rss(self, pid: int) -> int:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return 0
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:  # it ended between the two reads
            return 0
        if self.grader_only and (61000 <= uid < 65000 or b"ipykernel" in cmd or b"bwrap" in cmd):
            return 0
        if self.field == "Pss":
            try:
                status = Path(f"/proc/{pid}/smaps_rollup").read_text()
            except OSError:
                return 0
        m = re.search(rf"^{self.field}:\s+(\d+)", status, re.M)
        return int(m.group(1)) * 1024 if m else 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, sum(self._rss(p) for p in self._tree()))
            time.sleep(0.05)

    def stop(self) -> int:
        self._stop.set()
        self.thread.join()
        return self.peak


def lab_server_memory(notebook: Path, timeout: int = 600) -> float:
    """Peak memory (GiB) of a student's JupyterLab server (`make lab`'s settings) plus one kernel,
    started by the server, running ``notebook`` top to bottom: what one Binder user needs."""
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "bench"
    runtime = Path(tempfile.mkdtemp(prefix="bench-lab-"))
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(runtime),
           "JUPYTER_CONFIG_PATH": str(ROOT / ".jupyter" / "student")}
    server = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser", f"--ServerApp.port={port}",
                               "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
                               f"--ServerApp.root_dir={ROOT}", "--ServerApp.allow_root=True"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meter = PeakRSS(server.pid, grader_only=False, proportional=True)
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}", "Content-Type": "application/json"}
        for _ in range(240):
            try:
                urllib.request.urlopen(urllib.request.Request(base + "/api/status", headers=headers), timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        path = str(notebook.relative_to(ROOT))
        body = json.dumps({"path": path, "type": "notebook", "name": notebook.name, "kernel": {"name": "python3"}})
        session = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/sessions", data=body.encode(), headers=headers, method="POST"), timeout=60).read())
        from jupyter_client import BlockingKernelClient

        kc = BlockingKernelClient(connection_file=str(runtime / f"kernel-{session['kernel']['id']}.json"))
        kc.load_connection_file()
        kc.start_channels()
        kc.wait_for_ready(timeout=120)
        for cell in nbformat.read(notebook, as_version=4).cells:
            if cell.cell_type == "code":
                reply = kc.execute_interactive(cell.source, timeout=timeout, output_hook=lambda msg: None)
                if reply["content"]["status"] != "ok":
                    raise RuntimeError(f"{path}: a cell failed in the lab kernel")
        kc.stop_channels()
        return round(meter.stop() / 2**30, 2)
    finally:
        meter.stop()
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(runtime, ignore_errors=True)


def install_size_gib() -> float:
    venv = (ROOT / ".venv").resolve()  # a worktree's .venv may be a link to the real one
    out = subprocess.run(["du", "-sb", str(venv)], capture_output=True, text=True, check=True).stdout
    return round(int(out.split()[0]) / 2**30, 2)


def table(rows: list[dict], install_gib: float, lab: tuple[str, float] | None = None) -> str:
    ok = lambda good: "✓" if good else "✗ over budget"  # noqa: E731
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"threads capped to the CPU quota; installed `.venv`: **{install_gib} GiB**.",
        "",
        "| notebook | wall time | peak memory (kernel and its children) | within budget |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        good = r["wall_s"] <= TIME_BUDGET_S and r["peak_rss_gib"] <= MEMORY_BUDGET_GIB
        lines.append(f"| `{r['notebook']}` | {r['wall_s']:.1f} s | {r['peak_rss_gib']:.2f} GiB | {ok(good)} |")
    if lab:
        lines += ["", f"A student's JupyterLab server plus one kernel running the largest chapter (`{lab[0]}`) "
                      f"peaks at **{lab[1]:.2f} GiB** (budget {LAB_BUDGET_GIB} GiB: Binder allows 1-2 GiB) "
                      f"{ok(lab[1] <= LAB_BUDGET_GIB)}."]
    return "\n".join(lines)


def write_readme(readme: Path, text: str) -> None:
    write_block(readme, text, MARKERS)


def write_block(readme: Path, text: str, markers: tuple[str, str]) -> None:
    """Replace what stands between the two marker comments of ``readme`` with ``text``."""
    content = readme.read_text()
    start, end = markers
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(content):
        raise SystemExit(f"{readme} has no {start} ... {end} block to fill")
    readme.write_text(pattern.sub(lambda _: f"{start}\n{text}\n{end}", content))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: course/*.ipynb and source/*/*.ipynb")
    parser.add_argument("--readme", type=Path, help="write the table into this file's bench block")
    parser.add_argument("--json", type=Path, default=ROOT / "bench-results" / "notebooks.json")
    parser.add_argument("--no-lab", action="store_true", help="skip the JupyterLab server measurement")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(ROOT.glob("course/*.ipynb")) + sorted(ROOT.glob("source/*/*.ipynb"))
    rows = []
    for path in notebooks:
        row = run_notebook(path)
        print(f"{row['notebook']:<45} {row['wall_s']:>6.1f} s {row['peak_rss_gib']:>6.2f} GiB", flush=True)
        rows.append(row)
    lab = None
    chapters = [r for r in rows if r["notebook"].startswith("course/")]
    if chapters and not args.no_lab:
        largest = max(chapters, key=lambda r: r["peak_rss_gib"])["notebook"]
        lab = (largest, lab_server_memory(ROOT / largest))
        print(f"lab server + kernel running {largest}: {lab[1]:.2f} GiB", flush=True)
    text = table(rows, install_size_gib(), lab)
    print("\n" + text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"install_gib": install_size_gib(), "notebooks": rows,
                                     "lab_server_gib": lab and {"notebook": lab[0], "peak_gib": lab[1]}}, indent=2))
    if args.readme:
        write_readme(args.readme, text)
    over = [r for r in rows if r["wall_s"] > TIME_BUDGET_S or r["peak_rss_gib"] > MEMORY_BUDGET_GIB]
    return 1 if over or (lab and lab[1] > LAB_BUDGET_GIB) else 0


if __name__ == "__main__":
    sys.exit(main())
