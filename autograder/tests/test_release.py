"""nbgrader round trip: source notebooks pass their own tests, release notebooks are the committed
output of `make release` and pass none of the tests until a student answers."""

from __future__ import annotations

import filecmp

import pytest

from conftest import ASSIGNMENTS, ROOT, nbgrader


def same_tree(a, b) -> list[str]:
    cmp = filecmp.dircmp(a, b)
    diffs = [f"only in {cmp.left}: {x}" for x in cmp.left_only] + [f"only in {cmp.right}: {x}" for x in cmp.right_only]
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    diffs += [f"differs: {x}" for x in mismatch + errors]
    for sub in cmp.common_dirs:
        diffs += same_tree(a / sub, b / sub)
    return diffs


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_equals_a_fresh_make_release(assignment, tmp_path):
    fresh = tmp_path / "release"
    r = nbgrader("generate_assignment", assignment, "--force", "--log-level=WARN",
                 f"--CourseDirectory.release_directory={fresh}",
                 f"--CourseDirectory.db_url=sqlite:///{tmp_path / 'gradebook.db'}")
    assert r.returncode == 0, r.stderr
    diffs = same_tree(ROOT / "release" / assignment, fresh / assignment)
    assert not diffs, f"release/{assignment} is stale or hand-edited; run `make release`: {diffs}"
