"""`make demo` grades the shipped example submissions of 01_tensors end to end, and the instructor's
formgrader (a real JupyterLab server, a real browser) shows the grades."""

from __future__ import annotations

import csv
import re
import subprocess

import pytest

from conftest import ARTIFACTS, ROOT, lab_server, tool


@pytest.fixture(scope="module")
def demo():
    tool("bwrap")
    r = subprocess.run(["make", "--no-print-directory", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def test_make_demo_grades_the_examples(demo):
    rows = {row["student_id"]: row for row in csv.DictReader((ROOT / "autograder/graded/demo/grades.csv").open())}
    assert {k: (float(v["score"]), v["status"]) for k, v in rows.items()} == {
        "correct": (20.0, "graded"), "partial": (15.0, "graded"), "wrong": (0.0, "graded"), "broken": (0.0, "unreadable")}
    assert "correct     01_tensors  20.0" in demo.stdout  # the printed table
    for student in rows:
        assert (ROOT / "autograder/graded/demo/feedback" / student / "01_tensors.html").exists()


def test_the_formgrader_lists_assignments_and_the_demos_grades(demo, browser):
    with lab_server("lab-instructor") as (base, start, token):
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(f"{base}{start}?token={token}")  # logs in
        page.goto(f"{base}/formgrader/manage_assignments")
        page.wait_for_selector("td:has-text('01_tensors')", timeout=120_000)
        listed = page.inner_text("table")
        assert "exchange directory" not in page.inner_text("body"), "the exchange is set up for release/collect"
        page.screenshot(path=str(ARTIFACTS / "formgrader-assignments.png"))
        for assignment in sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir()):
            assert assignment in listed
        page.goto(f"{base}/formgrader/manage_submissions/01_tensors")
        page.wait_for_selector("td:has-text('partial')", timeout=120_000)
        rows = page.inner_text("table")
        page.screenshot(path=str(ARTIFACTS / "formgrader-demo-grades.png"))
        for student, score in (("correct", "20"), ("partial", "15"), ("wrong", "0"), ("broken", "0")):
            assert re.search(rf"{student}\b.*\b{score}(\.0)? / 20", rows), rows

        # Manual Grading: the formgrader renders the notebook this grader wrote for nbgrader (autograded/)
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{ROOT / 'autograder' / 'gradebook.db'}") as gb:
            notebook_id = gb.find_submission_notebook("01_tensors", "01_tensors", "partial").id
        response = page.goto(f"{base}/formgrader/submissions/{notebook_id}/")  # the same logged-in page
        assert response.status == 200, response.status
        page.wait_for_selector("text=check «", timeout=120_000)
        shown = page.inner_text("body")
        page.screenshot(path=str(ARTIFACTS / "formgrader-manual-grading.png"), full_page=False)
        assert "failed" in shown and "def " in shown, shown[:2000]  # verdicts and the student's own code
        assert "BEGIN HIDDEN TESTS" not in shown
        page.close()
