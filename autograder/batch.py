"""Grade a whole class: collect, compute the reference once, fan the pure ``grade`` function out
to local worker processes or a Dask cluster, and write each result the moment it arrives.

Resuming: every result is saved atomically as ``OUT/results/<student>.json`` with a fingerprint
of the submission, the assignment and the grader. A run killed halfway is simply run again: a
saved result whose fingerprint still matches is kept, everything else is graded afresh, so no
work is lost, none is done twice, and a changed submission never keeps an old score.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import collect, outputs, sandbox, template
from .grade import Task, fingerprint, grade
from .kernel import RunLimits


class Progress:
    """A one-line progress bar on stderr (a plain line per result when stderr is not a terminal)."""

    def __init__(self, total: int, stream=sys.stderr):
        self.total, self.done, self.start, self.stream = total, 0, time.monotonic(), stream
        self.tty = stream.isatty()

    def update(self, result: dict) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        width = 24
        bar = "#" * round(width * self.done / self.total) + "-" * (width - round(width * self.done / self.total))
        line = (f"[{bar}] {self.done}/{self.total}  {result['student_id']}: {result['score']:g}/{result['max_score']:g} "
                f"{result['status']}  ETA {eta:.0f}s")
        print(("\r" + line[:120].ljust(120)) if self.tty else line, end="" if self.tty else "\n",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.tty:
            print(file=self.stream)


def collect_tasks(assignment: str, submissions: Path, tpl: template.Template, sandboxed: bool,
                  limits: RunLimits, sandbox_limits: sandbox.Limits = sandbox.Limits()) -> list[Task]:
    if submissions.is_file() and submissions.suffix == ".zip":
        subs = collect.from_zip(submissions, assignment, tpl.notebook)
    elif submissions.is_dir():
        subs = collect.from_directory(submissions, assignment, tpl.notebook)
    else:
        raise SystemExit(f"--submissions {submissions}: not a folder or a .zip file")
    return [Task(s.student_id, tpl, s.filename, s.data, s.flags, s.status, s.reason, sandboxed, limits, sandbox_limits)
            for s in subs]


def _saved(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _pool_grade(task: Task) -> dict:
    return grade(task)


def run(tasks: list[Task], out: Path, workers: int, scheduler: str | None, progress: Progress | None = None) -> list[dict]:
    results_dir = out / "results"
    results: dict[str, dict] = {}
    todo = []
    for task in tasks:
        saved = _saved(results_dir / f"{task.student_id}.json")
        if saved and saved.get("fingerprint") == fingerprint(task):
            results[task.student_id] = saved
        else:
            todo.append(task)
    if progress:
        progress.total = max(len(todo), 1)

    def keep(result: dict) -> None:
        outputs.write_atomic(results_dir / f"{result['student_id']}.json", json.dumps(result, indent=1))
        results[result["student_id"]] = result
        if progress:
            progress.update(result)

    if todo and scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler, timeout="30s") as client:
            futures = {client.submit(grade, t, pure=False, key=f"grade-{t.student_id}-{fingerprint(t)}"): t
                       for t in todo}
            for future in dask_completed(futures):
                try:
                    keep(future.result())
                except Exception as e:  # noqa: BLE001 - a lost worker loses one result, not the batch
                    t = futures[future]
                    keep({**_failure(t, e)})
    elif todo:
        ctx = multiprocessing.get_context("spawn")  # no forking of zmq/framework state
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
            futures = {pool.submit(_pool_grade, t): t for t in todo}
            for future in as_completed(futures):
                try:
                    keep(future.result())
                except Exception as e:  # noqa: BLE001 - e.g. a worker process killed by the OS
                    keep(_failure(futures[future], e))
    if progress:
        progress.close()
    return [results[t.student_id] for t in tasks]


def _failure(task: Task, error: Exception) -> dict:
    from .grade import _result

    return _result(task, "grader_error", f"grading this submission failed: {type(error).__name__}: {error}")


def grade_assignment(assignment: str, submissions: Path, out: Path, workers: int | None = None,
                     scheduler: str | None = None, db: str | None = None, unsafe_no_sandbox: bool = False,
                     root: Path = template.ROOT, limits: RunLimits = RunLimits(),
                     sandbox_limits: sandbox.Limits = sandbox.Limits(), quiet: bool = False) -> list[dict]:
    sandboxed = not unsafe_no_sandbox
    if sandboxed:
        sandbox.check_available()
    tpl = template.load(assignment, root)
    template.compute_reference(tpl, sandboxed=sandboxed, limits=limits)
    tasks = collect_tasks(assignment, submissions, tpl, sandboxed, limits, sandbox_limits)
    if not tasks:
        raise SystemExit(f"no student folders found in {submissions}")
    workers = workers or os.cpu_count() or 1
    progress = None if quiet else Progress(len(tasks))
    results = run(tasks, out, workers, scheduler, progress)
    outputs.grades_csv(results, out / "grades.csv")
    for r in results:
        outputs.write_atomic(out / "feedback" / r["student_id"] / f"{assignment}.html", outputs.feedback_html(r))
    summary = outputs.class_report(results, out / "report")
    db_url = db or f"sqlite:///{(root / 'autograder' / 'gradebook.db').resolve()}"
    outputs.record_in_gradebook(results, assignment, db_url, root)
    if not quiet:
        print(summary, end="")
    return results
