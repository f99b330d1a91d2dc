"""`make lab` starts a real JupyterLab server on loopback that serves the course, with nbgrader's
extensions; a busy port or a missing Python 3.11 gets a clear message instead of a traceback."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import CHAPTERS, RELEASES, ROOT, lab_server


def get(url: str, token: str, method="GET", data: bytes | None = None, timeout=120):
    req = urllib.request.Request(url, data=data, method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status, r.read().decode()


@pytest.fixture(scope="module")
def lab():
    with lab_server("lab") as server:
        yield server


def test_lab_serves_the_start_page(lab):
    base, start, token = lab
    assert start == "/lab/tree/course/00_start_here.ipynb"
    status, html = get(base + start, token)
    assert status == 200 and "<title>JupyterLab</title>" in html


def test_lab_lists_every_course_notebook(lab):
    base, _, token = lab
    names = {item["name"] for item in json.loads(get(base + "/api/contents/course", token)[1])["content"]}
    assert {"00_start_here.ipynb", *(p.name for p in CHAPTERS)} <= names
    opened = json.loads(get(base + "/api/contents/course/00_start_here.ipynb", token)[1])
    assert opened["type"] == "notebook" and opened["content"]["cells"]


def test_the_file_browser_shows_the_course_not_install_artefacts(lab):
    base, _, token = lab
    artefact = ROOT / "course" / "sidebyside.egg-info"  # what `pip install -e .` leaves beside the chapters
    made = not artefact.exists()
    artefact.mkdir(exist_ok=True)
    try:
        names = {item["name"] for item in json.loads(get(base + "/api/contents/course", token)[1])["content"]}
    finally:
        if made:
            artefact.rmdir()
    assert "00_start_here.ipynb" in names and "sidebyside" in names
    assert not any(n.endswith(".egg-info") or n == "__pycache__" for n in names), names


def test_lab_has_nbgraders_extensions(lab):
    base, _, token = lab
    extensions = json.loads(get(base + "/lab/api/extensions", token)[1])
    nbgrader = [e for e in extensions if e["name"] == "jupyter-nbgrader"]
    assert nbgrader and nbgrader[0]["enabled"], extensions
    assert json.loads(get(base + "/nbgrader_version?version=0.9.6", token)[1]) == {"success": True}


def test_students_do_not_get_the_instructors_tools(lab):
    base, start, token = lab
    html = get(base + start, token)[1]
    for plugin in ("formgrader", "create-assignment", "course-list"):
        assert f'"@jupyter/nbgrader:{plugin}"' in html  # listed under disabledExtensions in the page config
    with pytest.raises(urllib.error.HTTPError) as e:
        get(base + "/formgrader", token)
    assert e.value.code == 404


def test_validate_button_backend_reports_a_release_notebooks_failures(lab):
    base, _, token = lab
    release = RELEASES[0].relative_to(ROOT)
    body = urllib.parse.urlencode({"path": str(release)}).encode()
    status, text = get(base + "/assignments/validate", token, method="POST", data=body, timeout=300)
    result = json.loads(text)
    assert status == 200 and result["success"] is True, result
    assert result["value"]["failed"], f"an unanswered notebook must fail validation: {result['value']}"


def test_busy_port_gets_a_clear_message():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run(["make", "--no-print-directory", "lab", f"PORT={port}", "NO_BROWSER=1"], cwd=ROOT,
                           capture_output=True, text=True, timeout=60)
    assert r.returncode != 0
    assert f"port {port} on 127.0.0.1 is busy" in r.stderr and "make lab PORT=" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr


@pytest.fixture
def bare_checkout(tmp_path):
    for name in ("Makefile", "environment.yml", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_missing_python_gets_a_clear_message(bare_checkout):
    r = subprocess.run(["make", "--no-print-directory", "lab", "PYTHON="], cwd=bare_checkout,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "needs Python 3.11" in r.stderr and "Traceback" not in r.stderr
    assert not (bare_checkout / ".venv").exists()


def test_wrong_python_gets_a_clear_message(bare_checkout):
    fake = bare_checkout / "python3.9"
    fake.write_text("#!/bin/sh\ncase \"$*\" in *platform*) echo 3.9.18;; esac\nexit 1\n")
    fake.chmod(0o755)
    r = subprocess.run(["make", "--no-print-directory", "install", f"PYTHON={fake}"], cwd=bare_checkout,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and "is Python 3.9.18, the course needs 3.11" in r.stderr
