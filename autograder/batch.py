"""Grade a whole class: collect, compute the reference once, fan the pure ``grade`` function out
to local worker processes or a Dask cluster, and write each result the moment it arrives.

Resuming: every result is saved atomically as ``OUT/results/<student>.json`` with a fingerprint
of the submission, the assignment and the grader. A run killed halfway is simply run again: a
saved result whose fingerprint still matches is kept, everything else is graded afresh, so no
work is lost, none is done twice, and a changed submission never keeps an old score.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import socket
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from . import collect, config, gradebook, nbgrader_course, outputs, sandbox, template
from .config import RunLimits, SandboxLimits
from .fingerprint import reusable
from .grade import Executed, Task, _failure, execute, fingerprint, score
from .zygote_service import ZygoteService, connect


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
                  limits: RunLimits, sandbox_limits: SandboxLimits, fast_start: bool = False) -> list[Task]:
    if submissions.is_file() and submissions.suffix == ".zip":
        subs = collect.from_zip(submissions, assignment, tpl.notebook)
    elif submissions.is_dir():
        subs = collect.from_directory(submissions, assignment, tpl.notebook)
    else:
        raise SystemExit(f"--submissions {submissions}: not a folder or a .zip file")
    return [Task(s.student_id, tpl, s.filename, s.data, s.flags, s.status, s.reason, sandboxed, limits, sandbox_limits,
                 submitted_as=s.submitted_as, nbgrader_files=s.nbgrader_files, fast_start=fast_start) for s in subs]


def _saved(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


REFERENCE = "__reference__"


def _job(job):
    """What a worker runs: the reference solution, or one submission (both sandboxed)."""
    kind, payload = job
    if kind == REFERENCE:
        tpl, sandboxed, limits, sandbox_limits, fast_start = payload  # the very limits the submissions run under
        return REFERENCE, (template.run_reference(tpl, sandboxed, limits, sandbox_limits, fast_start),
                           f"{socket.gethostname()}:{os.getpid()}")
    return "submission", execute(payload)


def zygote_service(tpl: template.Template, sandboxed: bool, fast_start: bool, limits: RunLimits,
                   sandbox_limits: SandboxLimits, scheduler: str | None) -> ZygoteService | None:
    """The zygote the local workers share (zygote_service.py), starting in the background; None on a
    Dask cluster (each worker has its own) or when kernels start fresh."""
    if scheduler or not (sandboxed and fast_start):
        return None
    try:
        return ZygoteService(tpl.preload, sandbox_limits, limits.startup_timeout_s)
    except OSError:  # no socket here (a TMPDIR too deep for one): each worker starts a zygote of its own
        return None


def run(tasks: list[Task], tpl: template.Template, out: Path, workers: int, scheduler: str | None,
        progress: Progress | None = None, service: ZygoteService | None = None) -> list[dict]:
    """Grade ``tasks``: the reference solution and the submissions run side by side on the workers;
    each result is scored here, against the reference, and saved the moment both are in. Local
    workers fork their kernels from ``service``'s zygote (one is started when none is given)."""
    results_dir = out / "results"
    results: dict[str, dict] = {}
    todo = []
    for task in tasks:
        saved = _saved(results_dir / f"{collect.file_name(task.student_id)}.json")
        if reusable(saved, task):  # unchanged, and not a failure of the grader itself
            results[task.student_id] = saved
        else:
            todo.append(task)
    if progress:
        progress.total = max(len(todo), 1)
    if not todo:
        return [results[t.student_id] for t in tasks]
    waiting: list[Executed] = []

    def keep(result: dict) -> None:
        outputs.write_atomic(results_dir / f"{collect.file_name(result['student_id'])}.json", json.dumps(result, indent=1))
        results[result["student_id"]] = result
        if progress:
            progress.update(result)

    def arrived(kind, value):
        if kind == REFERENCE:
            reference_run, worker = value
            template.set_reference(tpl, reference_run)  # InstructorError stops the batch: nobody can be graded
            outputs.write_atomic(out / "reference.json", json.dumps(
                {"assignment": tpl.assignment, "digest": tpl.digest, "worker": worker,
                 "seconds": reference_run.seconds, "phases": reference_run.phases, "checks": sorted(tpl.reference)},
                indent=1))
            for executed in waiting:
                keep(score(executed, tpl))
            waiting.clear()
        elif tpl.reference:
            keep(score(value, tpl))
        else:
            waiting.append(value)

    def settle(job, outcome) -> None:
        try:
            arrived(*outcome())
        except template.InstructorError:
            raise
        except Exception as e:  # noqa: BLE001 - a lost worker or process loses one result, not the batch
            if job[0] == REFERENCE:
                raise template.InstructorError(f"the reference solution could not run: {e}") from e
            arrived("submission", Executed(job[1], _failure(job[1], e)))

    first = todo[0]
    jobs = [(REFERENCE, (tpl, first.sandboxed, first.limits, first.sandbox_limits, first.fast_start))] + [("submission", t) for t in todo]
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler, timeout="30s") as client:
            futures = {client.submit(_job, job, pure=False,
                                     key=f"grade-{job[1].student_id}-{fingerprint(job[1])}" if job[0] != REFERENCE
                                     else f"reference-{tpl.digest}"): job for job in jobs}
            for future in dask_completed(futures):
                settle(futures[future], future.result)
    else:
        own = service is None and (service := zygote_service(tpl, first.sandboxed, first.fast_start, first.limits,
                                                             first.sandbox_limits, None)) is not None
        ctx = multiprocessing.get_context("spawn")  # no forking of zmq/framework state
        try:
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=connect if service else None,
                                     initargs=(service.address,) if service else ()) as pool:
                futures = {pool.submit(_job, job): job for job in jobs}
                for future in as_completed(futures):
                    try:
                        settle(futures[future], future.result)
                    except template.InstructorError:
                        for f in futures:
                            f.cancel()
                        raise
        finally:
            if own:
                service.close()
    if progress:
        progress.close()
    return [results[t.student_id] for t in tasks]


def grade_assignment(assignment: str, submissions: Path | None = None, out: Path | None = None,
                     workers: int | None = None, scheduler: str | None = None, db: str | None = None,
                     unsafe_no_sandbox: bool = False, root: Path = template.ROOT,
                     settings: config.Autograder | None = None, quiet: bool = False) -> list[dict]:
    """Grade every submission of ``assignment`` and leave what ``nbgrader autograde`` leaves: the
    autograded notebooks and the gradebook rows (the course's, from its nbgrader_config.py), plus
    this grader's own grades.csv, results/, feedback/ and report/ in ``out``. ``settings`` defaults
    to the course's nbgrader_config.py (config.load)."""
    settings = settings or config.load(root)
    sandboxed = not unsafe_no_sandbox
    if sandboxed:
        sandbox.check_available()
        if os.geteuid() == 0 and (n := sandbox.reap_orphans()) and not quiet:
            print(f"autograder: killed {n} processes left by an earlier, interrupted grader", file=sys.stderr)
    tpl = template.load(assignment, root, conventions=settings.course_conventions)
    # the zygote imports the frameworks while this process imports nbgrader and the submissions are read
    service = zygote_service(tpl, sandboxed, settings.fast_start, settings.run_limits(), settings.sandbox_limits(),
                             scheduler)
    try:
        coursedir = nbgrader_course.course_directory(root, settings.config)
        submissions = Path(submissions) if submissions else Path(coursedir.root) / coursedir.submitted_directory
        out = Path(out) if out else Path(coursedir.root) / "autograder" / "graded" / assignment
        tasks = collect_tasks(assignment, submissions, tpl, sandboxed, settings.run_limits(),
                              settings.sandbox_limits(), settings.fast_start)
        if not tasks:
            raise SystemExit(f"no student folders found in {submissions}")
        workers = workers or settings.workers or os.cpu_count() or 1
        progress = None if quiet else Progress(len(tasks))
        db_url = db or coursedir.db_url
        registration = gradebook.Registration(assignment, Path(tpl.root), db_url)  # runs while the kernels do
        try:
            results = run(tasks, tpl, out, workers, scheduler, progress, service)
        except BaseException:
            with contextlib.suppress(Exception):  # let nbgrader finish its gradebook transaction; the error is the grading's
                registration.wait()
            raise
    finally:
        if service:
            service.close()
        if sandboxed and os.geteuid() == 0:
            sandbox.reap_orphans()
    for r in results:
        write_autograded(coursedir, tpl, r)
    totals = gradebook.record(results, tpl, db_url, coursedir.course_id, settings.config, registration)
    for r in results:
        r["auto_score"] = r["score"]
        r.update(totals.get(r["student_id"], {}))
    outputs.grades_csv(results, out / "grades.csv")
    for r in results:
        outputs.write_atomic(out / "feedback" / collect.file_name(r["student_id"]) / f"{assignment}.html",
                             outputs.feedback_html(r))
    summary = outputs.class_report(results, out / "report")
    if not quiet:
        print(summary, end="")
    return results


def write_autograded(coursedir, tpl: template.Template, result: dict) -> None:
    """The autograded notebook where nbgrader keeps it, with nbgrader's bookkeeping files of the
    submission beside it (as nbgrader autograde copies them); a stale one from an earlier grading goes."""
    if result["status"] in gradebook.NOT_RECORDED:
        return
    folder = nbgrader_course.assignment_folder(coursedir, coursedir.autograded_directory,
                                               result["student_id"], tpl.assignment)
    path = folder / tpl.notebook
    if not result.get("notebook"):
        path.unlink(missing_ok=True)
        return
    outputs.write_atomic(path, json.dumps(result["notebook"], indent=1, ensure_ascii=False) + "\n")
    for name, text in result.get("nbgrader_files", {}).items():
        if name in collect.NBGRADER_FILES:
            outputs.write_atomic(folder / name, text)  # as nbgrader writes them: no newline
