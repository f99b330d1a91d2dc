"""Mutation-tested assignments: plausible student submissions graded by the real grader.

(The shared part of test_mutations_cases.py, test_mutations_01_05.py and test_mutations_06_09.py: two
grading files, so that `make test`'s `--dist loadfile` runs the halves on both workers.)

For every assignment, ``mutations/NN_topic.py`` lists cases. Each case replaces some answer cells of
the reference solution (the instructor's ``source/`` notebook, markers stripped) in the release
notebook:

- an **alternative** (no ``fails``) is another correct answer (another API, a loop instead of a
  vectorized call, the functional form...): it must score full marks;
- a **mistake** names the test cells it must fail (``fails``, all of one exercise): exactly those
  cells lose their points, and every other cell keeps its own.

All cases of one assignment are graded in ONE
``batch.grade_assignment`` call, sandboxed, so the reference runs once. A mistake that passes
means a hidden test is missing; an alternative that fails means a test (or a prompt) is unfair.
Only auto-graded points are counted: manually graded written answers are not code cells, so the
grader never sees them.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re

from autograder import batch, config
from conftest import ROOT, load, source_text, tool

MUTATIONS = ROOT / "autograder" / "tests" / "mutations"
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
LIMITS = ["--Autograder.cell_timeout=120", "--Autograder.notebook_timeout=300"]


def cases_of(assignment: str) -> dict[str, dict]:
    spec = importlib.util.spec_from_file_location(f"mutations_{assignment}", MUTATIONS / f"{assignment}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CASES


def nbgrader_meta(cell: dict) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def solutions(assignment: str) -> dict[str, str]:
    """grade_id -> the instructor's answer, as a student would type it (no solution markers)."""
    nb = load(ROOT / "source" / assignment / f"{assignment}.ipynb")
    return {nbgrader_meta(c)["grade_id"]: SOLUTION_MARKER.sub("", source_text(c)) for c in nb["cells"]
            if c["cell_type"] == "code" and nbgrader_meta(c).get("solution")}


def written_points(assignment: str) -> float:
    """Points of the written answers, graded by hand in the formgrader (they count in the maximum)."""
    nb = load(ROOT / "source" / assignment / f"{assignment}.ipynb")
    return sum(float(nbgrader_meta(c)["points"]) for c in nb["cells"]
               if c["cell_type"] == "markdown" and nbgrader_meta(c).get("grade"))


def auto_graded_tests(assignment: str) -> dict[str, float]:
    nb = load(ROOT / "source" / assignment / f"{assignment}.ipynb")
    return {nbgrader_meta(c)["grade_id"]: float(nbgrader_meta(c)["points"]) for c in nb["cells"]
            if c["cell_type"] == "code" and nbgrader_meta(c).get("grade")}


def submission(assignment: str, answers: dict[str, str]) -> dict:
    """The release notebook with every answer cell filled: the solution, unless ``answers`` overrides it."""
    nb = copy.deepcopy(load(ROOT / "release" / assignment / f"{assignment}.ipynb"))
    chosen = {**solutions(assignment), **answers}
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if cell["cell_type"] == "code" and gid in chosen and nbgrader_meta(cell).get("solution"):
            cell["source"] = chosen[gid]
    return nb


def exercise(grade_id: str) -> str:
    return re.match(r"(?:test_)?(q\d+)_", grade_id).group(1)


# --- graded for real (one batch per assignment) ---------------------------------------------------

def grade_cases(assignment: str, tmp_path) -> None:
    """Grade every case of ``assignment`` in one batch and assert what each must score."""
    tool("bwrap")
    cases, tests = cases_of(assignment), auto_graded_tests(assignment)
    subs = tmp_path / "submitted"
    for student, answers in [(name, case["answers"]) for name, case in cases.items()]:
        folder = subs / student / assignment
        folder.mkdir(parents=True)
        (folder / f"{assignment}.ipynb").write_text(json.dumps(submission(assignment, answers)))
    settings = config.load(ROOT, LIMITS)
    settings.config.CourseDirectory.autograded_directory = str(tmp_path / "autograded")  # not the course's
    results = {r["student_id"]: r for r in batch.grade_assignment(
        assignment, subs, tmp_path / "graded", workers=2, db=f"sqlite:///{tmp_path / 'gradebook.db'}",
        settings=settings, quiet=True)}
    total, written = sum(tests.values()), written_points(assignment)
    problems = []
    for student in cases:
        r = results[student]
        fails = set(cases.get(student, {}).get("fails", ()))
        cells = {c["grade_id"]: c for c in r["cells"]}
        if r["status"] != "graded" or set(cells) != set(tests):
            problems.append(f"{student}: status {r['status']} ({r.get('reason')}), cells {sorted(cells)}")
            continue
        failed = {g for g, c in cells.items() if not c["passed"]}
        if failed != fails:
            detail = {g: cells[g]["messages"][:2] for g in failed ^ fails}
            problems.append(f"{student}: failed {sorted(failed)}, expected {sorted(fails)}: {detail}")
        expected_score = total - sum(tests[g] for g in fails)
        if r["auto_score"] != expected_score or r["max_score"] != total + written:
            problems.append(f"{student}: scored {r['auto_score']}/{r['max_score']}, "
                            f"expected {expected_score}/{total + written}")
        for g, c in cells.items():
            if c["points"] != (0.0 if g in fails else tests[g]) or c["max_points"] != tests[g]:
                problems.append(f"{student}: {g} got {c['points']}/{c['max_points']}")
    assert not problems, "\n".join(problems)
