"""`nbgrader validate --invert`: every release notebook passes no test until a student answers.
(Its own file so that pytest-xdist spreads the slow notebook runs over the workers.)"""

from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS, nbgrader


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_passes_no_test_before_it_is_solved(assignment):
    r = nbgrader("validate", "--invert", f"release/{assignment}/{assignment}.ipynb")
    assert "Success! The notebook does not pass any tests." in r.stdout, r.stdout + r.stderr
