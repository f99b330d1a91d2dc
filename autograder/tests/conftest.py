"""Shared paths and notebook loaders for the course's tests."""

from __future__ import annotations

import json
import os
import re
import shutil
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
