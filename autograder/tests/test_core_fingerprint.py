"""Unit tests of the fingerprint (autograder/fingerprint.py): every input that decides a grade
changes it, and a saved failure of the grader itself is never reused."""

from __future__ import annotations

import dataclasses
import shutil

import pytest

import probe
from autograder import config, fingerprint, template
from autograder.grade import Task
from conftest import ROOT

SETTINGS = config.Autograder()


def task(tpl, **changes) -> Task:
    base = dict(student_id="ana", template=tpl, filename=probe.NOTEBOOK, data=b'{"cells": []}',
                limits=SETTINGS.run_limits(), sandbox_limits=SETTINGS.sandbox_limits())
    return Task(**{**base, **changes})


@pytest.fixture
def course(tmp_path):
    return probe.build_course_fast(tmp_path / "course", files={"data.csv": b"1,2\n"})


def load(root):
    return template.load(probe.ASSIGNMENT, root, conventions=False)


def test_the_same_inputs_give_the_same_fingerprint(course):
    assert fingerprint.of_task(task(load(course))) == fingerprint.of_task(task(load(course)))


@pytest.mark.parametrize("change", [
    dict(data=b'{"cells": [1]}'), dict(filename="other.ipynb"), dict(status="missing"),
    dict(sandboxed=False),
])
def test_the_submission_and_the_sandbox_choice_change_it(course, change):
    tpl = load(course)
    assert fingerprint.of_task(task(tpl, **change)) != fingerprint.of_task(task(tpl))


@pytest.mark.parametrize("field", sorted(config.as_dict(SETTINGS.run_limits(), SETTINGS.sandbox_limits())))
def test_every_limit_changes_it(course, field):
    tpl = load(course)
    run, box = SETTINGS.run_limits(), SETTINGS.sandbox_limits()
    if hasattr(run, field):
        run = dataclasses.replace(run, **{field: getattr(run, field) * 2})
    else:
        box = dataclasses.replace(box, **{field: getattr(box, field) * 2})
    assert fingerprint.of_task(task(tpl, limits=run, sandbox_limits=box)) != fingerprint.of_task(task(tpl))


def test_the_configuration_from_nbgrader_config_reaches_it(course):
    tpl = load(course)
    slower = config.load(course, ["--Autograder.cell_timeout=30"])
    assert fingerprint.of_task(task(tpl, limits=slower.run_limits())) != fingerprint.of_task(task(tpl))
    more_workers = config.load(course, ["--Autograder.workers=7"])  # how many workers decides no grade
    assert fingerprint.of_task(task(tpl, limits=more_workers.run_limits())) == fingerprint.of_task(task(tpl))


@pytest.mark.parametrize("edit", ["data file", "new data file", "release notebook", "source notebook"])
def test_the_assignment_and_its_data_files_change_it(course, edit):
    before = fingerprint.of_task(task(load(course)))
    release = course / "release" / probe.ASSIGNMENT
    if edit == "data file":
        (release / "data.csv").write_bytes(b"1,3\n")
    elif edit == "new data file":
        (release / "sub").mkdir()
        (release / "sub" / "more.csv").write_bytes(b"x")
    elif edit == "release notebook":
        path = release / probe.NOTEBOOK
        path.write_text(path.read_text().replace("# 99 · Probe", "# 99 · Probe, revised"))
    else:
        path = course / "source" / probe.ASSIGNMENT / probe.NOTEBOOK
        path.write_text(path.read_text().replace("np.arange(5.0) * 2", "np.arange(5.0) * 2.0"))
    assert fingerprint.of_task(task(load(course))) != before


def test_the_grader_and_sidebyside_sources_change_it_and_benchmarks_do_not(tmp_path):
    package, helper = tmp_path / "autograder", tmp_path / "sidebyside"
    shutil.copytree(ROOT / "autograder", package, ignore=shutil.ignore_patterns("tests", "examples", "__pycache__"))
    shutil.copytree(ROOT / "course" / "sidebyside", helper)
    digest = fingerprint.sources_digest(package, [helper])
    (helper / "parity.py").write_text((helper / "parity.py").read_text() + "\n# tolerance changed\n")
    assert fingerprint.sources_digest(package, [helper]) != digest
    digest = fingerprint.sources_digest(package, [helper])
    (package / "grade.py").write_text((package / "grade.py").read_text() + "\n")
    assert fingerprint.sources_digest(package, [helper]) != digest
    assert not list((ROOT / "autograder").glob("*bench*.py")), "benchmarks live in bench/, outside the grader"
    assert ROOT / "course" / "sidebyside" in fingerprint.helper_folders()


def test_the_grader_digest_and_the_environment_reach_it(course, monkeypatch):
    tpl = load(course)
    before = fingerprint.of_task(task(tpl))
    monkeypatch.setattr(fingerprint, "grader_digest", lambda: "another grader")
    assert fingerprint.of_task(task(tpl)) != before
    monkeypatch.undo()
    monkeypatch.setattr(fingerprint, "environment_digest", lambda: "torch upgraded")
    assert fingerprint.of_task(task(tpl)) != before


def test_the_environment_lists_the_packages_that_run_the_notebook():
    names = {line.split("==")[0] for line in fingerprint.installed()}
    assert {"torch", "tensorflow-cpu", "keras", "numpy", "ipykernel", "ipython", "jupyter_client".replace("_", "-"),
            "nbgrader"} <= {n.replace("_", "-") for n in names}


@pytest.mark.parametrize("status, reused", [("graded", True), ("timeout", True), ("unreadable", True),
                                            ("grader_error", False), ("kernel_failed_to_start", False)])
def test_a_failure_of_the_grader_is_never_reused(course, status, reused):
    t = task(load(course))
    assert fingerprint.reusable({"fingerprint": fingerprint.of_task(t), "status": status}, t) is reused
    assert fingerprint.reusable({"fingerprint": "stale", "status": status}, t) is False
    assert fingerprint.reusable(None, t) is False
