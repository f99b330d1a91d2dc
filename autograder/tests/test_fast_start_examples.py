"""Forked or fresh, the grade is the same: the shipped example submissions of 01_tensors (both
frameworks) graded with ``fast_start`` on and off give identical results, reference values, printed
outputs and autograded notebooks (only the timings and the kernel kind differ)."""

from __future__ import annotations


import numpy as np

from autograder import collect, config, fast_start, template
from autograder.grade import Task, grade
from conftest import ROOT, tool

ASSIGNMENT = "01_tensors"
EXAMPLES = ROOT / "autograder" / "examples" / ASSIGNMENT
HOW_IT_RAN = ("phases", "seconds", "worker")  # never part of a grade


def graded(fast: bool) -> tuple[dict, dict]:
    settings = config.Autograder(fast_start=fast)
    limits, sandbox_limits = settings.run_limits(), settings.sandbox_limits()
    tpl = template.load(ASSIGNMENT, ROOT)
    reference = template.run_reference(tpl, True, limits, sandbox_limits, fast)
    assert reference.phases["kernel"] == ("forked" if fast else "fresh"), reference.phases
    template.set_reference(tpl, reference)
    results = {}
    for s in collect.from_directory(EXAMPLES, ASSIGNMENT, tpl.notebook):
        task = Task(s.student_id, tpl, s.filename, s.data, s.flags, s.status, s.reason, True, limits, sandbox_limits,
                    submitted_as=s.submitted_as, fast_start=fast)
        results[s.student_id] = grade(task)
    return tpl.reference, results


def test_the_examples_grade_the_same_forked_or_fresh():
    tool("bwrap")
    try:
        forked_reference, forked = graded(True)
    finally:
        fast_start.close_all()
    fresh_reference, fresh = graded(False)
    assert sorted(forked) == sorted(fresh) == ["broken", "correct", "partial", "wrong"]
    kinds = {sid: r.get("phases", {}).get("kernel") for sid, r in forked.items()}
    assert kinds == {"broken": None, "correct": "forked", "partial": "forked", "wrong": "forked"}, kinds
    assert {sid: r["score"] for sid, r in forked.items()} == {"broken": 0, "correct": 20, "partial": 15, "wrong": 0}
    for sid in fresh:
        a = {k: v for k, v in forked[sid].items() if k not in HOW_IT_RAN}
        b = {k: v for k, v in fresh[sid].items() if k not in HOW_IT_RAN}
        assert a == b, sid
    assert sorted(forked_reference) == sorted(fresh_reference)
    for name, runs in fresh_reference.items():  # the reference values do not move by one bit
        for got, want in zip(forked_reference[name], runs, strict=True):
            for g, w in zip(got, want, strict=True):
                assert g.dtype == w.dtype and np.array_equal(g, w, equal_nan=g.dtype.kind in "fc"), name
