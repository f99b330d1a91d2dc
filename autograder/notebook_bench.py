"""Benchmark every notebook: wall time and the kernel's peak memory, plus the install size.

    python -m autograder.notebook_bench [--readme README.md] [NOTEBOOK ...]

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
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
TIME_BUDGET_S = 90
MEMORY_BUDGET_GIB = 1.2
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
    try:
        NotebookClient(nb, km=km, timeout=timeout, allow_errors=False).execute()
        wall = time.perf_counter() - start
        peak = peak_rss_bytes(km.provisioner.process.pid)
    finally:
        km.shutdown_kernel(now=True)
        sockets.cleanup()
    return {"notebook": str(path.relative_to(ROOT)), "wall_s": round(wall, 1), "peak_rss_gib": round(peak / 2**30, 2)}


def install_size_gib() -> float:
    venv = ROOT / ".venv"
    out = subprocess.run(["du", "-sb", str(venv)], capture_output=True, text=True, check=True).stdout
    return round(int(out.split()[0]) / 2**30, 2)


def table(rows: list[dict], install_gib: float) -> str:
    ok = lambda good: "✓" if good else "✗ over budget"  # noqa: E731
    lines = [
        f"Measured by `make bench` on {os.cpu_count()} cores ({platform.processor() or platform.machine()}), "
        f"threads capped to the CPU quota; installed `.venv`: **{install_gib} GiB**.",
        "",
        "| notebook | wall time | peak kernel memory | within budget |",
        "|---|---:|---:|---|",
    ]
    for r in rows:
        good = r["wall_s"] <= TIME_BUDGET_S and r["peak_rss_gib"] <= MEMORY_BUDGET_GIB
        lines.append(f"| `{r['notebook']}` | {r['wall_s']:.1f} s | {r['peak_rss_gib']:.2f} GiB | {ok(good)} |")
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
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or sorted(ROOT.glob("course/*.ipynb")) + sorted(ROOT.glob("source/*/*.ipynb"))
    rows = []
    for path in notebooks:
        row = run_notebook(path)
        print(f"{row['notebook']:<45} {row['wall_s']:>6.1f} s {row['peak_rss_gib']:>6.2f} GiB", flush=True)
        rows.append(row)
    text = table(rows, install_size_gib())
    print("\n" + text)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"install_gib": install_size_gib(), "notebooks": rows}, indent=2))
    if args.readme:
        write_readme(args.readme, text)
    over = [r for r in rows if r["wall_s"] > TIME_BUDGET_S or r["peak_rss_gib"] > MEMORY_BUDGET_GIB]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
