"""Batch semantics of the grader: fresh results on regrade, resuming after a kill without lost or
duplicated work, LMS zips, the command line, and a real Dask cluster on loopback."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest

import probe
from autograder import batch, config
from conftest import ROOT, others_can_enter, tool, unix_users, user_command

SETTINGS = config.Autograder(cell_timeout=8, notebook_timeout=60, course_conventions=False)
WRONG_Q1 = {"q1_double": "def double(x):\n    return 3 * np.asarray(x)"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    tool("bwrap")
    return probe.build_course(tmp_path_factory.mktemp("course"))


def grade(course, subs, out, **kw):
    return {r["student_id"]: r for r in batch.grade_assignment(
        probe.ASSIGNMENT, subs, out, root=course, settings=SETTINGS, quiet=True, **kw)}


def scores_in_gradebook(course):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # nbgrader's default place
        return {s.student.id: s.score for s in gb.assignment_submissions(probe.ASSIGNMENT)}


def test_regrade_replaces_every_score(course, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    probe.submit(subs, "ana", probe.answered(course))
    probe.submit(subs, "ben", probe.answered(course, WRONG_Q1))
    first = grade(course, subs, out, workers=2)
    assert (first["ana"]["score"], first["ben"]["score"]) == (6, 5)
    # ana resubmits something that crashes in the first answer; ben fixes his answer
    probe.submit(subs, "ana", probe.answered(course, {"q1_double": "import os\nos._exit(3)"}))
    probe.submit(subs, "ben", probe.answered(course))
    second = grade(course, subs, out, workers=2)
    assert (second["ana"]["score"], second["ana"]["status"]) == (0, "kernel_died")
    assert second["ben"]["score"] == 6
    assert scores_in_gradebook(course)["ana"] == 0 and scores_in_gradebook(course)["ben"] == 6
    assert "ana,99_probe,0.0,6.0,kernel_died" in (out / "grades.csv").read_text()


def test_an_unchanged_submission_is_not_graded_twice(course, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    probe.submit(subs, "cat", probe.answered(course))
    grade(course, subs, out, workers=1)
    saved = (out / "results" / "cat.json").read_text()
    again = grade(course, subs, out, workers=1)
    assert (out / "results" / "cat.json").read_text() == saved and again["cat"]["score"] == 6


def test_a_killed_batch_resumes_without_losing_or_repeating_work(course, tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    students = [f"s{i:02d}" for i in range(6)]
    for s in students:
        probe.submit(subs, s, probe.answered(course))
    code = ("import sys; sys.path[:0] = [%r, %r]\nfrom pathlib import Path\nfrom autograder import batch\n"
            "from test_grader_batch import SETTINGS  # the same limits as the rerun: the fingerprint covers them\n"
            "if __name__ == '__main__':\n"
            "    batch.grade_assignment('99_probe', Path(%r), Path(%r), workers=1, root=Path(%r), quiet=True,\n"
            "                           settings=SETTINGS)\n"
            % (str(ROOT), str(ROOT / "autograder" / "tests"), str(subs), str(out), str(course)))
    script = tmp_path / "run.py"
    script.write_text(code)
    proc = subprocess.Popen([sys.executable, str(script)], start_new_session=True)
    deadline = time.monotonic() + 180
    while len(list((out / "results").glob("*.json"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the grader dies mid-batch, with its workers
    proc.wait()
    before = {p.name: p.read_text() for p in (out / "results").glob("*.json")}
    assert 2 <= len(before) < len(students), "the kill should land mid-batch"
    results = grade(course, subs, out, workers=2)  # it also reaps kernels the killed grader left
    assert sorted(results) == students and all(r["score"] == 6 for r in results.values())
    for name, text in before.items():  # finished work was kept, not redone
        assert (out / "results" / name).read_text() == text
    rows = (out / "grades.csv").read_text().splitlines()[1:]
    assert sorted(r.split(",")[0] for r in rows) == students


def test_lms_zip_downloads(course, tmp_path):
    good = json.dumps(probe.answered(course)).encode()
    wrong = json.dumps(probe.answered(course, WRONG_Q1)).encode()
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("dana_12345_67890_99_probe.ipynb", good)                       # Canvas
        z.writestr("eli_late_12346_67891_99_probe-1.ipynb", wrong)                # Canvas, late resubmission
        z.writestr("Fay Gold_555_assignsubmission_file_/99_probe.ipynb", good)     # Moodle
        z.writestr("export/gus/99_probe/99_probe.ipynb", wrong)                   # nbgrader layout
        z.writestr("../../evil_1_2_99_probe.ipynb", good)                         # path tricks stay names
    results = grade(course, archive, tmp_path / "out", workers=2)
    # each LMS's own user id stays in the student id (Canvas: user id; Moodle: participant id)
    assert {k: r["score"] for k, r in results.items()} == {
        "dana_12345": 6, "eli_12346": 5, "Fay Gold_555": 6, "gus": 5, "evil_1": 6}
    assert not (tmp_path.parent / "evil_1_2_99_probe.ipynb").exists()


def test_cli_refuses_without_a_sandbox_and_runs_with_the_unsafe_flag(course, tmp_path):
    subs = tmp_path / "subs"
    probe.submit(subs, "hal", probe.answered(course))
    cmd = [sys.executable, "-m", "autograder", "grade", probe.ASSIGNMENT, "--submissions", str(subs),
           "--out", str(tmp_path / "out"), "--course", str(course), "--workers", "1"]
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}  # no bwrap on this PATH
    refused = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "refusing to run student code" in refused.stderr
    assert "bubblewrap is not installed" in refused.stderr and not (tmp_path / "out").exists()
    unsafe = subprocess.run(cmd + ["--unsafe-no-sandbox", "--Autograder.cell_timeout=30"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert unsafe.returncode == 0, unsafe.stderr
    assert "hal,99_probe,6.0,6.0,graded" in (tmp_path / "out" / "grades.csv").read_text()
    assert "1/1" in unsafe.stderr  # the progress line
    limits = json.loads((tmp_path / "out" / "results" / "hal.json").read_text())["limits"]
    assert (limits["cell_timeout_s"], limits["sandboxed"]) == (30, False)  # the override, from the command line
    typo = subprocess.run(cmd + ["--Autograder.cell_timout=30"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert typo.returncode == 2 and "no such option" in typo.stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_dask_cluster_whose_workers_share_nothing_with_the_client(course, tmp_path):
    """A real scheduler and two workers on loopback. The workers run as another Unix user, from its own
    home, with no PYTHONPATH: they cannot read the course folder (the test's is private to root) or the
    submissions, so everything a task needs (template, reference, data files, submission) must travel
    as content, and the grader must be an installed package, as on a cluster's other hosts."""
    port = free_port()
    bindir = os.path.dirname(sys.executable)
    assert others_can_enter(course), "the course must be out of the workers' reach for this test to prove anything"
    with unix_users("sxs-dask"):
        procs = [subprocess.Popen([f"{bindir}/dask", "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                   "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)]
        try:
            for _ in range(2):
                procs.append(subprocess.Popen(
                    user_command("sxs-dask", f"{bindir}/dask", "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                 "--nworkers", "1", "--no-dashboard", "--host", "127.0.0.1"),
                    cwd="/", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            from distributed import Client

            with Client(f"tcp://127.0.0.1:{port}", timeout="60s") as client:
                client.wait_for_workers(2, timeout=120)
            subs = tmp_path / "subs"
            for i in range(6):
                probe.submit(subs, f"d{i}", probe.answered(course, WRONG_Q1 if i % 2 else None))
            results = grade(course, subs, tmp_path / "out", scheduler=f"tcp://127.0.0.1:{port}")
            assert {k: (r["score"], r["status"]) for k, r in results.items()} == {
                f"d{i}": (5 if i % 2 else 6, "graded") for i in range(6)}
            reference = json.loads((tmp_path / "out" / "reference.json").read_text())
            workers = {r["worker"] for r in results.values()} | {reference["worker"]}
            assert len(workers) == 2, f"both workers did part of the job: {workers}"
            assert scores_in_gradebook(course)["d1"] == 5  # one writer: the client
        finally:
            for p in procs:
                os.killpg(p.pid, signal.SIGTERM)
            for p in procs:
                p.wait(timeout=30)


def test_the_gradebook_on_a_real_postgresql_server(course, tmp_path):
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed, and CI must run every test")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    bindir = found[-1].parent
    home = Path(tempfile.mkdtemp(prefix="pg-"))  # outside pytest's root-only folders
    home.chmod(0o755)
    data = home / "data"
    data.mkdir()
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []  # PostgreSQL refuses root
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    subprocess.run(run_as + [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "--auth=trust"],
                   check=True, capture_output=True)
    subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-l", str(data / "log"), "-w", "-o",
                             f"-h 127.0.0.1 -p {port} -k {data}", "start"], check=True, capture_output=True)
    try:
        url = f"postgresql://grader@127.0.0.1:{port}/postgres"
        subs = tmp_path / "subs"
        probe.submit(subs, "pat", probe.answered(course))
        probe.submit(subs, "quinn", probe.answered(course, WRONG_Q1))
        results = grade(course, subs, tmp_path / "out", workers=2, db=url)
        from nbgrader.api import Gradebook

        with Gradebook(url) as gb:
            scores = {s.student.id: s.score for s in gb.assignment_submissions(probe.ASSIGNMENT)}
        assert scores == {"pat": 6.0, "quinn": 5.0} == {k: r["score"] for k, r in results.items()}
    finally:
        subprocess.run(run_as + [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_grade_is_a_pure_function_of_one_submission(course):
    from autograder import template
    from autograder.grade import Task, grade

    tpl = template.load(probe.ASSIGNMENT, course, conventions=False)
    limits, sandbox_limits = SETTINGS.run_limits(), SETTINGS.sandbox_limits()
    template.compute_reference(tpl, True, limits, sandbox_limits)
    good = json.dumps(probe.answered(course)).encode()
    result = grade(Task("solo", tpl, probe.NOTEBOOK, good, limits=limits, sandbox_limits=sandbox_limits))
    assert (result["score"], result["status"]) == (6, "graded")
    again = grade(Task("solo", tpl, probe.NOTEBOOK, good, limits=limits, sandbox_limits=sandbox_limits))
    assert again["fingerprint"] == result["fingerprint"]


def test_the_unit_tests_fast_release_is_what_nbgrader_makes(course, tmp_path):
    """probe.build_course_fast (no nbgrader, for the fast unit tests) yields the same template."""
    from autograder import template

    fast = template.load(probe.ASSIGNMENT, probe.build_course_fast(tmp_path), conventions=False)
    real = template.load(probe.ASSIGNMENT, course, conventions=False)
    strip = [[(c["kind"], c["grade_id"], c["code"].strip(), c["original"].strip()) for c in t.cells] for t in (fast, real)]
    assert strip[0] == strip[1]
    assert {g: (t.points, t.specs, t.visible) for g, t in fast.tests.items()} == \
        {g: (t.points, t.specs, t.visible) for g, t in real.tests.items()}


def test_a_grader_failure_is_graded_again_on_the_next_run(course, tmp_path):
    """A saved grader_error (here: forged into the saved result) is never reused."""
    subs, out = tmp_path / "subs", tmp_path / "out"
    probe.submit(subs, "ivy", probe.answered(course))
    assert grade(course, subs, out, workers=1)["ivy"]["score"] == 6
    path = out / "results" / "ivy.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "status": "grader_error", "score": 0, "reason": "lost worker"}))
    again = grade(course, subs, out, workers=1)
    assert (again["ivy"]["status"], again["ivy"]["score"]) == ("graded", 6)


def test_the_reference_solution_runs_under_the_submissions_limits(tmp_path):
    """A reference solution that needs more memory than the sandbox allows is refused: it ran under
    the same sandbox limits as the students (not the grader's own, unlimited process)."""
    from autograder import template

    tool("bwrap")
    nb = probe.source_notebook(
        {"q1_big": "def big():\n    ### BEGIN SOLUTION\n    return len(bytearray(900 * 2**20))\n    ### END SOLUTION"},
        {"test_q1_big": (1, 'sbs.assert_parity(big(), 900 * 2**20, name="big")')})
    course = probe.build_course_fast(tmp_path / "course", nb)
    subs = tmp_path / "subs"
    probe.submit(subs, "kim", probe.answered(course))
    tight = config.Autograder(cell_timeout=30, notebook_timeout=60, memory_bytes=600 * 2**20, course_conventions=False)
    with pytest.raises(template.InstructorError, match="MemoryError"):
        batch.grade_assignment(probe.ASSIGNMENT, subs, tmp_path / "out", workers=2, root=course, settings=tight,
                               quiet=True)
