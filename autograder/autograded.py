"""The notebook nbgrader keeps of a graded submission (``autograded/<student>/<assignment>/``).

nbgrader's formgrader shows it to the instructor for manual grading, and ``nbgrader generate_feedback``
turns it into the page a student receives. So it holds what the student should see and nothing more:
the template's cells as released (visible tests only, never hidden test code or hidden expected
values), the student's answers, written answers and own cells, in the order they ran, each code cell
with the outputs it produced in the sandbox, and each test cell with the verdict of its checks.

Nothing a student's kernel printed may script the formgrader or a feedback page: outputs keep only
inert MIME types (plain text, PNG and JPEG images); HTML, JavaScript, SVG, Markdown and widget outputs
are dropped and replaced by a note. (Markdown a student writes is rendered by nbconvert, which the
course configures to sanitize: ``c.HTMLExporter.sanitize_html`` in ``nbgrader_config.py``.)
"""

from __future__ import annotations

import base64
import binascii
import copy

INERT = ("text/plain", "image/png", "image/jpeg")
NBFORMAT = {"nbformat": 4, "nbformat_minor": 5}


def clean_output(output: dict) -> dict | None:
    """One output as it may be shown to people, or None when nothing of it is safe."""
    kind = output.get("output_type")
    if kind == "stream":
        name = output.get("name") if output.get("name") in ("stdout", "stderr") else "stdout"
        return {"output_type": "stream", "name": name, "text": str(output.get("text", ""))}
    if kind == "error":
        tb = output.get("traceback")
        return {"output_type": "error", "ename": str(output.get("ename", "")), "evalue": str(output.get("evalue", "")),
                "traceback": [str(line) for line in tb] if isinstance(tb, list) else []}
    if kind in ("display_data", "execute_result"):
        data = output.get("data") if isinstance(output.get("data"), dict) else {}
        kept = {}
        for mime in INERT:
            value = data.get(mime)
            if isinstance(value, list):
                value = "".join(str(v) for v in value)
            if not isinstance(value, str):
                continue
            if mime != "text/plain":
                try:
                    base64.b64decode(value, validate=True)
                except (binascii.Error, ValueError):
                    continue
            kept[mime] = value
        dropped = sorted(set(data) - set(kept))
        if not kept:
            return {"output_type": "stream", "name": "stdout",
                    "text": f"[an output of type {', '.join(dropped)[:200]} is not shown]\n"}
        out = {"output_type": kind, "data": kept, "metadata": {}}
        if kind == "execute_result":
            count = output.get("execution_count")
            out["execution_count"] = count if isinstance(count, int) else None
        return out
    return None


def verdict_outputs(cell_report: dict) -> list[dict]:
    """What a test cell shows: each check's verdict (hidden ones by name only), and on failure
    an error output, as a failing test cell has under nbgrader."""
    checks = cell_report.get("checks", [])
    lines = [f"{'✓' if c['passed'] else '✗'} {'hidden check' if c['hidden'] else 'check'} «{c['name']}» "
             f"{'passed' if c['passed'] else 'failed'}" for c in checks]
    outputs = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}] if lines else []
    if not cell_report["passed"]:
        failed = sum(not c["passed"] for c in checks)
        outputs.append({"output_type": "error", "ename": "CheckFailed",
                        "evalue": f"{failed} of {len(checks)} checks failed" if checks else "the test did not pass",
                        "traceback": [m for m in cell_report.get("messages", [])]})
    return outputs


def notebook(template, assembly, cell_runs: list, report: list[dict]) -> dict:
    """The autograded notebook of one submission (an nbformat 4 dict)."""
    reports = {c["grade_id"]: c for c in report}
    cells = []
    for cell, index in zip(assembly.cells, assembly.runs):
        cell = copy.deepcopy(cell)
        if index is not None:
            gid = assembly.ids[index]
            run = cell_runs[index] if index < len(cell_runs) else None
            if gid in reports:
                cell["outputs"] = verdict_outputs(reports[gid])
            elif run is not None:
                cell["outputs"] = [o for o in map(clean_output, run.outputs) if o]
                if run.status == "timeout":
                    cell["outputs"].append({"output_type": "error", "ename": "Timeout",
                                            "evalue": "the cell ran past its time limit", "traceback": []})
        cells.append(cell)
    return {"cells": cells, "metadata": copy.deepcopy(template.metadata), **NBFORMAT}
