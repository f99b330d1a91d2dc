"""A class in operation: nbgrader's whole instructor <-> student loop through this course's grader, with
real Unix users (names with an accent and an apostrophe), nbgrader's own commands and a shared exchange.

release -> fetch -> submit (one student twice) -> collect -> grade (this grader, as the instructor) ->
what the formgrader shows -> a manual score and comment -> regrade -> generate/release/fetch feedback ->
export. Every step's result is checked as the user who would see it.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

import probe
from conftest import ARTIFACTS, ROOT, VENV_BIN, free_port, unix_users, user_command

A = probe.ASSIGNMENT
TEACHER = "sxs-teacher"
ANA, ZOE, OBRIEN, BEN = "sxs-ana", "sxs-zoë", "sxs-o'brien", "sxs-ben"
STUDENTS = [ANA, ZOE, OBRIEN, BEN]
EVIL_MARKDOWN = ("It checks both. <script>alert('written')</script> <img src=x onerror=alert(1)> "
                 "[click](javascript:alert(2))")
EVIL_OUTPUT = "from IPython.display import HTML, display\ndisplay(HTML('<script>alert(\"output\")</script>'))\n"


def shown(page: str) -> str:
    """The text a person reads on an HTML page (tags gone, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def as_user(user: str, *cmd: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(user_command(user, *cmd), cwd=cwd, capture_output=True, text=True, timeout=600)
    if check and r.returncode:
        raise AssertionError(f"{user}$ {' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


@pytest.fixture(scope="module")
def users():
    with unix_users(TEACHER, *STUDENTS):
        yield


@pytest.fixture(scope="module")
def klass(users):
    """A course owned by the instructor (private) and an exchange under a system-like path."""
    base = Path(tempfile.mkdtemp(prefix="sxs-class-"))
    os.chmod(base, 0o755)
    exchange = base / "exchange"
    exchange.mkdir(mode=0o777)
    os.chmod(exchange, 0o1777)  # as nbgrader's docs ask: everyone may create their course's folders in it
    course = base / "course"
    course.mkdir()
    probe.build_course(course, written=True, config=(
        f"c.Exchange.root = {str(exchange)!r}\n"
        "c.HTMLExporter.sanitize_html = True\n"
        "c.HTMLExporter.filters = {'markdown2html': 'autograder.safe_html.markdown2html'}\n"))
    (course / "setup.db").unlink()
    teacher = pwd.getpwnam(TEACHER)
    for p in [course, *course.rglob("*")]:
        os.chown(p, teacher.pw_uid, teacher.pw_gid, follow_symlinks=False)
    os.chmod(course, 0o700)
    yield base, course, exchange
    shutil.rmtree(base, ignore_errors=True)


def student_answers(student: str, course: Path, first: bool = False) -> dict:
    written = {probe.WRITTEN: "Two independent implementations rarely share one mistake."}
    if student == ZOE:
        return probe.answered(course, {"q1_double": "def double(x):\n    return 3 * np.asarray(x)",
                                       probe.WRITTEN: EVIL_MARKDOWN,
                                       "q2_norm": EVIL_OUTPUT + probe.solution("q2_norm")})
    if student == OBRIEN:
        return probe.answered(course)
    if student == BEN and first:
        return probe.answered(course, correct=False)
    return probe.answered(course, written)


def work_on(student: str, nb: dict) -> None:
    """The student's edit of the notebook they fetched (as their own file)."""
    user = pwd.getpwnam(student)
    path = Path(user.pw_dir) / A / probe.NOTEBOOK
    path.write_text(json.dumps(nb))
    os.chown(path, user.pw_uid, user.pw_gid)


def grades_by_student(course: Path) -> dict:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "probe") as gb:
        out = {}
        for sub in gb.assignment_submissions(A):
            nb = sub.notebooks[0]
            out[sub.student.id] = {
                "score": sub.score, "max": sub.max_score, "needs_manual": sub.needs_manual_grade,
                "timestamp": sub.timestamp, "grades": {g.name: (g.auto_score, g.manual_score) for g in nb.grades},
                "comments": {c.name: (c.auto_comment, c.manual_comment) for c in nb.comments}}
        return out


@contextlib.contextmanager
def instructors_lab(course: Path):
    """The instructor's own JupyterLab (formgrader included), run as the instructor in the course folder."""
    port, token = free_port(), secrets.token_hex(16)
    proc = subprocess.Popen(user_command(TEACHER, str(VENV_BIN / "jupyter"), "lab", "--no-browser",
                                         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                         "--ServerApp.port_retries=0", f"--ServerApp.root_dir={course}",
                                         f"--IdentityProvider.token={token}", env={"JUPYTER_PLATFORM_DIRS": "1"}),
                            cwd=course, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "the instructor's lab did not start"
                time.sleep(0.5)
        yield base, token
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def grade_by_hand(browser, course: Path, student: str, cell: str, score: float, comment: str) -> None:
    """The instructor types a score and a comment on a written answer in the formgrader's Manual Grading."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "probe") as gb:
        notebook_id = gb.find_submission_notebook(Path(probe.NOTEBOOK).stem, A, student).id
    with instructors_lab(course) as (base, token):
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.goto(f"{base}/lab?token={token}")  # logs in
        page.goto(f"{base}/formgrader/manage_submissions/{A}")
        page.wait_for_selector(f"td:has-text('{student}')", timeout=120_000)
        page.screenshot(path=str(ARTIFACTS / "loop-formgrader-submissions.png"))
        page.goto(f"{base}/formgrader/submissions/{notebook_id}/")
        box = page.locator(f"input.score#{cell}")
        box.wait_for(timeout=120_000)
        # A person types once the page has loaded; the formgrader binds its save-on-change handlers only after it
        # has fetched the grades and comments (formgrade.js sets these flags), so wait for them as a person would.
        page.wait_for_function("() => window.formgrader && formgrader.grades && formgrader.grades.loaded"
                               " && formgrader.comments && formgrader.comments.loaded", timeout=120_000)
        box.fill(str(score))
        box.press("Tab")  # the formgrader saves on change
        text = page.locator(f"textarea#{cell}-comment")
        text.fill(comment)
        text.press("Tab")
        deadline = time.monotonic() + 60
        while grades_by_student(course)[student]["grades"][cell][1] != score or \
                grades_by_student(course)[student]["comments"][cell][1] != comment:
            assert time.monotonic() < deadline, "the formgrader did not save the manual score and comment"
            time.sleep(0.5)
        box.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "loop-formgrader-manual-grade.png"))
        page.close()


def test_the_whole_loop(klass, browser):
    base, course, exchange = klass
    nbgrader = str(VENV_BIN / "nbgrader")
    student_flags = ["--course=probe", f"--Exchange.root={exchange}"]
    started = time.monotonic()

    # 1. the instructor generates and releases
    as_user(TEACHER, nbgrader, "generate_assignment", A, "--force", cwd=course)
    as_user(TEACHER, nbgrader, "release_assignment", A, cwd=course)
    assert (exchange / "probe" / "outbound" / A / probe.NOTEBOOK).is_file()

    # 2. students fetch, work and submit (ben twice: a blank first try, then his real one)
    for student in STUDENTS:
        home = Path(pwd.getpwnam(student).pw_dir)
        as_user(student, nbgrader, "fetch_assignment", A, *student_flags, cwd=home)
        assert "YOUR ANSWER HERE" in (home / A / probe.NOTEBOOK).read_text()
        work_on(student, student_answers(student, course, first=student == BEN))
        as_user(student, nbgrader, "submit", A, *student_flags, cwd=home)
    time.sleep(1.1)  # nbgrader's timestamps have a resolution of a second or better; make the order certain
    work_on(BEN, student_answers(BEN, course))
    as_user(BEN, nbgrader, "submit", A, *student_flags, cwd=Path(pwd.getpwnam(BEN).pw_dir))

    # 3. the instructor collects (the latest submission of each)
    as_user(TEACHER, nbgrader, "collect", A, cwd=course)
    submitted = course / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == sorted(STUDENTS)

    # 4. grades with this grader, as the instructor (the sandbox needs no root), defaults from nbgrader_config
    as_user(TEACHER, str(VENV_BIN / "python"), "-m", "autograder", "grade", A, "--course", str(course),
            "--workers", "2", "--quiet", cwd=ROOT)
    rows = {r["student_id"]: r for r in csv.DictReader(io.StringIO(
        (course / "autograder" / "graded" / A / "grades.csv").read_text()))}
    assert sorted(rows) == sorted(STUDENTS), "every student graded under their exact id"
    assert {s: float(rows[s]["auto_score"]) for s in STUDENTS} == {ANA: 6, ZOE: 5, OBRIEN: 6, BEN: 6}
    assert {s: rows[s]["needs_manual_grade"] for s in STUDENTS} == {ANA: "yes", ZOE: "yes", OBRIEN: "no", BEN: "yes"}
    assert {float(r["max_score"]) for r in rows.values()} == {6 + probe.WRITTEN_POINTS}, "manual points count"
    for s in STUDENTS:
        autograded = course / "autograded" / s / A / probe.NOTEBOOK
        assert autograded.is_file(), f"nbgrader's autograded notebook for {s}"
        assert (autograded.parent / "timestamp.txt").read_text() == (submitted / s / A / "timestamp.txt").read_text()
    gb = grades_by_student(course)
    from nbgrader.utils import parse_utc

    for s in STUDENTS:  # submission timestamps, as nbgrader's late-penalty plugins need them
        assert gb[s]["timestamp"] == parse_utc((submitted / s / A / "timestamp.txt").read_text().strip())
    assert gb[ANA]["grades"][probe.WRITTEN] == (None, None) and gb[OBRIEN]["grades"][probe.WRITTEN] == (0, None)
    assert gb[OBRIEN]["comments"][probe.WRITTEN][0] == "No response."

    # 5. what the formgrader's Manage Submissions shows: every submission autograded, none "needs autograding"
    formgrader_view = as_user(TEACHER, str(VENV_BIN / "python"), "-c", (
        "import json\nfrom nbgrader.apps.api import NbGraderAPI\nfrom nbgrader.coursedir import CourseDirectory\n"
        "from traitlets.config.loader import PyFileConfigLoader\n"
        "cfg = PyFileConfigLoader('nbgrader_config.py', path='.').load_config()\n"
        "api = NbGraderAPI(CourseDirectory(config=cfg, root='.'), config=cfg)\n"
        f"print(json.dumps([[s['student'], s['autograded'], s['score'], s['needs_manual_grade']] "
        f"for s in api.get_submissions({A!r})]))"), cwd=course)
    view = {s: (auto, score, manual) for s, auto, score, manual in json.loads(formgrader_view.stdout)}
    assert view == {ANA: (True, 6, True), ZOE: (True, 5, True), OBRIEN: (True, 6, False), BEN: (True, 6, True)}

    # 6. a manual score and comment typed in the formgrader, then a full regrade: neither is erased
    grade_by_hand(browser, course, ANA, probe.WRITTEN, 1.5, "Clear and right.")
    shutil.rmtree(course / "autograder" / "graded" / A / "results")  # nothing reused: every submission runs again
    as_user(TEACHER, str(VENV_BIN / "python"), "-m", "autograder", "grade", A, "--course", str(course),
            "--workers", "2", "--quiet", cwd=ROOT)
    gb = grades_by_student(course)
    assert gb[ANA]["grades"][probe.WRITTEN] == (None, 1.5) and gb[ANA]["score"] == 7.5
    assert gb[ANA]["comments"][probe.WRITTEN][1] == "Clear and right."

    # 7. feedback: nbgrader generates and releases it, each student fetches their own and reads it
    as_user(TEACHER, nbgrader, "generate_feedback", A, cwd=course)
    as_user(TEACHER, nbgrader, "release_feedback", A, cwd=course)
    for student in STUDENTS:
        home = Path(pwd.getpwnam(student).pw_dir)
        as_user(student, nbgrader, "fetch_feedback", A, *student_flags, cwd=home)
        pages = list((home / A / "feedback").glob(f"*/{probe.NOTEBOOK.replace('.ipynb', '.html')}"))
        assert len(pages) == 1, f"{student} received {len(pages)} feedback pages"
        page = as_user(student, "cat", str(pages[0]), cwd=home).stdout  # readable by the student
        assert "np.arange(5.0) * 2" not in shown(page) and "np.ones(n)" not in shown(page), "no hidden test code"
        assert "def double(x):" in shown(page), "the student's own code"
        assert "<script>alert" not in page and "onerror=" not in page and 'href="javascript' not in page
    zoe_page = next((Path(pwd.getpwnam(ZOE).pw_dir) / A / "feedback").glob("*/*.html")).read_text()
    assert "✗ check «q1 visible» failed" in shown(zoe_page) and "✗ hidden check «q1 hidden» failed" in shown(zoe_page)
    assert "It checks both." in shown(zoe_page)  # the written answer itself is kept, made inert
    ana_file = next((Path(pwd.getpwnam(ANA).pw_dir) / A / "feedback").glob("*/*.html"))
    ana_page = shown(ana_file.read_text())
    assert "Clear and right." in ana_page and "7.5" in ana_page
    for who, page_file in ((ANA, ana_file), (ZOE, next((Path(pwd.getpwnam(ZOE).pw_dir) / A / "feedback").glob("*/*.html")))):
        page = browser.new_page(viewport={"width": 1100, "height": 1400})
        page.goto(page_file.as_uri())
        page.screenshot(path=str(ARTIFACTS / f"loop-feedback-{'ana' if who == ANA else 'zoe'}.png"), full_page=True)
        page.close()

    # 8. export: scores and submission timestamps, as nbgrader's own report has them
    as_user(TEACHER, nbgrader, "export", "--to", str(course / "export.csv"), cwd=course)
    exported = {r["student_id"]: r for r in csv.DictReader((course / "export.csv").open())}
    assert {s: float(exported[s]["score"]) for s in STUDENTS} == {ANA: 7.5, ZOE: 5, OBRIEN: 6, BEN: 6}
    assert all(exported[s]["timestamp"] for s in STUDENTS)

    # 9. the instructor's files are the instructor's: a student cannot read the course or its gradebook
    denied = as_user(ANA, "cat", str(course / "gradebook.db"), cwd=Path("/"), check=False)
    assert denied.returncode != 0
    print(f"the whole loop took {time.monotonic() - started:.1f} s", file=sys.stderr)
