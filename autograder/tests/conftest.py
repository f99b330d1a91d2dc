"""Shared paths and notebook loaders for the course's tests."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
# The environment's tools first, as `make test` has them (nbgrader runs `alembic` by name).
os.environ["PATH"] = f"{VENV_BIN}:{os.environ.get('PATH', '')}"
CHAPTER_NAME = re.compile(r"^(\d{2})_[a-z0-9_]+\.ipynb$")

CHAPTERS = sorted(p for p in (ROOT / "course").glob("[0-9][0-9]_*.ipynb") if not p.name.startswith("00_"))
START_PAGE = ROOT / "course" / "00_start_here.ipynb"
SOURCES = sorted((ROOT / "source").glob("*/*.ipynb"))
RELEASES = sorted((ROOT / "release").glob("*/*.ipynb"))
ASSIGNMENTS = sorted(p.name for p in (ROOT / "source").iterdir() if p.is_dir() and not p.name.startswith("."))


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source_text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


def tool(name: str) -> str:
    """A command-line tool of the course's environment; under CI a missing one is an error, never a skip."""
    found = VENV_BIN / name if (VENV_BIN / name).exists() else shutil.which(name)
    if not found:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed, and CI must run every test")
        pytest.skip(f"{name} is not installed")
    return str(found)


def others_can_enter(path: Path) -> list[Path]:
    """The folders on the way to ``path`` that other users cannot enter (they need the x bit)."""
    return [p for p in [path, *path.parents] if p.is_dir() and not os.stat(p).st_mode & 0o001]


@contextlib.contextmanager
def unix_users(*names: str):
    """Real Unix users for a test, able to run this checkout's environment: created fresh (names may
    hold accents and apostrophes), removed with their homes and processes afterwards. The checkout's
    folders get the search bit for others while they exist (never read), as a class server needs."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI runs as root: real Unix users are part of the tests")
        pytest.skip("needs root to create Unix users")
    for name in ("useradd", "userdel", "runuser"):
        tool(name)
    closed = {p: os.stat(p).st_mode for p in others_can_enter(ROOT) + others_can_enter(VENV_BIN.resolve())}
    for p, mode in closed.items():
        os.chmod(p, mode | 0o001)
    try:
        for name in names:
            subprocess.run(["userdel", "-r", name], capture_output=True)
            subprocess.run(["useradd", "--badname", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
        yield
    finally:
        for name in names:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
            subprocess.run(["userdel", "-r", name], capture_output=True)
        for p, mode in closed.items():
            os.chmod(p, mode)


def user_command(user: str, *cmd: str, env: dict | None = None) -> list[str]:
    """``cmd`` run as ``user`` with a clean environment that has the course's tools on PATH."""
    import pwd

    home = pwd.getpwnam(user).pw_dir
    base = {"HOME": home, "USER": user, "LANG": "C.UTF-8", "PATH": f"{VENV_BIN}:/usr/bin:/bin",
            "PYTHONHASHSEED": "0", "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return ["runuser", "-u", user, "--", "env", "-i", *(f"{k}={v}" for k, v in base.items()), *cmd]


def nbgrader(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the environment's nbgrader from the project root."""
    return subprocess.run([tool("nbgrader"), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def lab_server(target: str = "lab", *args: str):
    """Start `make <target>` (lab or lab-instructor) on a free loopback port; yields (base URL,
    start path, token) once the server answers, and stops it afterwards."""
    port = free_port()
    proc = subprocess.Popen(["make", "--no-print-directory", target, f"PORT={port}", "NO_BROWSER=1", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        line = proc.stdout.readline()
        while line and "opens at" not in line:
            line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)(/\S+)\?token=(\w+)", line)
        assert match, f"make {target} printed no URL (exit {proc.wait()}): {proc.stdout.read()[-2000:]}"
        base, start, token = match.groups()
        log = []  # keep draining the server's output, or it blocks once the pipe is full
        threading.Thread(target=lambda: log.extend(proc.stdout), daemon=True).start()
        deadline = time.monotonic() + 120
        while True:
            try:
                req = urllib.request.Request(base + "/api/status", headers={"Authorization": f"token {token}"})
                with urllib.request.urlopen(req, timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError("the lab server did not come up:\n" + "".join(log[-30:])) from None
                time.sleep(0.5)
        yield base, start, token
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


ARTIFACTS = ROOT / "autograder" / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, driven by Playwright (its own browser download is never used)."""
    chromium = tool("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run make install")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()




@pytest.fixture
def shown(monkeypatch):
    """The figures a plotting helper shows (plt.show is replaced; the figures are closed afterwards)."""
    import matplotlib.pyplot as plt

    figures = []
    monkeypatch.setattr(plt, "show", lambda: figures.append(plt.gcf()))
    yield figures
    plt.close("all")
