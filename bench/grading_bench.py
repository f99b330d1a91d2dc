"""Benchmark: this grader against stock `nbgrader autograde`, on the same submissions, in one run.

    python -m bench.grading_bench [--students N] [--workers W] [--readme README.md]

The submissions are copies of the shipped 01_tensors examples (correct and partial: both
frameworks imported, every test run). Stock nbgrader grades them one after another in its own
course folder (its documented model: no parallel autograding, no sandbox); this grader grades
them with W workers, sandboxed, reference run included. A second batch adds one submission that
prints 50 MB, to show that the grader's own memory (the grading processes, not the students'
kernels) does not grow with what students print.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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


def timed(cmd: list[str], cwd: Path, env: dict | None = None, grader_only: bool = False) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    seconds, peak, _ = timed(nbgrader + ["autograde", ASSIGNMENT, "--force", "--log-level=ERROR"], course, venv_env())
    return seconds, peak


def this_grader(work: Path, subs: Path, workers: int, name: str) -> tuple[float, int, dict]:
    out = work / f"out-{name}"
    cmd = [sys.executable, "-m", "autograder", "grade", ASSIGNMENT, "--submissions", str(subs), "--out", str(out),
           "--workers", str(workers), "--db", f"sqlite:///{work / f'{name}.db'}", "--quiet"]
    seconds, peak, _ = timed(cmd, ROOT, venv_env(), grader_only=True)
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    return seconds, peak, {r.split(",")[0]: r.split(",")[2] for r in rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--readme", type=Path)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        work = Path(tmp)
        subs = work / "submitted"
        make_submissions(subs, args.students)
        stock_s, stock_peak = stock_nbgrader(work, subs)
        ours_s, ours_peak, scores = this_grader(work, subs, args.workers, "plain")
        flood_subs = work / "flood"
        make_submissions(flood_subs, args.students, flood=True)
        flood_s, flood_peak, flood_scores = this_grader(work, flood_subs, args.workers, "flood")
    n = args.students
    lines = [
        f"Grading {n} dual-framework submissions of `{ASSIGNMENT}` on {os.cpu_count()} cores "
        f"(`make bench`, one run):",
        "",
        "| grader | wall time | per submission | peak memory of the grading processes |",
        "|---|---:|---:|---:|",
        f"| stock `nbgrader autograde` (serial, unsandboxed) | {stock_s:.0f} s | {stock_s / n:.1f} s | "
        f"{stock_peak / 2**30:.2f} GiB (kernels included) |",
        f"| `python -m autograder grade --workers {args.workers}` (sandboxed) | {ours_s:.0f} s | {ours_s / n:.1f} s | "
        f"{ours_peak / 2**20:.0f} MiB (kernels excluded) |",
        f"| the same, plus one submission printing 50 MB | {flood_s:.0f} s | {flood_s / (n + 1):.1f} s | "
        f"{flood_peak / 2**20:.0f} MiB (kernels excluded) |",
        "",
        f"**Throughput ratio: {stock_s / ours_s:.2f}×** (this grader's time includes its reference-solution run). "
        f"Scores: {sorted(set(scores.values()))}; the flooder scored {flood_scores.get('flooder')}.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.readme:
        from .notebook_bench import write_block

        write_block(args.readme, text, MARKERS)
    return 0


if __name__ == "__main__":
    sys.exit(main())
