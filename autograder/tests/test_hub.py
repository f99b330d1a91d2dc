"""A class on one machine, for real (README, "Running a class on one server"): `make hub-users` creates Unix
users (an instructor and two students) from a roster, the class's group, nbgrader's exchange and the
instructor's private course directory; what each user may read is proven by running commands as that user
(runuser), nbgrader's own commands included; `make hub` starts JupyterHub (PAM logins, each server running as
its user, configurable-http-proxy in front) on loopback, and Playwright drives Debian's headless Chromium
through a class's round trip. Screenshots land in autograder/artifacts/ (hub-*.png), with the hub's log.

Needs root (it creates and deletes users); under CI a missing tool or root fails these tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ARTIFACTS, ROOT, free_port, tool
from test_browser import answered_release, validate

sys.path.insert(0, str(ROOT))
from hub import classroom, exchange  # noqa: E402

ASSIGNMENT_CLI = "02_autodiff"   # moved through the exchange with nbgrader's commands
ASSIGNMENT_UI = "01_tensors"     # moved through the exchange in the browser



@dataclass
class Class:
    base: Path
    instructor: str
    students: list[str]
    group: str
    settings: classroom.Settings
    env: dict
    make: list
    passwords: dict

    @property
    def course(self) -> Path:
        return classroom.instructor_course(self.instructor, classroom.course_id())

    @property
    def course_exchange(self) -> Path:
        return self.settings.exchange / classroom.course_id()

    def home(self, user: str) -> Path:
        return Path(f"{self.base}/home/{user}")

    def run_as(self, user: str, *cmd: str, cwd: Path | None = None, timeout=600) -> subprocess.CompletedProcess:
        """``cmd`` as ``user``, with the environment the hub gives that user's server."""
        env = classroom.user_environment(self.settings, self.home(user))
        env["JUPYTER_CONFIG_PATH"] = str(self.course if user == self.instructor else classroom.STUDENT_CONFIG)
        return subprocess.run(["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in env.items()), *cmd],
                              cwd=cwd or self.home(user), capture_output=True, text=True, timeout=timeout)

    def nbgrader(self, user: str, *args: str, timeout=600) -> subprocess.CompletedProcess:
        r = self.run_as(user, "nbgrader", *args, cwd=self.course if user == self.instructor else None, timeout=timeout)
        assert r.returncode == 0, f"nbgrader {' '.join(args)} as {user} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        return r

    def cannot_read(self, user: str, path: Path) -> bool:
        """``user`` can neither open ``path`` nor list it."""
        r = self.run_as(user, "cat" if not path.is_dir() else "ls", str(path), cwd=Path("/"))
        return r.returncode != 0 and "Permission denied" in r.stderr


def need_root():
    for name in ("useradd", "userdel", "groupdel", "chpasswd", "runuser"):
        tool(name)
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the class-server tests create Unix users: CI must run them as root")
        pytest.skip("creating Unix users needs root")


def readable_environment() -> None:
    """Every user's server runs the checkout's environment: its interpreter must be readable by all users
    (not a Python inside a private home, such as a pyenv under /root). `make hub-users` refuses otherwise."""
    blocked = exchange.unreachable(ROOT / ".venv" / "bin" / "python")
    if blocked is not None:
        message = f"{ROOT}/.venv/bin/python is not readable by other users ({blocked} is closed)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)


@pytest.fixture(scope="module")
def klass():
    """`make hub-users` for an instructor and two students, in a throwaway folder; everything removed after."""
    need_root()
    readable_environment()
    tag = uuid.uuid4().hex[:6]
    base = Path(tempfile.mkdtemp(prefix=f"sbs-class-{tag}-", dir="/tmp"))
    base.chmod(0o755)  # the users' homes, the exchange and the environment lie below: every user enters
    (base / "home").mkdir()
    instructor, students, group = f"sbs{tag}-teach", [f"sbs{tag}-ann", f"sbs{tag}-bob"], f"sbs{tag}-class"
    roster = base / "roster.csv"
    roster.write_text(f"id,first_name,last_name,email\n{students[0]},Ann,Lee,ann@example.org\n"
                      f"{students[1]},Bob,Ng,bob@example.org\n")
    env = {**os.environ, "NBGRADER_EXCHANGE": str(base / "exchange")}
    make = ["make", "--no-print-directory", f"INSTRUCTOR={instructor}", f"COURSE_GROUP={group}",
            f"HUB_STATE={base / 'state'}"]
    try:
        r = subprocess.run([*make, "hub-users", f"ROSTER={roster}", f"HOME_BASE={base / 'home'}"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
        assert "Class set up" in r.stdout and "initial-passwords.csv" in r.stdout, r.stdout
        passwords = dict(line.split(",") for line in (base / "state" / classroom.PASSWORDS).read_text().split())
        settings = classroom.Settings.from_env({**env, "COURSE_INSTRUCTOR": instructor, "COURSE_GROUP": group,
                                                "HUB_STATE": str(base / "state")})
        yield Class(base, instructor, students, group, settings, env, make, passwords)
    finally:
        for user in (instructor, *students):
            subprocess.run(["userdel", "--remove", user], capture_output=True)
        subprocess.run(["groupdel", group], capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


def test_users_homes_and_the_instructors_course_are_private(klass):
    for user in (klass.instructor, *klass.students):
        home = klass.home(user)
        assert home.stat().st_mode & 0o777 == 0o700 and home.owner() == user
    course = klass.course
    assert course.owner() == klass.instructor and course.stat().st_mode & 0o777 == 0o700
    assert (course / "nbgrader_config.py").exists() and (course / "source" / ASSIGNMENT_UI).is_dir()
    assert not (course / ".venv").exists() and not (course / ".git").exists()


def test_the_roster_is_in_the_instructors_gradebook(klass):
    db = klass.course / "autograder" / "gradebook.db"
    assert db.owner() == klass.instructor
    with sqlite3.connect(db) as con:
        rows = set(con.execute("select id, first_name, last_name, email from student"))
    assert rows == {(klass.students[0], "Ann", "Lee", "ann@example.org"), (klass.students[1], "Bob", "Ng", "bob@example.org")}


def test_the_exchange_is_laid_out_for_the_class(klass):
    for entry in exchange.course_layout(klass.settings.exchange, classroom.course_id()):
        st = entry.path.stat()
        assert st.st_mode & 0o7777 == entry.mode, (entry.path, oct(st.st_mode))
        assert entry.path.owner() == (klass.instructor if entry.owner == "instructor" else "root")
    assert klass.course_exchange.group() == klass.group
    assert not str(klass.settings.exchange).startswith(str(klass.course))  # outside the course directory


def test_every_user_can_run_the_environment(klass):
    r = klass.run_as(klass.students[0], "python", "-c", "import nbgrader, jupyterhub, sidebyside; print(sidebyside.__file__)")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == str(ROOT / "course" / "sidebyside" / "__init__.py")


def test_a_student_cannot_read_the_instructors_files(klass):
    ann = klass.students[0]
    for path in (klass.course, klass.course / "autograder" / "gradebook.db", klass.course / "nbgrader_config.py",
                 klass.course / "source" / ASSIGNMENT_UI / f"{ASSIGNMENT_UI}.ipynb", klass.home(klass.instructor),
                 klass.settings.state / classroom.PASSWORDS):
        assert klass.cannot_read(ann, path), path


def test_release_fetch_submit_collect_with_nbgraders_commands_keeps_each_students_work_private(klass):
    """Release, fetch, submit, collect: nbgrader's own commands, each as its user."""
    ann, bob = klass.students
    a, inbound = ASSIGNMENT_CLI, klass.course_exchange / "inbound"
    klass.nbgrader(klass.instructor, "generate_assignment", a, "--force")
    klass.nbgrader(klass.instructor, "release_assignment", a, "--force")
    # A student fetches the released assignment into their home, and submits it.
    klass.nbgrader(bob, "fetch_assignment", a)
    fetched = klass.home(bob) / a / f"{a}.ipynb"
    assert fetched.owner() == bob
    klass.nbgrader(bob, "submit", a)
    submissions = list(inbound.glob(f"{bob}+{a}+*"))
    assert len(submissions) == 1 and submissions[0].owner() == bob
    # Other students can neither list the inbox nor read a classmate's home or nbgrader cache;
    # outside the class, nobody even enters the course's exchange.
    assert klass.cannot_read(ann, inbound)
    assert klass.cannot_read(ann, fetched) and klass.cannot_read(ann, klass.home(bob) / ".local")
    assert klass.run_as(ann, "sh", "-c", f"ls -d {inbound}/{bob}+*", cwd=Path("/")).returncode != 0
    nobody = subprocess.run(["runuser", "-u", "nobody", "--", "ls", str(klass.course_exchange / "outbound")],
                            capture_output=True, text=True)
    assert nobody.returncode != 0 and "Permission denied" in nobody.stderr
    # The instructor collects into the private course directory, grades, and releases feedback.
    klass.nbgrader(klass.instructor, "collect", a)
    collected = klass.course / "autograder" / "submitted" / bob / a / f"{a}.ipynb"
    assert collected.owner() == klass.instructor and klass.cannot_read(ann, collected)
    assert klass.cannot_read(bob, collected)


def test_feedback_with_nbgraders_commands_reaches_only_its_student(klass):
    """Autograde, generate and release feedback as the instructor; fetch it as the student who submitted."""
    ann, bob = klass.students
    a, feedback = ASSIGNMENT_CLI, klass.course_exchange / "feedback"
    if not (klass.course / "autograder" / "submitted" / bob / a).is_dir():
        pytest.fail("needs the collected submission of the test above")
    klass.nbgrader(klass.instructor, "autograde", a, "--student", bob, timeout=900)
    klass.nbgrader(klass.instructor, "generate_feedback", a, "--student", bob)
    klass.nbgrader(klass.instructor, "release_feedback", a, "--student", bob)
    assert klass.cannot_read(ann, feedback) and klass.cannot_read(bob, feedback)  # not listable, by anyone
    assert klass.cannot_read(ann, klass.course / "autograder" / "feedback")
    # Only the student who submitted can fetch it: the released file's name is a secret in their nbgrader cache.
    klass.nbgrader(bob, "fetch_feedback", a)
    got = list((klass.home(bob) / a / "feedback").glob(f"*/{a}.html"))
    assert len(got) == 1 and got[0].owner() == bob and "Score" in got[0].read_text()
    assert klass.cannot_read(ann, got[0])
    r = klass.run_as(ann, "nbgrader", "fetch_feedback", a)
    assert not (klass.home(ann) / a / "feedback").exists(), r.stdout + r.stderr


@pytest.fixture(scope="module")
def hub(klass):
    """`make hub` on free loopback ports; yields its URL. The hub's log is kept in autograder/artifacts/hub.log."""
    tool("configurable-http-proxy")
    port, hub_port, api_port = free_port(), free_port(), free_port()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = (klass.base / "hub.log").open("w")
    proc = subprocess.Popen([*klass.make, "hub", f"HUB_BIND_URL=http://127.0.0.1:{port}",
                             f"HUB_ARGS=--JupyterHub.hub_bind_url=http://127.0.0.1:{hub_port} "
                             f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{api_port}"],
                            cwd=ROOT, env=klass.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(base + "/hub/health", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise AssertionError("the hub did not come up:\n" + (klass.base / "hub.log").read_text()[-4000:])
            time.sleep(1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the hub stops every user's server as it exits
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        log.close()
        shutil.copy(klass.base / "hub.log", ARTIFACTS / "hub.log")


class Timer:
    """How long each step of the browser round trip took (printed, and saved as hub-steps.json)."""

    def __init__(self):
        self.steps, self.start = {}, time.monotonic()

    def __call__(self, name: str):
        now = time.monotonic()
        self.steps[name] = round(now - self.start, 1)
        self.start = now
        (ARTIFACTS / "hub-steps.json").write_text(json.dumps(self.steps, indent=1))


def log_in(browser, hub: str, user: str, password: str):
    """A user's own browser session: the hub's login form, then their JupyterLab once the server started."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{hub}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(re.compile(rf"/user/{user}/lab"), timeout=300_000)
    page.wait_for_selector(".jp-DirListing-item", timeout=180_000)  # the file browser has loaded
    return page


def formgrader_row(page, assignment: str):
    return page.locator("tr", has=page.locator("td.name", has_text=assignment))


def formgrader_action(page, assignment: str, action: str, expect: str, screenshot: str) -> str:
    """Click an action (.release, .collect, ...) in the formgrader's row of ``assignment``; return the modal's text."""
    formgrader_row(page, assignment).locator(f".{action} a").click()
    modal = page.locator("#success-modal, #error-modal")
    modal.wait_for(timeout=300_000)
    text = modal.inner_text()
    page.screenshot(path=str(ARTIFACTS / screenshot))
    assert expect in text, text
    modal.get_by_role("button").last.click()
    modal.wait_for(state="detached", timeout=30_000)
    return text


def open_assignments_tab(page):
    page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
    page.wait_for_selector("#released_assignments_list", timeout=60_000)


@pytest.fixture(scope="module")
def session():
    """What the browser tests share, in order: each user's page, and the seconds each step took."""
    return {"steps": Timer()}


@contextlib.contextmanager
def photographed(session):
    """On failure, a screenshot of every open page (hub-failure-<user>.png), then the failure."""
    try:
        yield
    except BaseException:
        for name in ("teacher", "student"):
            if name in session:
                session[name].screenshot(path=str(ARTIFACTS / f"hub-failure-{name}.png"))
        raise


def test_a_class_round_trip_in_the_browser(klass, hub, browser, session):
    """The instructor releases in the formgrader; a student fetches it in the Assignments tab, opens it,
    validates and submits; the instructor collects it in the formgrader. Each user logs in with their Unix
    password (PAM) and works in their own server, as their own Unix user."""
    with photographed(session):
        release_submit_collect(klass, hub, browser, session)


def release_submit_collect(klass, hub, browser, session):
    ann, a, step = klass.students[0], ASSIGNMENT_UI, session["steps"]

    # The instructor: JupyterLab in the private course directory, with the formgrader.
    teacher = session["teacher"] = log_in(browser, hub, klass.instructor, klass.passwords[klass.instructor])
    step("instructor logs in, server starts")
    base = f"{hub}/user/{klass.instructor}"
    teacher.goto(f"{base}/formgrader/manage_assignments")
    formgrader_row(teacher, a).wait_for(timeout=120_000)
    assert "exchange directory" not in teacher.inner_text("body"), "the formgrader finds the exchange"
    formgrader_action(teacher, a, "assign", "Successfully created the student version", "hub-formgrader-generate.png")
    formgrader_action(teacher, a, "release", f"Successfully released '{a}'", "hub-formgrader-release.png")
    assert (klass.course_exchange / "outbound" / a / f"{a}.ipynb").owner() == klass.instructor
    step("instructor generates and releases in the formgrader")

    # A student: their own JupyterLab, the student mode (no instructor tools), their copy of the chapters.
    (klass.home(ann) / "course" / "sidebyside.egg-info").mkdir()  # an install artefact, as an editable install leaves
    student = session["student"] = log_in(browser, hub, ann, klass.passwords[ann])
    step("student logs in, server starts")
    listing = student.request.get(f"{hub}/user/{ann}/api/contents/course").json()
    names = {item["name"] for item in listing["content"]}
    assert {"00_start_here.ipynb", "01_tensors.ipynb", "09_capstone.ipynb"} <= names
    assert "sidebyside.egg-info" not in names, names
    assert student.request.get(f"{hub}/user/{ann}/formgrader").status == 404
    student.goto(f"{hub}/user/{ann}/lab/tree/course")  # the file browser, in the chapters
    student.locator(".jp-DirListing-item", has_text="09_capstone.ipynb").wait_for(timeout=120_000)
    student.screenshot(path=str(ARTIFACTS / "hub-student-lab.png"))
    shown = student.locator(".jp-DirListing-content").inner_text()
    assert "00_start_here.ipynb" in shown and "egg-info" not in shown and "sidebyside" not in shown, shown

    open_assignments_tab(student)
    released = student.locator("#released_assignments_list .list_item", has_text=a)
    released.get_by_role("button", name="Fetch").click()
    fetched = student.locator("#fetched_assignments_list .list_item", has_text=a)
    fetched.first.wait_for(timeout=120_000)
    student.screenshot(path=str(ARTIFACTS / "hub-student-fetched.png"))
    notebook = klass.home(ann) / a / f"{a}.ipynb"
    assert notebook.owner() == ann
    step("student fetches in the Assignments tab")

    # The student's work (every answer), written as the student; then opened from the Assignments tab.
    nb, solution = answered_release("q3_pick_pytorch")
    for cell in nb["cells"]:
        if "def pick_pytorch" in "".join(cell["source"]):
            cell["source"] = solution
    r = subprocess.run(["runuser", "-u", ann, "--", "tee", str(notebook)], input=json.dumps(nb), text=True,
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    fetched.first.locator("a.assignment-notebooks-link").click()  # the assignment's notebooks
    # The notebook's link opens it in JupyterLab (nbgrader's collapsible list may stay folded in JupyterLab 4:
    # the click is dispatched to the link itself).
    fetched.first.locator(".assignment-notebooks a", has_text=a).first.dispatch_event("click")
    student.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=120_000)
    result = validate(student)
    student.screenshot(path=str(ARTIFACTS / "hub-student-validate.png"))
    assert "Success! Your notebook passes all the tests." in result, result
    student.locator(".jp-Dialog").last.get_by_role("button").last.click()
    step("student opens the notebook and validates it")

    open_assignments_tab(student)
    fetched.first.get_by_role("button", name="Submit").click()
    student.locator("#submitted_assignments_list .list_item", has_text=a).first.wait_for(timeout=120_000)
    student.screenshot(path=str(ARTIFACTS / "hub-student-submitted.png"))
    submissions = list((klass.course_exchange / "inbound").glob(f"{ann}+{a}+*"))
    assert len(submissions) == 1 and submissions[0].owner() == ann
    step("student submits in the Assignments tab")

    # The instructor collects in the formgrader.
    teacher.goto(f"{base}/formgrader/manage_assignments")
    formgrader_row(teacher, a).wait_for(timeout=120_000)
    formgrader_action(teacher, a, "collect", f"Successfully collected submissions of '{a}'", "hub-formgrader-collect.png")
    collected = klass.course / "autograder" / "submitted" / ann / a / f"{a}.ipynb"
    assert collected.owner() == klass.instructor
    assert json.loads(collected.read_text()) == json.loads(notebook.read_text())
    step("instructor collects in the formgrader")
    session["collected"] = collected


def test_grades_and_feedback_in_the_browser(klass, hub, session):
    """The collected submission is graded by the course's grader; the formgrader shows the score, generates
    and releases feedback; the student fetches it in the Assignments tab."""
    if "collected" not in session:
        pytest.fail("needs the round trip of the test above")
    with photographed(session):
        grade_and_feedback(klass, hub, session)


def grade_and_feedback(klass, hub, session):
    ann, a, step = klass.students[0], ASSIGNMENT_UI, session["steps"]
    teacher, student, base = session["teacher"], session["student"], f"{hub}/user/{klass.instructor}"

    # The course's grader, where nbgrader would autograde: run by the instructor, in the instructor's course.
    r = klass.run_as(klass.instructor, "python", "-m", "autograder", "grade", a, "--course", str(klass.course),
                     "--workers", "2", "--quiet", cwd=klass.course, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert (klass.course / "autograder" / "autograded" / ann / a / f"{a}.ipynb").owner() == klass.instructor
    teacher.goto(f"{base}/formgrader/manage_submissions/{a}")
    teacher.wait_for_selector(f"td:has-text('{ann}')", timeout=120_000)
    rows = teacher.inner_text("table")
    teacher.screenshot(path=str(ARTIFACTS / "hub-formgrader-grades.png"))
    assert re.search(r"Lee, Ann.*\b20(\.0)? / 20", rows) or re.search(rf"{ann}.*\b20(\.0)? / 20", rows), rows
    assert klass.students[1] not in rows, "a student who submitted nothing for it has no submission (as in nbgrader)"
    step("instructor grades with the course's grader, formgrader shows the score")

    teacher.goto(f"{base}/formgrader/manage_assignments")
    formgrader_row(teacher, a).wait_for(timeout=120_000)
    formgrader_action(teacher, a, "generate-feedback", "Successfully generated feedback", "hub-formgrader-feedback.png")
    formgrader_action(teacher, a, "release-feedback", "Successfully released feedback", "hub-formgrader-release-feedback.png")
    step("instructor generates and releases feedback in the formgrader")

    open_assignments_tab(student)
    submitted = student.locator("#submitted_assignments_list .list_item", has_text=a).first
    submitted.get_by_role("button", name="Fetch Feedback").click()
    view = submitted.locator("a", has_text="view feedback")
    view.wait_for(timeout=120_000)
    student.screenshot(path=str(ARTIFACTS / "hub-student-feedback.png"))
    feedback = list((klass.home(ann) / a / "feedback").glob(f"*/{a}.html"))
    assert len(feedback) == 1 and feedback[0].owner() == ann and "20.0" in feedback[0].read_text()
    step("student fetches feedback in the Assignments tab")
    print("hub round trip, seconds per step:", json.dumps(step.steps, indent=1))
