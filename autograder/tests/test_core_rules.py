"""Unit tests of assignment validation (autograder/rules.py): each rule, broken on its own, is
refused with a message naming the cell, and template.load refuses before anyone is graded."""

from __future__ import annotations

import copy
import json

import pytest

import probe
from autograder import rules, template
from autograder.rules import InstructorError
from conftest import SOURCES, load


def meta(cell) -> dict:
    return cell["metadata"]["nbgrader"]


def cell(nb, gid):
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == gid)


def probe_nb() -> dict:
    return json.loads(json.dumps(probe.source_notebook()))


def broken(edit) -> dict:
    nb = probe_nb()
    edit(nb)
    return nb


def test_the_probe_and_every_course_assignment_follow_the_rules():
    assert rules.problems(probe_nb(), conventions=False) == []
    for path in SOURCES:
        assert rules.problems(load(path)) == [], path


def dup_test_cell(nb):
    twin = copy.deepcopy(cell(nb, "test_q2_norm"))
    meta(twin)["grade_id"] = "test_q2_norm_again"
    twin["id"] = "twin"
    nb["cells"].append(twin)


GRADING_RULES = {
    "a grade_id used twice": (lambda nb: meta(cell(nb, "q2_norm")).update(grade_id="q1_double"),
                              "cell q1_double: grade_id used twice"),
    "an nbgrader cell without a grade_id": (lambda nb: meta(cell(nb, "setup")).pop("grade_id"),
                                            "cell #2: an nbgrader cell needs a grade_id"),
    "a check name reused in another cell": (dup_test_cell, "cell test_q2_norm_again: check name 'q2 visible' is also "
                                                           "used in cell test_q2_norm"),
    "a check name used by two calls in one cell": (
        lambda nb: cell(nb, "test_q1_double").update(source='sbs.assert_parity(double([1]), np.array([2]), name="x")\n'
                                                            'sbs.assert_parity(double([2]), np.array([4]), name="x")'),
        "cell test_q1_double: check name 'x' is used by 2 calls"),
    "a test cell worth no points": (lambda nb: meta(cell(nb, "test_q2_norm")).update(points=0),
                                    "cell test_q2_norm: a graded test cell must be worth points"),
    "an unlocked test cell": (lambda nb: meta(cell(nb, "test_q2_norm")).update(locked=False),
                              "cell test_q2_norm: a graded test cell must be read-only"),
    "a bare assert": (lambda nb: cell(nb, "test_q1_double").update(source="assert double(1) == 2"),
                      "cell test_q1_double: line 1: bare `assert`"),
    "a non-literal option": (lambda nb: cell(nb, "test_q1_double").update(
        source='sbs.assert_parity(double(1), 2, name="a", atol=tol)'), "cell test_q1_double: line 1: atol must be a literal"),
    "a non-boolean between_frameworks": (lambda nb: cell(nb, "test_q3_twins_parity").update(
        source='sbs.assert_parity(twin_a(1), twin_b(1), name="t", between_frameworks="yes")'),
        "cell test_q3_twins_parity: line 1: between_frameworks must be True or False"),
    "an answer cell without solution markers": (lambda nb: cell(nb, "q2_norm").update(source="def norm(v):\n    pass"),
                                                "cell q2_norm: a code answer cell needs ### BEGIN SOLUTION"),
    "an editable fixed code cell": (lambda nb: meta(cell(nb, "setup")).update(locked=False),
                                    "cell setup: every code cell that is not an answer must be read-only"),
    "no test cell": (lambda nb: nb.update(cells=[c for c in nb["cells"] if not meta(c).get("grade")]),
                     "no graded test cell"),
}


@pytest.mark.parametrize("rule", sorted(GRADING_RULES))
def test_each_grading_rule_is_refused_naming_the_cell(rule):
    edit, message = GRADING_RULES[rule]
    found = rules.problems(broken(edit), conventions=False)
    assert any(message in p for p in found), found
    with pytest.raises(InstructorError, match="breaks"):
        rules.validate(broken(edit), conventions=False)


CONVENTIONS = {
    "a test id not test_qN_": (lambda nb: meta(cell(nb, "test_q1_double")).update(grade_id="check_double"),
                               "cell check_double: a test grade_id reads test_qN_"),
    "frameworks not graded apart": (lambda nb: None, "cell test_q1_double: exercise q1 must grade its PyTorch and "
                                                     "TensorFlow parts in separate cells"),
    "no parity exercise": (lambda nb: meta(cell(nb, "test_q3_twins_parity")).update(grade_id="test_q3_twins"),
                           "needs a cross-framework parity exercise"),
    "no hidden tests": (lambda nb: [c.update(source=c["source"].split("### BEGIN HIDDEN TESTS")[0])
                                    for c in nb["cells"] if meta(c).get("grade")], "needs hidden tests"),
    "fewer than four exercises": (lambda nb: None, "at least 4 exercises, found ['q1', 'q2', 'q3']"),
}


@pytest.mark.parametrize("rule", sorted(CONVENTIONS))
def test_each_course_convention_is_refused_and_can_be_switched_off(rule):
    edit, message = CONVENTIONS[rule]
    nb = broken(edit)
    assert any(message in p for p in rules.problems(nb)), rules.problems(nb)
    assert rules.problems(nb, conventions=False) == []


def test_template_load_refuses_a_broken_assignment_before_grading(tmp_path):
    nb = broken(dup_test_cell)
    with pytest.raises(InstructorError, match="test_q2_norm_again: check name 'q2 visible'"):
        template.load(probe.ASSIGNMENT, probe.build_course_fast(tmp_path / "a", nb), conventions=False)
    with pytest.raises(InstructorError, match="exercise q1"):
        template.load(probe.ASSIGNMENT, probe.build_course_fast(tmp_path / "b"), conventions=True)


def test_template_load_refuses_a_stale_release(tmp_path):
    root = probe.build_course_fast(tmp_path)
    nb = probe_nb()
    meta(cell(nb, "test_q2_norm"))["grade_id"] = "test_q2_length"
    (root / "source" / probe.ASSIGNMENT / probe.NOTEBOOK).write_text(json.dumps(nb))
    with pytest.raises(InstructorError, match="run make release"):
        template.load(probe.ASSIGNMENT, root, conventions=False)
