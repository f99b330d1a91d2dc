"""A tiny assignment ("99_probe") for the grader's own tests: NumPy only, so a sandboxed kernel
runs it in about a second, built with real nbgrader into a temporary course folder."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

ASSIGNMENT = "99_probe"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"

SOLUTIONS = {
    "q1_double": "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * np.asarray(x)\n    ### END SOLUTION",
    "q2_norm": "def norm(v):\n    ### BEGIN SOLUTION\n    return float(np.sqrt((np.asarray(v, dtype=float) ** 2).sum()))\n    ### END SOLUTION",
    "q3_twins": ("def twin_a(x):\n    ### BEGIN SOLUTION\n    return np.cumsum(x)\n    ### END SOLUTION\n\n"
                 "def twin_b(x):\n    ### BEGIN SOLUTION\n    return np.array([sum(x[:i + 1]) for i in range(len(x))])\n"
                 "    ### END SOLUTION"),
}
TESTS = {
    "test_q1_double": (1, '"""double() doubles"""\nsbs.assert_parity(double([1, 2]), np.array([2, 4]), name="q1 visible")\n'
                          '### BEGIN HIDDEN TESTS\nsbs.assert_parity(double(np.arange(5.0)), np.arange(5.0) * 2, name="q1 hidden")\n'
                          '### END HIDDEN TESTS'),
    "test_q2_norm": (2, '"""norm() is the Euclidean length"""\nsbs.assert_parity(norm([3, 4]), 5.0, name="q2 visible")\n'
                        '### BEGIN HIDDEN TESTS\nfor n in (1, 7):\n'
                        '    sbs.assert_parity(norm(np.ones(n)), float(np.sqrt(n)), name="q2 hidden")\n### END HIDDEN TESTS'),
    "test_q3_twins_parity": (3, '"""both twins compute the same running sum"""\nx = np.array([1, 2, 3])\n'
                                'sbs.assert_parity(twin_a(x), twin_b(x), name="q3 parity", between_frameworks=True)'),
}


def _meta(grade_id, *, grade=False, solution=False, locked=False, points=None):
    m = {"grade": grade, "solution": solution, "locked": locked, "grade_id": grade_id, "schema_version": 3, "task": False}
    if points is not None:
        m["points"] = points
    return {"nbgrader": m}


WRITTEN = "q4_explain"  # a written answer graded by hand (source_notebook(written=True))
WRITTEN_POINTS = 2


def source_notebook(solutions: dict | None = None, tests: dict | None = None,
                    written: bool = False) -> nbformat.NotebookNode:
    """The instructor's notebook: a setup cell, then each answer cell followed by its test cell; with
    ``written``, a last question answered in words and graded by hand."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    cells = [nbformat.v4.new_markdown_cell("# 99 · Probe", metadata=_meta("intro", locked=True)),
             nbformat.v4.new_code_cell("import sidebyside as sbs\nimport numpy as np", metadata=_meta("setup", locked=True))]
    for (answer, code), (test, (points, tcode)) in zip((solutions or SOLUTIONS).items(), (tests or TESTS).items()):
        cells.append(nbformat.v4.new_code_cell(code, metadata=_meta(answer, solution=True)))
        cells.append(nbformat.v4.new_code_cell(tcode, metadata=_meta(test, grade=True, locked=True, points=points)))
    if written:
        cells.append(nbformat.v4.new_markdown_cell("## Question 4 (2 points)\nWhy is a parity check between "
                                                   "frameworks stronger than comparing each with a constant?",
                                                   metadata=_meta("q4_prompt", locked=True)))
        cells.append(nbformat.v4.new_markdown_cell("Because two independent implementations agreeing rules out "
                                                   "a shared misreading of the task.",
                                                   metadata=_meta(WRITTEN, grade=True, solution=True,
                                                                  points=WRITTEN_POINTS)))
    nb.cells = cells
    return nb


# The probe is not one of the course's own assignments: the course's conventions (four exercises,
# PyTorch and TensorFlow graded apart) do not apply to it; the grading rules do.
CONFIG = ('c = get_config()\nc.CourseDirectory.course_id = "probe"\n'
          "c.Autograder.course_conventions = False\n")


def _released(nb: dict) -> dict:
    """What nbgrader's generate_assignment makes of the probe's markers (ClearSolutions with the
    course's stub, ClearHiddenTests): for fast unit tests that start no nbgrader; the grader's
    integration tests use real nbgrader (build_course), and test_grader_batch checks both agree."""
    out = copy.deepcopy(nb)
    for cell in out["cells"]:
        if cell["cell_type"] == "markdown" and cell["metadata"].get("nbgrader", {}).get("solution"):
            cell["source"] = "YOUR ANSWER HERE"
            continue
        src = cell["source"]
        src = re.sub(r"( *)### BEGIN SOLUTION\n.*?### END SOLUTION", r"\1# YOUR CODE HERE\n\1raise NotImplementedError()",
                     src, flags=re.S)
        cell["source"] = re.sub(r"\n?### BEGIN HIDDEN TESTS\n.*?### END HIDDEN TESTS", "", src, flags=re.S)
    return out


def build_course_fast(root: Path, nb: dict | None = None, files: dict[str, bytes] | None = None) -> Path:
    """A course folder with source/99_probe (``nb``, default the probe) and a release made without
    nbgrader (see ``_released``), plus data ``files`` beside the release notebook."""
    nb = nb if nb is not None else source_notebook()
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "release" / ASSIGNMENT).mkdir(parents=True)
    (root / "nbgrader_config.py").write_text(CONFIG)
    nbformat.write(nbformat.from_dict(nb), root / "source" / ASSIGNMENT / NOTEBOOK)
    nbformat.write(nbformat.from_dict(_released(nb)), root / "release" / ASSIGNMENT / NOTEBOOK)
    for name, data in (files or {}).items():
        (root / "release" / ASSIGNMENT / name).write_bytes(data)
    return root


def build_course(root: Path, written: bool = False, config: str = "") -> Path:
    """A course folder with source/99_probe and its nbgrader-generated release/99_probe (with a written
    answer graded by hand when ``written``); ``config`` is appended to its nbgrader_config.py."""
    nb = source_notebook(written=written)
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    # a course id, as the real course has: PostgreSQL enforces the gradebook's course foreign key
    (root / "nbgrader_config.py").write_text(CONFIG + config)
    nbformat.write(nb, root / "source" / ASSIGNMENT / NOTEBOOK)
    subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", ASSIGNMENT, "--force", "--log-level=ERROR",
                    f"--CourseDirectory.root={root}", f"--CourseDirectory.db_url=sqlite:///{root / 'setup.db'}"],
                   cwd=root, check=True, capture_output=True,
                   env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"})
    return root


def release(root: Path) -> dict:
    return json.loads((root / "release" / ASSIGNMENT / NOTEBOOK).read_text())


def solution(grade_id: str) -> str:
    """The model answer of one answer cell, as a student would type it."""
    return SOLUTIONS[grade_id].replace("    ### BEGIN SOLUTION\n", "").replace("\n    ### END SOLUTION", "")


def answered(root: Path, answers: dict[str, str] | None = None, correct: bool = True) -> dict:
    """The release notebook with answers filled in: the solutions, with ``answers`` overriding."""
    nb = copy.deepcopy(release(root))
    chosen = {k: solution(k) for k in SOLUTIONS} if correct else {}
    chosen.update(answers or {})
    for cell in nb["cells"]:
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if gid in chosen:
            cell["source"] = chosen[gid]
    return nb


def submit(subs: Path, student: str, nb: dict | bytes | str, name: str = NOTEBOOK) -> Path:
    folder = subs / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    data = nb if isinstance(nb, bytes) else (nb if isinstance(nb, str) else json.dumps(nb)).encode()
    (folder / name).write_bytes(data)
    return folder / name
