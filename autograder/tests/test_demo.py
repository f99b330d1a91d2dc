"""`make demo` grades the shipped example submissions of 01_tensors end to end."""

from __future__ import annotations

import csv
import subprocess

from conftest import ROOT, tool


def test_make_demo_grades_the_examples():
    tool("bwrap")
    r = subprocess.run(["make", "--no-print-directory", "demo"], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rows = {row["student_id"]: row for row in csv.DictReader((ROOT / "autograder/graded/demo/grades.csv").open())}
    assert {k: (float(v["score"]), v["status"]) for k, v in rows.items()} == {
        "correct": (20.0, "graded"), "partial": (15.0, "graded"), "wrong": (0.0, "graded"), "broken": (0.0, "unreadable")}
    assert "correct     01_tensors  20.0" in r.stdout  # the printed table
    for student in rows:
        assert (ROOT / "autograder/graded/demo/feedback" / student / "01_tensors.html").exists()
