"""Grade one submission: a pure function from (template, submitted bytes) to a result dict.

Policy for what students send (every case is a recorded result with a reason, never a crash):

==========================  ===============================================================
what arrived                what happens
==========================  ===============================================================
no assignment folder        status ``not_submitted``, score 0 (not in the gradebook, as in nbgrader)
no notebook                 status ``missing``, score 0
wrong file name             the only ``.ipynb`` in the folder is graded, flagged; several: ``ambiguous``, 0
over ``MAX_BYTES``          status ``too_large``, score 0 (never parsed)
not UTF-8 / not JSON        status ``unreadable``, score 0
not a notebook              status ``unreadable``, score 0
answer cell missing         graded as unanswered (its stub), flagged
answer cell duplicated      the first copy is graded, flagged
read-only/test cells edited restored from the trusted template, flagged
cells added by the student  kept, in place, and run (they are student code like any other)
kernel dies / times out     checks that finished still count; status names it, with the cell
oversized message/reply     status ``output_flood`` (the link is cut at ``message_bytes``)
malformed hand-back         that check fails, with the reason (``handback.HandbackError``)
kernel cannot start         status ``kernel_failed_to_start``: the grader's failure, regraded next run
the grader fails            status ``grader_error`` with the traceback: regraded next run
==========================  ===============================================================
"""

from __future__ import annotations

import json
import os
import socket
import time
import traceback
from dataclasses import dataclass, field

from . import __version__, autograded, handback
from . import fingerprint as fingerprints
from .config import RunLimits, SandboxLimits, as_dict, defaults
from .kernel import run_cells
from .template import Template

MAX_BYTES = 20 * 2**20


@dataclass
class Task:
    student_id: str
    template: Template
    filename: str | None          # what the student's notebook was called (None: nothing submitted)
    data: bytes | None            # its bytes
    flags: tuple[str, ...] = ()   # found while collecting (e.g. misnamed file)
    status: str | None = None     # set when collection already decided (missing, ambiguous)
    reason: str = ""
    sandboxed: bool = True
    limits: RunLimits = field(default_factory=lambda: defaults().run_limits())
    sandbox_limits: SandboxLimits = field(default_factory=lambda: defaults().sandbox_limits())
    submitted_as: str = ""        # the student's folder or the zip members it came from
    nbgrader_files: dict | None = None  # nbgrader's timestamp.txt and submission_secret.txt, if it has them
    fast_start: bool = False      # fork the kernel from the worker's zygote (fast_start.py); never decides a grade


def fingerprint(task: Task) -> str:
    """What decides this task's grade, digested (see ``fingerprint.py``)."""
    return fingerprints.of_task(task)


def _result(task: Task, status: str, reason: str, score: float = 0.0, **extra) -> dict:
    return {"student_id": task.student_id, "assignment": task.template.assignment, "score": round(score, 4),
            "max_score": task.template.max_score, "status": status, "reason": reason,
            "flags": list(task.flags) + extra.pop("flags", []), "cells": extra.pop("cells", []),
            "submitted_as": task.submitted_as, "timestamp": (task.nbgrader_files or {}).get("timestamp.txt"),
            "nbgrader_files": task.nbgrader_files or {},
            "fingerprint": fingerprint(task), "grader_version": f"{__version__}+{fingerprints.grader_digest()}",
            "environment": extra.pop("environment", None) or fingerprints.environment_digest(),
            "limits": {**as_dict(task.limits, task.sandbox_limits), "sandboxed": task.sandboxed},
            "worker": f"{socket.gethostname()}:{os.getpid()}", **extra}


def _read_notebook(data: bytes) -> tuple[dict | None, str]:
    if len(data) > MAX_BYTES:
        return None, f"the notebook is {len(data) / 2**20:.1f} MiB, over the {MAX_BYTES // 2**20} MiB limit"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"the notebook is not UTF-8 text (byte {e.start})"
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"the notebook is not valid JSON (line {e.lineno}: {e.msg})"
    if not (isinstance(nb, dict) and isinstance(nb.get("cells"), list)
            and all(isinstance(c, dict) for c in nb["cells"])):
        return None, "the file is JSON but not a Jupyter notebook (no list of cells)"
    return nb, ""


def _source(cell: dict) -> str:
    s = cell.get("source", "")
    if isinstance(s, list):
        return "".join(x for x in s if isinstance(x, str))
    return s if isinstance(s, str) else ""


def _grade_id(cell: dict) -> str | None:
    meta = cell.get("metadata")
    nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
    gid = nbg.get("grade_id") if isinstance(nbg, dict) else None
    return gid if isinstance(gid, str) else None


@dataclass
class Assembly:
    """A submission put together with its trusted template: the code that runs, in order, and the
    notebook nbgrader keeps of it (the template's cells, the student's answers, written answers and
    own cells, in the order they ran)."""
    codes: list[str]                 # what the kernel runs, in order
    ids: list[str | None]            # the grade_id of each code (None: a cell the student added)
    flags: list[str]
    cells: list[dict]                # the autograded notebook's cells
    runs: list[int | None]           # for each of ``cells``, its index in ``codes`` (None: markdown)


def _cell(kind: str, source: str, metadata: dict | None = None) -> dict:
    cell = {"cell_type": kind, "metadata": metadata or {}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def assemble(template: Template, nb: dict) -> Assembly:
    """The code to run: the template's cells in order, the student's answers spliced in by
    grade_id, the student's own extra cells kept after the template cell they followed. Read-only
    and test cells always come from the template (the release version: no hidden tests)."""
    by_id = {c["grade_id"]: c for c in template.cells if c["grade_id"]}
    released = {_grade_id(c): c for c in template.release_cells if _grade_id(c)}
    answers, extras, flags, after = {}, {}, [], None
    for cell in nb["cells"]:
        kind, gid, text = cell.get("cell_type"), _grade_id(cell), _source(cell)
        if gid in released and released[gid].get("cell_type") == kind:
            after = gid
            if gid in by_id and by_id[gid]["kind"] == "answer" or _is_written(released[gid]):
                if gid in answers:
                    flags.append(f"answer cell {gid} appears twice: the first copy was graded")
                else:
                    answers[gid] = text
            elif text.strip() != _source(released[gid]).strip():
                flags.append(f"read-only cell {gid} was edited: the original was restored")
        elif kind in ("code", "markdown") and text.strip():
            extras.setdefault(after, []).append(_cell(kind, text))
    out = Assembly([], [], flags, [], [])

    def add(cell: dict, gid: str | None = None, code: str | None = None) -> None:
        out.cells.append(cell)
        if cell["cell_type"] == "code":
            out.runs.append(len(out.codes))
            out.codes.append(cell["source"] if code is None else code)
            out.ids.append(gid)
        else:
            out.runs.append(None)

    for cell in extras.get(None, []):
        add(cell)
    code_cells = iter(template.cells)
    for rel in template.release_cells:
        gid, kind = _grade_id(rel), rel.get("cell_type")
        copy = _cell(kind, _source(rel), json.loads(json.dumps(rel.get("metadata", {}))))
        if kind == "code":
            tcell = next(code_cells)
            if tcell["kind"] == "answer":
                if gid not in answers:
                    flags.append(f"answer cell {gid} is missing: graded as unanswered")
                copy["source"] = answers.get(gid, tcell["original"])
            add(copy, tcell["grade_id"], None if tcell["kind"] == "answer" else tcell["code"])
        elif kind in ("markdown", "raw"):
            if _is_written(rel):
                if gid not in answers:
                    flags.append(f"written answer {gid} is missing: left as unanswered")
                copy["source"] = answers.get(gid, copy["source"])
            add(copy)
        for cell in extras.get(gid, []) if gid else []:
            add(cell)
    return out


def _is_written(cell: dict) -> bool:
    """A markdown answer cell (an explanation): graded by hand in the formgrader."""
    meta = (cell.get("metadata") or {}).get("nbgrader") or {}
    return cell.get("cell_type") == "markdown" and bool(meta.get("solution"))


def score_cells(template: Template, ids: list, runs: list) -> list[dict]:
    """Each test cell's points, from what its checks handed back (``runs``: ``kernel.CellRun``s
    of the cells whose grade_ids are ``ids``) compared with ``template.reference``.

    A check against a known answer passes when the student's actual is within the author's
    tolerance of the value the expected expression took in the reference run. A check between
    frameworks passes when the student's PyTorch and TensorFlow values agree with each other
    within the tolerance AND each agrees with the reference's value for its side, so that two
    equally wrong answers do not pass. Whatever came back malformed fails its check, with a reason.
    """
    from sidebyside import ParityError, assert_parity

    by_id = {gid: run for gid, run in zip(ids, runs) if gid}
    report = []
    for gid, test in template.tests.items():
        run = by_id.get(gid)
        handed = {}
        for payload in (run.checks if run else []):
            name = handback.payload_name(payload)
            if name is not None:
                handed.setdefault(name, []).append(payload.get("values"))
        messages, passed, verdicts = [], True, []
        for spec in test.specs:
            hidden = spec.name not in test.visible
            label = f"hidden check «{spec.name}»" if hidden else f"check «{spec.name}»"
            expected_runs = template.reference[spec.name]
            got = handed.get(spec.name, [])
            verdicts.append({"name": spec.name, "hidden": hidden, "passed": False})
            if len(got) != len(expected_runs):
                passed = False
                messages.append(f"{label} did not run" if not got else f"{label} ran {len(got)} times, expected {len(expected_runs)}")
                continue
            verdicts[-1]["passed"] = True
            options = dict(rtol=spec.rtol, atol=spec.atol, check_dtype=spec.check_dtype)
            for values, want in zip(got, expected_runs):
                try:
                    arrays = handback.decode_payload(values, 2 if spec.is_parity else 1)
                    if spec.is_parity:
                        assert_parity(arrays[0], arrays[1], **options, name=f"{spec.name}: PyTorch vs TensorFlow")
                        for side, (a, w) in enumerate(zip(arrays, want)):
                            assert_parity(a, w, **options, name=f"{spec.name} ({('PyTorch', 'TensorFlow')[side]} side "
                                                                f"vs the reference solution)")
                    else:
                        assert_parity(arrays[0], want[0], **options, name=spec.name)
                except (ParityError, handback.HandbackError) as e:
                    passed = verdicts[-1]["passed"] = False
                    messages.append(f"{label} failed" if hidden else f"{label} failed:\n{e}")
                    break
                except Exception as e:  # noqa: BLE001 - data that decodes but cannot be compared
                    passed = verdicts[-1]["passed"] = False
                    messages.append(f"{label} failed" if hidden else
                                    f"{label} failed: the values could not be compared ({type(e).__name__})")
                    break
        if run and run.status == "error":
            hidden_cell = bool(test.visible != {s.name for s in test.specs})
            detail = run.error.split(":")[0] if hidden_cell else run.error
            messages.insert(0, f"the test cell raised {detail}")
        elif run is None or run.status in ("not_run", "timeout", "kernel_died"):
            messages.insert(0, "the test cell did not finish" if run and run.status != "not_run" else "the test cell did not run")
        report.append({"grade_id": gid, "points": test.points if passed else 0.0, "max_points": test.points,
                       "passed": passed, "messages": messages, "checks": verdicts})
    return report


@dataclass
class Executed:
    """What running a submission produced, before it is compared with the reference."""
    task: Task
    result: dict | None = None      # final already (nothing ran: missing, unreadable, ...)
    assembly: Assembly | None = None
    run: object = None               # kernel.NotebookRun
    seconds: float = 0.0
    environment: str = ""            # the digest of the worker's installed packages (fingerprint.py)


def execute(task: Task) -> Executed:
    """Run one submission in its sandbox (the expensive, parallel part). Never raises."""
    started = time.monotonic()
    try:
        if task.status:
            return Executed(task, _result(task, task.status, task.reason))
        nb, problem = _read_notebook(task.data or b"")
        if nb is None:
            return Executed(task, _result(task, "too_large" if "limit" in problem else "unreadable", problem))
        assembly = assemble(task.template, nb)
        run = run_cells(assembly.codes, sandboxed=task.sandboxed, limits=task.limits,
                        sandbox_limits=task.sandbox_limits, files=task.template.files,
                        fast_start=task.fast_start, preload=task.template.preload)
        return Executed(task, None, assembly, run, round(time.monotonic() - started, 2),
                        fingerprints.environment_digest())
    except Exception as e:  # noqa: BLE001 - one submission must never stop the batch
        return Executed(task, _failure(task, e))


def score(executed: Executed, template: Template) -> dict:
    """Compare what a submission handed back with the reference (``template.reference``)."""
    task = executed.task
    if executed.result is not None:  # decided on the worker; the fingerprint is this process's
        return {**executed.result, "fingerprint": fingerprint(task)}
    try:
        run, assembly = executed.run, executed.assembly
        started, cpu = time.monotonic(), time.process_time()
        cells = score_cells(template, assembly.ids, run.cells)
        status = "graded" if run.status == "completed" else run.status
        notebook = autograded.notebook(template, assembly, run.cells, cells)
        phases = {**run.phases, "scoring_s": round(time.monotonic() - started, 3),
                  "scoring_cpu_s": round(time.process_time() - cpu, 3)}
        return _result(task, status, run.reason, sum(c["points"] for c in cells), flags=assembly.flags,
                       cells=cells, notebook=notebook, seconds=executed.seconds, environment=executed.environment,
                       phases=phases)
    except Exception as e:  # noqa: BLE001
        return _failure(task, e)


def _failure(task: Task, error: Exception) -> dict:
    return _result(task, "grader_error", f"the grader failed on this submission: {type(error).__name__}: {error}",
                   traceback=traceback.format_exc()[-4000:])


def grade(task: Task) -> dict:
    """Grade one submission (its template must hold the reference). Never raises: any failure is
    a result with a status and a reason."""
    return score(execute(task), task.template)
