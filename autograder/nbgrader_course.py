"""The course as nbgrader sees it: its ``nbgrader_config.py``, folders and gradebook URL.

The grader reads the same configuration file as nbgrader's own apps, so that it writes where
``nbgrader autograde`` would: ``autograded/<student>/<assignment>/`` under the course's autograded
directory, scores into the course's gradebook, timestamps from ``submitted/.../timestamp.txt``.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config


def load_config(root: Path) -> Config:
    """The course's ``nbgrader_config.py`` (an empty configuration when it has none)."""
    from traitlets.config.loader import PyFileConfigLoader

    if not (Path(root) / "nbgrader_config.py").is_file():
        return Config()
    return PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()


def course_directory(root: Path, config: Config | None = None):
    """nbgrader's CourseDirectory for the course at ``root``."""
    from nbgrader.coursedir import CourseDirectory

    coursedir = CourseDirectory(config=config if config is not None else load_config(root))
    coursedir.root = str(Path(root).resolve())
    return coursedir


def assignment_folder(coursedir, step: str, student_id: str, assignment: str) -> Path:
    """``<step>/<student>/<assignment>`` with nbgrader's own path rules (step: a directory trait's value)."""
    return Path(coursedir.format_path(step, student_id, assignment))
