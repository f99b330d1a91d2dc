"""The rules an assignment's source notebook must follow, in one place: the grader refuses to grade
an assignment that breaks one (``template.load``), and the style tests refuse to commit one
(``autograder/tests/test_notebook_style.py``). Each problem names the cell (its grade_id).

Grading rules (always): nbgrader cells have unique grade_ids; there is a graded test cell; each
test cell is locked and worth points and checks only through ``sbs.assert_parity`` as
``checks.parse_test_cell`` demands (literal options, an explicit ``between_frameworks``); check
names are unique across the whole notebook (a name reused in two cells would fail every
student); every solution cell has solution markers; every other code cell is read-only.

Course conventions (``Autograder.course_conventions``, on by default): test grade_ids read
``test_qN_...``; each exercise grades its PyTorch and TensorFlow parts in separate cells
(``..._pytorch`` / ``..._tensorflow``) unless it is a parity exercise (``..._parity``); there is a
parity exercise, there are hidden tests, and at least four exercises.
"""

from __future__ import annotations

import re

from . import checks

MIN_EXERCISES = 4


class InstructorError(RuntimeError):
    """The assignment itself is broken (not a student's fault): stop before grading anyone."""


def cell_meta(cell: dict) -> dict:
    """A cell's nbgrader metadata ({} when it has none)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_source(cell: dict) -> str:
    """A cell's source as one string."""
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _label(index: int, cell: dict) -> str:
    gid = cell_meta(cell).get("grade_id")
    return f"cell {gid}" if gid else f"cell #{index + 1}"


def problems(nb: dict, *, conventions: bool = True) -> list[str]:
    """Every rule ``nb`` (a source notebook, as JSON) breaks, each naming its cell."""
    found: list[str] = []
    cells = nb.get("cells", [])
    seen: dict[str, int] = {}
    for i, c in enumerate(cells):
        m = cell_meta(c)
        if not (m.get("grade") or m.get("solution") or m.get("locked") or m.get("task")):
            continue
        gid = m.get("grade_id")
        if not isinstance(gid, str) or not gid:
            found.append(f"{_label(i, c)}: an nbgrader cell needs a grade_id")
        elif gid in seen:
            found.append(f"cell {gid}: grade_id used twice (cells #{seen[gid] + 1} and #{i + 1})")
        else:
            seen[gid] = i
    tests = [(i, c) for i, c in enumerate(cells) if cell_meta(c).get("grade") and c.get("cell_type") == "code"]
    if not tests:
        found.append("the notebook has no graded test cell")
    owner: dict[str, str] = {}
    for i, c in tests:
        m, label = cell_meta(c), _label(i, c)
        if not (isinstance(m.get("points"), (int, float)) and m["points"] > 0):
            found.append(f"{label}: a graded test cell must be worth points > 0")
        if not m.get("locked"):
            found.append(f"{label}: a graded test cell must be read-only (locked)")
        try:
            specs = checks.parse_test_cell(cell_source(c))
        except checks.CheckRuleError as e:
            found.append(f"{label}: {e}")
            continue
        names = [spec.name for spec in specs]
        for name in dict.fromkeys(names):
            if names.count(name) > 1:
                found.append(f"{label}: check name {name!r} is used by {names.count(name)} calls in the cell; give "
                             "each call its own name (one call in a loop is fine)")
            first = owner.setdefault(name, label)
            if first != label:
                found.append(f"{label}: check name {name!r} is also used in {first}; names must be unique "
                             "across the notebook")
    for i, c in enumerate(cells):
        m = cell_meta(c)
        # (a Markdown answer is replaced whole by nbgrader: it needs no markers)
        if (m.get("solution") and c.get("cell_type") == "code"
                and not ("### BEGIN SOLUTION" in cell_source(c) and "### END SOLUTION" in cell_source(c))):
            found.append(f"{_label(i, c)}: a code answer cell needs ### BEGIN SOLUTION / ### END SOLUTION")
        if c.get("cell_type") == "code" and not m.get("solution") and not m.get("locked"):
            found.append(f"{_label(i, c)}: every code cell that is not an answer must be read-only (locked)")
    if conventions:
        found += _conventions(nb, tests)
    return found


def _conventions(nb: dict, tests: list) -> list[str]:
    found, exercises = [], {}
    for _, c in tests:
        gid = str(cell_meta(c).get("grade_id", ""))
        match = re.match(r"test_(q\d+)_", gid)
        if not match:
            found.append(f"cell {gid}: a test grade_id reads test_qN_what_pytorch (or _tensorflow, _parity)")
            continue
        exercises.setdefault(match.group(1), []).append(gid)
    for q, gids in exercises.items():
        split = any(g.endswith("_pytorch") for g in gids) and any(g.endswith("_tensorflow") for g in gids)
        if not (split or any(g.endswith("_parity") for g in gids)):
            found.append(f"cell {gids[0]}: exercise {q} must grade its PyTorch and TensorFlow parts in separate "
                         f"cells (test_{q}_..._pytorch, test_{q}_..._tensorflow) or be a parity exercise (_parity)")
    if not any(str(cell_meta(c).get("grade_id", "")).endswith("_parity") for _, c in tests):
        found.append("the notebook needs a cross-framework parity exercise (a test cell test_qN_..._parity)")
    if tests and not any("### BEGIN HIDDEN TESTS" in cell_source(c) for _, c in tests):
        found.append("the notebook needs hidden tests (### BEGIN HIDDEN TESTS in a test cell)")
    if len(exercises) < MIN_EXERCISES:
        found.append(f"the notebook needs at least {MIN_EXERCISES} exercises, found {sorted(exercises)}")
    return found


def validate(nb: dict, *, conventions: bool = True, where: str = "the assignment") -> None:
    """Raise InstructorError listing every rule ``nb`` breaks (each naming its cell)."""
    found = problems(nb, conventions=conventions)
    if found:
        raise InstructorError(f"{where} breaks {len(found)} rule(s):\n  - " + "\n  - ".join(found))
