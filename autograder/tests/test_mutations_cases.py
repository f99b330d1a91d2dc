"""The mutation case files are well formed: at least 4 mistakes and 2 alternatives per assignment, each mistake
confined to one exercise and failing only its test cells, and the three grading files cover every assignment
(see mutation_suite.py)."""

from __future__ import annotations

import re

import pytest

import test_mutations_01_05
import test_mutations_06_09
import test_mutations_10_13
from conftest import ASSIGNMENTS
from mutation_suite import auto_graded_tests, cases_of, exercise, solutions


def test_the_grading_files_cover_every_assignment_once():
    halves = (test_mutations_01_05.ASSIGNMENTS_HERE + test_mutations_06_09.ASSIGNMENTS_HERE
              + test_mutations_10_13.ASSIGNMENTS_HERE)
    assert sorted(halves) == sorted(ASSIGNMENTS) and len(set(halves)) == len(halves)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_cases_are_well_formed(assignment):
    cases, answers, tests = cases_of(assignment), solutions(assignment), auto_graded_tests(assignment)
    mistakes = {k: c for k, c in cases.items() if c.get("fails")}
    alternatives = {k: c for k, c in cases.items() if not c.get("fails")}
    assert len(mistakes) >= 4 and len(alternatives) >= 2, (len(mistakes), len(alternatives))
    for name, case in cases.items():
        assert re.fullmatch(r"[a-z0-9_]+", name), f"{name}: a case name is a student id (lowercase, _)"
        assert set(case) <= {"answers", "fails", "why"} and case.get("why"), f"{name}: answers, fails, why"
        assert case["answers"] and set(case["answers"]) <= set(answers), f"{name}: unknown answer cells"
        assert all(case["answers"][g] != answers[g] for g in case["answers"]), f"{name}: changes nothing"
        fails = set(case.get("fails", ()))
        assert fails <= set(tests), f"{name}: unknown test cells {fails - set(tests)}"
        touched = {exercise(g) for g in case["answers"]}
        assert not fails or ({exercise(g) for g in fails} <= touched and len(touched) == 1), \
            f"{name}: a mistake changes one exercise and fails only its test cells"
