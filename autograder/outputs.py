"""What a grading run leaves behind: grades.csv, feedback pages, the class report, the gradebook.
Every file is written atomically (a temporary file, then a rename)."""

from __future__ import annotations

import csv
import html
import io
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

# The first eight columns are the grader's original ones; the rest were added after them.
COLUMNS = ["student_id", "assignment", "score", "max_score", "status", "reason", "flags", "seconds",
           "auto_score", "needs_manual_grade", "late_penalty", "timestamp", "submitted_as"]


def _umask() -> int:
    try:  # read, not set: setting it would race with other threads creating files
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    return 0o022


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write ``path`` whole or not at all, with the permissions a plain ``open()`` would give it
    (0666 less the umask): who may read it is decided by the folders above it and the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.fchmod(fd, 0o666 & ~_umask())
    with os.fdopen(fd, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def grades_csv(results: list[dict], path: Path) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, COLUMNS, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in results:
        w.writerow({**r, "flags": "; ".join(r.get("flags", [])), "seconds": r.get("seconds", ""),
                    "needs_manual_grade": {True: "yes", False: "no"}.get(r.get("needs_manual_grade"), "")})
    write_atomic(path, buf.getvalue())


STYLE = """body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem} .pass{color:#17663a} .fail{color:#a4161a} pre{background:#f4f4f4;padding:.6rem;
white-space:pre-wrap;overflow-x:auto} table{border-collapse:collapse} td,th{padding:.25rem .6rem;border-bottom:1px solid #ddd}"""


def feedback_html(result: dict) -> str:
    """One student's feedback. Everything from the submission is escaped text: no student HTML or
    script can run, and hidden tests appear only by name and verdict, never with their code."""
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(c['grade_id'])}</td><td class='{'pass' if c['passed'] else 'fail'}'>"
        f"{'passed' if c['passed'] else 'failed'}</td><td>{c['points']:g} / {c['max_points']:g}</td></tr>"
        for c in result.get("cells", []))
    details = "".join(
        f"<h3>{e(c['grade_id'])}</h3>" + "".join(f"<pre>{e(m)}</pre>" for m in c["messages"])
        for c in result.get("cells", []) if c["messages"])
    flags = "".join(f"<li>{e(f)}</li>" for f in result.get("flags", []))
    reason = f"<p><strong>Note:</strong> {e(result['reason'])}</p>" if result.get("reason") else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'>"
            f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; style-src 'unsafe-inline'\">"
            f"<title>Feedback: {e(result['assignment'])}</title><style>{STYLE}</style></head><body>"
            f"<h1>{e(result['assignment'])}: {result['score']:g} / {result['max_score']:g}</h1>"
            f"<p>Student: {e(result['student_id'])} · status: {e(result['status'])}</p>{reason}"
            + (f"<ul>{flags}</ul>" if flags else "")
            + (f"<table><tr><th>test</th><th>result</th><th>points</th></tr>{rows}</table>" if rows else "")
            + details + "</body></html>")


def class_report(results: list[dict], out: Path) -> str:
    """Per-question pass rates and a score histogram (PNG), and a short text summary."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    n = len(results)
    max_score = results[0]["max_score"] if results else 0
    scores = [r["score"] for r in results]
    questions: dict[str, list[bool]] = {}
    for r in results:
        for c in r.get("cells", []):
            questions.setdefault(c["grade_id"], []).append(c["passed"])
    # students whose notebook never ran failed every question
    for r in results:
        if not r.get("cells"):
            for q in questions:
                questions[q].append(False)
    rates = {q: sum(v) / n for q, v in questions.items()} if n else {}

    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.hist(scores, bins=min(20, max(5, int(max_score) + 1)), range=(0, max(max_score, 1)), color="#1F5FA8")
    ax.set(xlabel="score", ylabel="students", title=f"Scores ({n} students)")
    fig.tight_layout()
    fig.savefig(out / "score_histogram.png", dpi=100)
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(7, 0.35 * max(len(rates), 3) + 1))
    ax.barh(list(rates)[::-1], [100 * v for v in list(rates.values())[::-1]], color="#EE4C2C")
    ax.set(xlim=(0, 100), xlabel="% of students passing", title="Pass rate per test")
    fig.tight_layout()
    fig.savefig(out / "pass_rates.png", dpi=100)
    plt.close(fig)

    statuses = Counter(r["status"] for r in results)
    mean = sum(scores) / n if n else 0
    lines = [f"{results[0]['assignment'] if results else ''}: {n} submissions, mean {mean:.2f} / {max_score:g}, "
             f"median {sorted(scores)[n // 2] if n else 0:g}",
             "status: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())),
             "pass rate per test:"] + [f"  {q:<40} {100 * v:5.1f}%" for q, v in rates.items()]
    summary = "\n".join(lines) + "\n"
    write_atomic(out / "summary.txt", summary)
    write_atomic(out / "pass_rates.json", json.dumps(rates, indent=2))
    return summary


def venv_env() -> dict:
    """This environment's tools first on PATH (nbgrader runs `alembic` by name)."""
    return {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
