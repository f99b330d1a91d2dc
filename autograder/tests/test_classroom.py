"""The pieces of a class server that need no root: where the exchange is, the permissions of its
directories, rosters, and whether other users can reach the installation (hub/exchange.py,
hub/classroom.py). The class itself, with real Unix users, is tested in test_hub.py."""

from __future__ import annotations

import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT))
from hub import classroom, exchange  # noqa: E402


def test_the_exchange_is_the_named_one_then_the_systems_then_a_per_user_one(tmp_path):
    system = tmp_path / "system"
    env = {"HOME": str(tmp_path / "home")}
    assert exchange.exchange_root(env, str(system)) == tmp_path / "home/.local/share/nbgrader/exchange"
    assert exchange.exchange_root({**env, "XDG_DATA_HOME": "/x"}, str(system)) == Path("/x/nbgrader/exchange")
    system.mkdir()
    assert exchange.exchange_root(env, str(system)) == system
    assert exchange.exchange_root({**env, "NBGRADER_EXCHANGE": "/srv/ex"}, str(system)) == Path("/srv/ex")


def test_the_default_system_exchange_is_nbgraders():
    from nbgrader.exchange.default.exchange import Exchange
    assert exchange.SYSTEM_EXCHANGE == Exchange.root.default_value


def test_without_root_a_laptop_gets_a_private_per_user_exchange_and_is_told_so(tmp_path, capsys):
    env = {"HOME": str(tmp_path)}
    assert exchange.main(env, system=str(tmp_path / "none"), is_root=False) == 0
    root = tmp_path / ".local/share/nbgrader/exchange"
    assert stat.S_IMODE(root.stat().st_mode) == 0o1777  # nbgrader's release insists on 0777
    assert stat.S_IMODE(root.parent.stat().st_mode) == 0o700  # ... so only its owner may enter the folder above
    out = capsys.readouterr().out
    assert str(root) in out and "per-user" in out and "Running a class on one server" in out
    assert not (tmp_path / "none").exists()


def test_an_existing_or_named_exchange_is_used_as_it_is(tmp_path, capsys):
    named = tmp_path / "named"
    assert exchange.main({"NBGRADER_EXCHANGE": str(named)}, system=str(tmp_path / "none"), is_root=True) == 0
    assert stat.S_IMODE(named.stat().st_mode) == 0o1777 and "created" in capsys.readouterr().out
    assert exchange.main({"NBGRADER_EXCHANGE": str(named)}, system=str(tmp_path / "none"), is_root=False) == 0
    assert capsys.readouterr().out.strip() == f"nbgrader's exchange: {named}"


def test_the_course_layout_lets_the_class_in_and_nobody_else():
    modes = {e.path.name: (e.mode, e.owner) for e in exchange.course_layout(Path("/ex"), "c")}
    assert modes == {"ex": (0o1777, "root"), "c": (0o2750, "instructor"), "outbound": (0o755, "instructor"),
                     "inbound": (0o3733, "instructor"), "feedback": (0o711, "instructor")}
    inbound = modes["inbound"][0]
    assert not inbound & stat.S_IROTH and inbound & stat.S_IWOTH and inbound & stat.S_ISVTX  # add, not list or delete
    assert not modes["c"][0] & 0o007  # outside the class's group: nothing


@pytest.fixture
def open_dir():
    """A folder every user can enter (pytest's tmp_path lies in a folder only its owner may enter)."""
    path = Path(tempfile.mkdtemp(prefix="sbs-open-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


def test_unreachable_names_the_closed_directory_even_behind_a_symlink(open_dir):
    closed = open_dir / "home"
    (closed / "py").mkdir(parents=True)
    python = closed / "py" / "python"
    python.write_text("")
    python.chmod(0o755)
    closed.chmod(0o700)
    link = open_dir / "venv-python"
    link.symlink_to(python)
    readable, secret = open_dir / "open.py", open_dir / "secret"
    for f, mode in ((readable, 0o644), (secret, 0o600)):
        f.write_text("")
        f.chmod(mode)
    assert exchange.unreachable(link) == closed
    assert exchange.unreachable(readable) is None
    assert exchange.unreachable(secret) == secret
    closed.chmod(0o755)
    assert exchange.unreachable(link) is None


def test_a_roster_becomes_students():
    students = classroom.read_roster("id,first_name,last_name,email\nann,Ann,Lee,ann@x.org\nbob-2,,,\n")
    assert students == [classroom.Student("ann", "Ann", "Lee", "ann@x.org"), classroom.Student("bob-2")]
    assert students[0].full_name == "Ann Lee" and students[1].full_name == ""


def test_every_problem_of_a_roster_is_reported_with_its_line():
    with pytest.raises(classroom.RosterError) as e:
        classroom.read_roster("id,first_name\nann,A\nAnn Lee,B\nann,C\nx+y,D\n,E\n")
    message = str(e.value)
    for expected in ("line 3: id 'Ann Lee'", "line 4: id 'ann' appears twice", "line 5: id 'x+y'", "line 6: id ''"):
        assert expected in message, message
    with pytest.raises(classroom.RosterError, match="'id' column"):
        classroom.read_roster("name,email\nann,a@x\n")


def test_the_course_id_has_one_home():
    nbgrader = subprocess.run([str(ROOT / ".venv/bin/python"), "-c",
                               "from nbgrader.apps.baseapp import NbGrader; a = NbGrader(); a.load_config_file();"
                               "print(a.config.CourseDirectory.course_id)"],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert nbgrader.stdout.strip() == classroom.course_id() == "tf-torch-side-by-side", nbgrader.stderr


def test_settings_come_from_the_environment_with_defaults():
    s = classroom.Settings.from_env({})
    assert (s.instructor, s.group, s.exchange, s.state, s.venv) == (
        "instructor", "sbs-class", Path(exchange.SYSTEM_EXCHANGE), Path("/srv/jupyterhub"), ROOT / ".venv")
    s = classroom.Settings.from_env({"COURSE_INSTRUCTOR": "ada", "NBGRADER_EXCHANGE": "/srv/ex", "COURSE_VENV": "/opt/v"})
    assert (s.instructor, s.exchange, s.venv) == ("ada", Path("/srv/ex"), Path("/opt/v"))


def test_the_instructors_copy_leaves_out_the_environment_and_run_time_state():
    ignored = classroom.NOT_COPIED(str(ROOT / "autograder"), ["gradebook.db", "submitted", "grade.py", "tests"])
    assert ignored == {"gradebook.db", "submitted"}
    assert classroom.NOT_COPIED(str(ROOT), [".venv", ".git", "course", "source", "Makefile"]) == {".venv", ".git"}
