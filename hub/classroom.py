"""Set up a class on one machine (``make hub-users``): Unix users for the instructor and the students of a
roster, the class's group, nbgrader's shared exchange, the instructor's private course directory, each
student's copy of the chapters, and the roster in the instructor's gradebook.

Who may read what:

- the instructor's course directory (``~instructor/<course_id>``: sources, gradebook, collected, graded and
  feedback files, the grader's outputs) is the instructor's alone (mode 0700);
- every home directory is its owner's alone (0700; Debian's useradd would make it world-readable);
- in the exchange (hub/exchange.py) only the class's group enters the course: released assignments are
  readable by the class, the inbox cannot be listed, released feedback is named by a secret only its student
  holds;
- the project checkout itself (the environment in ``.venv``, the helper package, the hub's configuration)
  must be readable by every user, because every user's server runs from it: install it outside any home
  directory, e.g. in /opt. ``check_installation`` refuses to set up a class from a checkout students
  cannot reach.

Run as root: ``python -m hub.classroom --roster roster.csv --instructor NAME``. It never overwrites: users,
directories and passwords that exist are kept, so it can be run again after adding students to the roster.
"""

from __future__ import annotations

import argparse
import csv
import grp
import io
import os
import pwd
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hub import exchange

PROJECT = Path(__file__).resolve().parents[1]
STUDENT_CONFIG = PROJECT / ".jupyter" / "student"
# Unix user names nbgrader can use as student ids: no '+' (it separates the parts of a submission's name).
USERNAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
# What the instructor's copy of the project leaves out: the environment (shared, read from the checkout),
# version control, and everything generated at run time.
NOT_COPIED = shutil.ignore_patterns(".venv", ".git", "__pycache__", "*.egg-info", ".pytest_cache", ".ipynb_checkpoints",
                                    "gradebook.db", "submitted", "autograded", "feedback", "graded", "artifacts",
                                    "exchange", "scratch", "bench-results", ".install.lock", "kernel-ipc-*")


PASSWORDS = "initial-passwords.csv"  # user,password of each user created, in the hub's state folder (root only)


class RosterError(ValueError):
    pass


@dataclass(frozen=True)
class Student:
    id: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class Settings:
    """What the setup, the hub and the Makefile agree on; each comes from the environment, with a default."""

    instructor: str
    group: str
    exchange: Path
    state: Path
    venv: Path  # the environment every user's server runs: it must be readable by every user

    @classmethod
    def from_env(cls, environ=os.environ) -> "Settings":
        return cls(instructor=environ.get("COURSE_INSTRUCTOR") or "instructor",
                   group=environ.get("COURSE_GROUP") or "sbs-class",
                   exchange=Path(environ.get(exchange.ENV) or exchange.SYSTEM_EXCHANGE),
                   state=Path(environ.get("HUB_STATE") or "/srv/jupyterhub"),
                   venv=Path(environ.get("COURSE_VENV") or PROJECT / ".venv"))


def course_id() -> str:
    """The course's id, from the one place that names it (the students' nbgrader config)."""
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader("nbgrader_config.py", str(STUDENT_CONFIG)).load_config().CourseDirectory.course_id


def read_roster(text: str) -> list[Student]:
    """Students from a roster CSV with nbgrader's columns (id, first_name, last_name, email; only id is
    required). Every problem is reported at once, with its line."""
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows or "id" not in rows[0]:
        raise RosterError("the roster needs a header line with an 'id' column (and first_name, last_name, email)")
    problems, seen, students = [], set(), []
    for line, row in enumerate(rows, start=2):
        sid = (row.get("id") or "").strip()
        if not USERNAME.match(sid):
            problems.append(f"line {line}: id {sid!r} is not a Unix user name (lowercase letters, digits, '-', '_';"
                            " at most 32; starts with a letter)")
        elif sid in seen:
            problems.append(f"line {line}: id {sid!r} appears twice")
        seen.add(sid)
        students.append(Student(sid, *((row.get(k) or "").strip() for k in ("first_name", "last_name", "email"))))
    if problems:
        raise RosterError("the roster has problems:\n  " + "\n  ".join(problems))
    return students


def check_installation(settings: Settings) -> None:
    """Every user's server runs the environment's Python and reads the course from this checkout."""
    for path in (settings.venv / "bin" / "python", settings.venv / "bin" / "jupyterhub-singleuser",
                 PROJECT / "course" / "sidebyside" / "__init__.py", STUDENT_CONFIG / "nbgrader_config.py",
                 PROJECT / "hub" / "exchange.py"):
        blocked = exchange.unreachable(path)
        if blocked is not None:
            raise SystemExit(f"students cannot read {path}: {blocked} is closed to other users "
                             f"(mode {oct(os.stat(blocked).st_mode & 0o7777)}). Install the course, and build its "
                             "environment with a Python, where every user can read them (e.g. /opt/course with "
                             "/usr/bin/python3.11; not under a home directory), then run this again.")


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    return r


def ensure_group(name: str) -> None:
    try:
        grp.getgrnam(name)
    except KeyError:
        run("groupadd", name)


def ensure_user(name: str, full_name: str, group: str, home_base: Path | None, passwords: Path) -> bool:
    """Create the user (home 0700, in the class's group) unless it exists; a new user's initial password is
    appended to ``passwords`` (root only) before it is set. An existing user's password is left alone."""
    try:
        pwd.getpwnam(name)
        run("usermod", "-a", "-G", group, name)
        created = False
    except KeyError:
        run("useradd", "--create-home", "--shell", "/bin/bash", "--comment", full_name, "--groups", group,
            *(["--base-dir", str(home_base)] if home_base else []), name)
        password = secrets.token_urlsafe(12)
        with open(passwords, "a") as f:
            os.fchmod(f.fileno(), 0o600)
            f.write(f"{name},{password}\n")
        run("chpasswd", input=f"{name}:{password}\n")
        created = True
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)
    return created


def chown_tree(path: Path, user: str) -> None:
    run("chown", "-R", f"{user}:{pwd.getpwnam(user).pw_gid}", str(path))


def instructor_course(instructor: str, cid: str) -> Path:
    return Path(pwd.getpwnam(instructor).pw_dir) / cid


def setup_instructor_course(instructor: str, cid: str) -> Path:
    """The instructor's own copy of the project: the course directory nbgrader and the grader work in."""
    course = instructor_course(instructor, cid)
    if not course.exists():
        shutil.copytree(PROJECT, course, ignore=NOT_COPIED, symlinks=True)
        chown_tree(course, instructor)
    course.chmod(0o700)
    return course


def setup_student_chapters(student: str) -> Path:
    """The chapters in the student's home (``~/course``), the student's to run and edit; the helper package
    is read from the checkout (the hub puts it on PYTHONPATH)."""
    chapters = Path(pwd.getpwnam(student).pw_dir) / "course"
    if not chapters.exists():
        chapters.mkdir()
        for nb in sorted((PROJECT / "course").glob("*.ipynb")):
            shutil.copy(nb, chapters / nb.name)
        chown_tree(chapters, student)
    return chapters


def setup_exchange(root: Path, cid: str, instructor: str, group: str) -> None:
    for entry in exchange.course_layout(root, cid):
        entry.path.mkdir(parents=True, exist_ok=True)
        owner = pwd.getpwnam(instructor) if entry.owner == "instructor" else pwd.getpwuid(0)
        os.chown(entry.path, owner.pw_uid, grp.getgrnam(group).gr_gid if entry.owner == "instructor" else 0)
        entry.path.chmod(entry.mode)


def as_user(user: str, *cmd: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run a command as ``user`` (runuser), with the course's environment."""
    return run("runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in (env or {}).items()), *cmd, cwd=cwd)


def import_roster(course: Path, instructor: str, students: list[Student], environ: dict) -> None:
    """``nbgrader db student import`` as the instructor, so the formgrader shows real names."""
    roster = course / "autograder" / "roster.csv"
    roster.parent.mkdir(exist_ok=True)
    with roster.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "first_name", "last_name", "email"])
        w.writerows((s.id, s.first_name, s.last_name, s.email) for s in students)
    chown_tree(roster.parent, instructor)
    as_user(instructor, "nbgrader", "db", "student", "import", str(roster), cwd=course, env=environ)


def user_environment(settings: Settings, home: Path) -> dict:
    """The environment every user's server (and nbgrader run for a user) gets: the course's tools first,
    the helper package from the checkout, the Makefile's fixed numerics, the shared exchange."""
    return {"PATH": f"{settings.venv / 'bin'}:/usr/local/bin:/usr/bin:/bin", "HOME": str(home),
            "PYTHONPATH": str(PROJECT / "course"), exchange.ENV: str(settings.exchange),
            "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0",
            "CUDA_VISIBLE_DEVICES": "", "JUPYTER_PLATFORM_DIRS": "1"}


def setup(roster_text: str, settings: Settings, home_base: Path | None = None) -> dict:
    """Everything ``make hub-users`` does; returns what was created."""
    if os.geteuid() != 0:
        raise SystemExit("make hub-users creates Unix users: run it as root (sudo make hub-users ROSTER=...)")
    students = read_roster(roster_text)
    if settings.instructor in {s.id for s in students}:
        raise RosterError(f"the instructor {settings.instructor!r} is also on the roster")
    check_installation(settings)
    cid = course_id()
    settings.state.mkdir(parents=True, exist_ok=True)
    settings.state.chmod(0o700)
    ensure_group(settings.group)
    new_users = [name for name, full_name in [(settings.instructor, "Instructor"), *((s.id, s.full_name) for s in students)]
                 if ensure_user(name, full_name, settings.group, home_base, settings.state / PASSWORDS)]
    setup_exchange(settings.exchange, cid, settings.instructor, settings.group)
    course = setup_instructor_course(settings.instructor, cid)
    for s in students:
        setup_student_chapters(s.id)
    import_roster(course, settings.instructor, students,
                  user_environment(settings, Path(pwd.getpwnam(settings.instructor).pw_dir)))
    return {"course": course, "students": [s.id for s in students], "new_users": new_users}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hub.classroom", description=__doc__.split("\n\n")[0])
    ap.add_argument("--roster", required=True, type=Path, help="CSV with id,first_name,last_name,email")
    ap.add_argument("--home-base", type=Path, help="where new home directories go (useradd's default: /home)")
    args = ap.parse_args(argv)
    settings = Settings.from_env()
    try:
        done = setup(args.roster.read_text(encoding="utf-8"), settings, args.home_base)
    except RosterError as e:
        print(f"{args.roster}: {e}", file=sys.stderr)
        return 1
    print(f"Class set up: instructor {settings.instructor} (course directory {done['course']}, private), "
          f"{len(done['students'])} students in group {settings.group}, exchange {settings.exchange}.")
    if done["new_users"]:
        print(f"Initial passwords of the {len(done['new_users'])} new users: {settings.state / PASSWORDS}"
              " (root only; hand them out, then delete the file).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
