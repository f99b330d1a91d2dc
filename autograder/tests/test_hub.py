"""A class on one machine, for real (README, "Running a class on one server"): `make hub-users` creates Unix
users (an instructor and two students) from a roster, the class's group, nbgrader's exchange and the
instructor's private course directory; what each user may read is proven by running commands as that user
(runuser), nbgrader's own commands included; `make hub` starts JupyterHub (PAM logins, each server running as
its user, configurable-http-proxy in front) on loopback, and Playwright drives Debian's headless Chromium
through a class's round trip. Screenshots land in autograder/artifacts/ (hub-*.png), with the hub's log.

Needs root (it creates and deletes users); under CI a missing tool or root fails these tests."""

from __future__ import annotations

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
from test_browser import answered_release

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


def readable_venv(base: Path) -> Path:
    """The course's environment, as every user can run it.

    That is the checkout's .venv wherever its interpreter is readable by all: on CI (`make install` with
    Debian's /usr/bin/python3.11) and on any documented class server. A development machine whose .venv was
    built from a Python inside a private home (pyenv under /root) is the case `make hub-users` refuses; so
    that these tests still run there, they use a copy of that same interpreter (its library path made
    relative) and a launcher venv over the same site-packages, share/ and etc/ (symlinks), with the same
    scripts re-pointed at it (COURSE_VENV). CI never takes this path."""
    venv = ROOT / ".venv"
    if exchange.unreachable(venv / "bin" / "python") is None:
        return venv
    if os.environ.get("CI"):
        pytest.fail(f"{venv}/bin/python is not readable by other users ({exchange.unreachable(venv / 'bin/python')})")
    real, python = Path(os.path.realpath(venv)), Path(os.path.realpath(venv / "bin" / "python"))
    home = python.parents[1]  # the interpreter's prefix, e.g. ~/.pyenv/versions/3.11.7
    copy = base / "python"
    (copy / "bin").mkdir(parents=True)
    binary = python.read_bytes()
    runpath = f"{home}/lib".encode() + b"\0"
    relative = b"$ORIGIN/../lib"
    if len(relative) < len(runpath):
        binary = binary.replace(runpath, relative + b"\0" * (len(runpath) - len(relative)))
    (copy / "bin" / "python3.11").write_bytes(binary)
    (copy / "bin" / "python3.11").chmod(0o755)
    shutil.copytree(home / "lib", copy / "lib", symlinks=True, ignore=lambda d, names: [
        n for n in names if n in ("site-packages", "test", "pkgconfig") or (d == str(home / "lib") and n.startswith("python3")
                                                                            and n != "python3.11")])
    launcher = base / "venv"
    (launcher / "bin").mkdir(parents=True)
    (launcher / "lib" / "python3.11").mkdir(parents=True)
    (launcher / "bin" / "python").symlink_to(copy / "bin" / "python3.11")
    for name in ("python3", "python3.11"):
        (launcher / "bin" / name).symlink_to("python")
    (launcher / "lib" / "python3.11" / "site-packages").symlink_to(real / "lib" / "python3.11" / "site-packages")
    for name in ("share", "etc"):
        (launcher / name).symlink_to(real / name)
    (launcher / "pyvenv.cfg").write_text(f"home = {copy / 'bin'}\ninclude-system-site-packages = false\n")
    for script in (real / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        text = script.read_bytes()
        if text.startswith(f"#!{real}/bin/python".encode()) or text.startswith(f"#!{venv}/bin/python".encode()):
            body = text.split(b"\n", 1)[1]
            (launcher / "bin" / script.name).write_bytes(f"#!{launcher}/bin/python\n".encode() + body)
            (launcher / "bin" / script.name).chmod(0o755)
    check = subprocess.run(["runuser", "-u", "nobody", "--", str(launcher / "bin" / "python"), "-c",
                            "import sys; print(sys.version.split()[0])"], capture_output=True, text=True)
    assert check.stdout.strip() == ".".join(map(str, sys.version_info[:3])), check.stderr
    return launcher


@pytest.fixture(scope="module")
def klass():
    """`make hub-users` for an instructor and two students, in a throwaway folder; everything removed after."""
    need_root()
    tag = uuid.uuid4().hex[:6]
    base = Path(tempfile.mkdtemp(prefix=f"sbs-class-{tag}-", dir="/tmp"))
    base.chmod(0o755)  # the users' homes, the exchange and the environment lie below: every user enters
    (base / "home").mkdir()
    instructor, students, group = f"sbs{tag}-teach", [f"sbs{tag}-ann", f"sbs{tag}-bob"], f"sbs{tag}-class"
    roster = base / "roster.csv"
    roster.write_text(f"id,first_name,last_name,email\n{students[0]},Ann,Lee,ann@example.org\n"
                      f"{students[1]},Bob,Ng,bob@example.org\n")
    env = {**os.environ, "NBGRADER_EXCHANGE": str(base / "exchange"), "COURSE_VENV": str(readable_venv(base))}
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


def test_the_exchange_round_trip_with_nbgraders_commands_keeps_each_students_work_private(klass):
    """Release, fetch, submit, collect, autograde, feedback: nbgrader's own commands, each as its user."""
    ann, bob = klass.students
    a, inbound, feedback = ASSIGNMENT_CLI, klass.course_exchange / "inbound", klass.course_exchange / "feedback"
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
