"""`nbgrader validate`: every source notebook (the reference solution) passes all its tests.
(Its own file so that pytest-xdist spreads the slow notebook runs over the workers.)"""

from __future__ import annotations

import pytest

from conftest import ASSIGNMENTS, nbgrader


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_source_passes_all_its_tests(assignment):
    r = nbgrader("validate", f"source/{assignment}/{assignment}.ipynb")
    assert "Success! Your notebook passes all the tests." in r.stdout, r.stdout + r.stderr
