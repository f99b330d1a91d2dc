"""The notebook nbgrader keeps of a graded submission (autograded.py), without kernels: what the
formgrader and feedback show is the student's work and the verdicts, never hidden tests, and nothing a
kernel printed can script a page."""

from __future__ import annotations

import base64

import probe
from autograder import autograded, grade, template
from autograder.kernel import CellRun

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def test_only_inert_outputs_are_kept():
    html = {"output_type": "display_data", "data": {"text/html": "<script>x()</script>", "text/plain": "<obj>"}}
    assert autograded.clean_output(html)["data"] == {"text/plain": "<obj>"}
    js = autograded.clean_output({"output_type": "display_data", "data": {"application/javascript": "x()"}})
    assert js["output_type"] == "stream" and "not shown" in js["text"] and "x()" not in js["text"]
    svg = autograded.clean_output({"output_type": "execute_result", "execution_count": 3,
                                   "data": {"image/svg+xml": "<svg onload=x()>", "image/png": PNG}})
    assert svg["data"] == {"image/png": PNG} and svg["execution_count"] == 3
    bad_png = autograded.clean_output({"output_type": "display_data", "data": {"image/png": "not base64!"}})
    assert "image/png" in bad_png["text"]
    assert autograded.clean_output({"output_type": "update_display_data", "data": {}}) is None
    stream = autograded.clean_output({"output_type": "stream", "name": "evil", "text": "hi"})
    assert stream == {"output_type": "stream", "name": "stdout", "text": "hi"}


def test_the_autograded_notebook_holds_the_students_work_and_verdicts_never_hidden_tests(tmp_path):
    root = probe.build_course_fast(tmp_path, probe.source_notebook(written=True))
    tpl = template.load(probe.ASSIGNMENT, root, conventions=False)
    nb = probe.answered(root, {probe.WRITTEN: "Because *both* agree."})
    nb["cells"].insert(3, {"cell_type": "markdown", "metadata": {}, "source": "my own note"})
    nb["cells"].insert(4, {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "forged"}}, "outputs": [],
                           "execution_count": None, "source": "print('extra')"})
    assembly = grade.assemble(tpl, nb)
    runs = [CellRun(outputs=[{"output_type": "stream", "name": "stdout", "text": f"ran {i}\n"},
                             {"output_type": "display_data", "data": {"text/html": "<b>x</b>"}}])
            for i in range(len(assembly.codes))]
    report = [{"grade_id": gid, "passed": gid != "test_q1_double", "points": 0, "max_points": 1,
               "messages": ["hidden check «q1 hidden» failed"] if gid == "test_q1_double" else [],
               "checks": [{"name": "q1 visible", "hidden": False, "passed": True},
                          {"name": "q1 hidden", "hidden": True, "passed": gid != "test_q1_double"}]}
              for gid in tpl.tests]
    out = autograded.notebook(tpl, assembly, runs, report)
    by_id = {c["metadata"].get("nbgrader", {}).get("grade_id"): c for c in out["cells"]}
    text = str(out)
    assert "np.arange(5.0) * 2" not in text and "BEGIN HIDDEN" not in text  # release test cells only
    assert by_id[probe.WRITTEN]["source"] == "Because *both* agree."
    assert by_id["q1_double"]["source"] == probe.solution("q1_double")
    q1 = by_id["test_q1_double"]["outputs"]
    assert "✓ check «q1 visible» passed" in q1[0]["text"] and "✗ hidden check «q1 hidden» failed" in q1[0]["text"]
    assert q1[-1]["output_type"] == "error"  # as a failing test cell has under nbgrader
    assert all(o["output_type"] != "error" for o in by_id["test_q2_norm"]["outputs"])
    sources = [c["source"] for c in out["cells"]]
    assert sources.index("my own note") < sources.index("print('extra')") < sources.index(
        by_id["test_q1_double"]["source"]), "the student's own cells stay where they were, in the order they ran"
    extra = out["cells"][sources.index("print('extra')")]
    assert extra["metadata"] == {} and "<b>x</b>" not in str(extra["outputs"])
    assert out["nbformat"] == 4 and out["metadata"] == tpl.metadata
