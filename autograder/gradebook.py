"""nbgrader's gradebook, written as ``nbgrader autograde`` writes it, by this grader alone.

For each graded submission: the student (names imported from a roster are kept), the submission with
its timestamp (so late penalties and the formgrader's "autograded" state work), the auto score of each
test cell, the late penalty from nbgrader's own plugin, and the automatic comments. Cells graded by
hand (written answers, manually graded code, tasks) are left to the formgrader: they count in the
maximum and are flagged ``needs_manual_grade``; a manual score or comment is never erased, by a
regrade or otherwise (as in nbgrader, a cell that has a manual score is flagged for review again).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from .outputs import venv_env

# Results recorded in grades.csv and results/ but never in the gradebook: a file nobody can be named the
# sender of, two senders under one id, and a student with no folder for the assignment (for nbgrader, no
# submission at all: the formgrader lists none and nbgrader export counts the assignment as not submitted).
NOT_RECORDED = ("unattributed", "duplicate_id", "not_submitted")


class Registration:
    """nbgrader itself recording the assignment's notebooks and cells in the gradebook (as `make release` does),
    in a process of its own: started before grading, so that it runs while the kernels do; ``wait`` joins it."""

    def __init__(self, assignment: str, root: Path, db_url: str):
        if db_url.startswith("sqlite:///"):
            Path(db_url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.assignment, self.tmp = assignment, tempfile.TemporaryDirectory()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nbgrader", "generate_assignment", assignment, "--force",
             f"--CourseDirectory.release_directory={self.tmp.name}", f"--CourseDirectory.db_url={db_url}",
             f"--CourseDirectory.root={root}", "--log-level=ERROR"],
            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=venv_env())

    def wait(self) -> None:
        try:
            _, err = self.process.communicate()
        finally:
            self.tmp.cleanup()
        if self.process.returncode:
            raise RuntimeError(f"nbgrader could not record {self.assignment} in the gradebook:\n{err[-2000:]}")


def _unanswered(cell: dict | None) -> bool:
    """nbgrader's rule: a solution cell whose checksum is the released one was not answered."""
    import nbformat
    from nbgrader import utils

    if cell is None:
        return True
    node = nbformat.from_dict(cell)
    meta = node.metadata.get("nbgrader", {})
    return "checksum" in meta and meta["checksum"] == utils.compute_checksum(node) and not meta.get("task")


def record(results: list[dict], template, db_url: str, course_id: str, config=None,
           registration: Registration | None = None) -> dict[str, dict]:
    """Write every result into the gradebook in one session, once nbgrader has recorded the assignment
    (``registration``, started earlier, or now); returns, per student, the totals nbgrader now holds:
    ``{"score", "max_score", "needs_manual_grade"}``."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties
    from nbgrader.utils import parse_utc
    from sqlalchemy.exc import SAWarning

    (registration or Registration(template.assignment, Path(template.root), db_url)).wait()
    penalties = AssignLatePenalties(config=config)
    penalties.init_plugin()
    notebook_id = Path(template.notebook).stem
    manual = template.manual_points
    totals = {}
    with warnings.catch_warnings(), Gradebook(db_url, course_id) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's own autoflush noise
        for result in results:
            if result["status"] in NOT_RECORDED:
                continue
            sid = result["student_id"]
            gb.update_or_create_student(sid)
            stamp = result.get("timestamp")
            submission = gb.update_or_create_submission(template.assignment, sid,
                                                        **({"timestamp": parse_utc(stamp.strip())} if stamp else {}))
            sub_nb = gb.find_submission_notebook(notebook_id, template.assignment, sid)
            auto = {c["grade_id"]: c["points"] for c in result.get("cells", [])}
            cells = {(c.get("metadata", {}).get("nbgrader") or {}).get("grade_id"): c
                     for c in (result.get("notebook") or {}).get("cells", [])}
            readable = bool(result.get("notebook"))
            for grade in sub_nb.grades:
                if grade.name in manual:
                    grade.auto_score = None if readable and not _unanswered(cells.get(grade.name)) else 0.0
                else:
                    grade.auto_score = auto.get(grade.name, 0.0)
                if not readable:  # nothing to grade by hand either (nbgrader: a missing notebook)
                    grade.needs_manual_grade = False
                else:
                    grade.needs_manual_grade = grade.manual_score is not None or grade.auto_score is None
            for comment in sub_nb.comments:
                cell = cells.get(comment.name)
                comment.auto_comment = "No response." if readable and cell is not None and _unanswered(cell) else None
            sub_nb.late_submission_penalty = None
            gb.db.commit()
            if submission.total_seconds_late > 0:
                penalty = penalties.plugin_inst.late_submission_penalty(sid, sub_nb.score, submission.total_seconds_late)
                if penalty is not None:
                    sub_nb.late_submission_penalty = min(max(penalty, 0), sub_nb.score)
                gb.db.commit()
            totals[sid] = {"score": round(submission.score, 4), "max_score": submission.max_score,
                           "needs_manual_grade": bool(submission.needs_manual_grade),
                           "late_penalty": submission.late_submission_penalty}
    return totals
