"""Mutation tests of assignments 10 to 13: plausible submissions graded by the real,
sandboxed grader, all cases of one assignment in one batch (see mutation_suite.py)."""

from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS
from mutation_suite import grade_cases

ASSIGNMENTS_HERE = [a for a in ASSIGNMENTS if a[:2] >= "10"]


@pytest.mark.parametrize("assignment", ASSIGNMENTS_HERE)
def test_mistakes_lose_exactly_their_points_and_alternatives_score_full_marks(assignment, tmp_path):
    grade_cases(assignment, tmp_path)
