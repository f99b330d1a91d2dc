"""Unit tests of the pure grading core, without kernels or a sandbox: assembling a submission into
the trusted template (grade.assemble), keeping the reference (template.set_reference) and scoring
synthetic cell runs (grade.score_cells), on small assignments built in the test."""

from __future__ import annotations

import base64
import copy
from pathlib import Path

import numpy as np
import pytest

import probe
from autograder import grade, template
from autograder.kernel import CellRun, NotebookRun
from autograder.rules import InstructorError


def pack(value) -> dict:
    """A value as the prelude hands it back (test_core_handback checks the prelude itself)."""
    a = np.asarray(value)
    if a.dtype.kind == "U":
        return {"dtype": "str", "shape": list(a.shape), "items": [str(x) for x in a.ravel()]}
    return {"dtype": a.dtype.str, "shape": list(a.shape), "b64": base64.b64encode(a.tobytes()).decode()}


def check(name, *values) -> dict:
    return {"name": name, "values": [pack(v) for v in values]}


def load(tmp_path, nb=None) -> template.Template:
    return template.load(probe.ASSIGNMENT, probe.build_course_fast(tmp_path, nb), conventions=False)


def referenced(tpl, checks_by_test: dict[str, list[dict]]) -> template.Template:
    """``tpl`` with a reference run whose test cells handed back ``checks_by_test``."""
    run = NotebookRun([CellRun(checks=checks_by_test.get(c["grade_id"], [])) for c in tpl.cells])
    template.set_reference(tpl, run)
    return tpl


def student_runs(tpl, checks_by_test: dict[str, list[dict]], status: dict | None = None):
    ids = [c["grade_id"] for c in tpl.cells]
    return ids, [CellRun(checks=checks_by_test.get(g, []), **(status or {}).get(g, {})) for g in ids]


# --- assembling a submission ------------------------------------------------------------------------

@pytest.fixture
def probe_template(tmp_path):
    return load(tmp_path)


def released(tpl) -> dict:
    return probe.answered(Path(tpl.root))


def test_answers_are_spliced_into_the_trusted_template(probe_template):
    nb = released(probe_template)
    assembly = grade.assemble(probe_template, nb)
    codes, ids, flags = assembly.codes, assembly.ids, assembly.flags
    assert ids == [c["grade_id"] for c in probe_template.cells] and flags == []
    answer = next(c for c in nb["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "q1_double")["source"]
    assert codes[ids.index("q1_double")] == answer
    test = probe_template.tests["test_q1_double"]
    assert codes[ids.index("test_q1_double")] == test.code and "__sxs_handback__" in test.code
    assert "np.arange(5.0) * 2" not in test.code  # a hidden expected value never reaches the sandbox


def test_edited_read_only_cells_are_restored_and_flagged(probe_template):
    nb = released(probe_template)
    for c in nb["cells"]:
        if c["metadata"]["nbgrader"]["grade_id"] in ("setup", "test_q2_norm"):
            c["source"] = "pass"
    assembly = grade.assemble(probe_template, nb)
    codes, ids, flags = assembly.codes, assembly.ids, assembly.flags
    assert codes[ids.index("setup")].startswith("import sidebyside") and "pass" not in codes
    assert sorted(flags) == ["read-only cell setup was edited: the original was restored",
                             "read-only cell test_q2_norm was edited: the original was restored"]


def test_extra_cells_stay_where_the_student_put_them(probe_template):
    nb = released(probe_template)
    extra = {"cell_type": "code", "metadata": {}, "source": "helper = 1", "outputs": [], "execution_count": None}
    nb["cells"].insert(0, copy.deepcopy(extra) | {"source": "first = 0"})
    at = next(i for i, c in enumerate(nb["cells"]) if c["metadata"].get("nbgrader", {}).get("grade_id") == "q1_double")
    nb["cells"].insert(at + 1, extra)
    assembly = grade.assemble(probe_template, nb)
    codes, ids, _ = assembly.codes, assembly.ids, assembly.flags
    assert codes[0] == "first = 0" and ids[0] is None
    assert codes[ids.index("q1_double") + 1] == "helper = 1" and ids[ids.index("q1_double") + 1] is None


def test_missing_and_duplicated_answers_are_flagged(probe_template):
    nb = released(probe_template)
    cells = nb["cells"]
    q1 = next(i for i, c in enumerate(cells) if c["metadata"]["nbgrader"]["grade_id"] == "q1_double")
    first = copy.deepcopy(cells[q1]) | {"source": "def double(x):\n    return 0"}
    cells.insert(q1, first)
    nb["cells"] = [c for c in cells if c["metadata"]["nbgrader"]["grade_id"] != "q2_norm"]
    assembly = grade.assemble(probe_template, nb)
    codes, ids, flags = assembly.codes, assembly.ids, assembly.flags
    assert codes[ids.index("q1_double")] == "def double(x):\n    return 0"
    assert "answer cell q1_double appears twice: the first copy was graded" in flags
    assert "answer cell q2_norm is missing: graded as unanswered" in flags
    assert "raise NotImplementedError()" in codes[ids.index("q2_norm")]


# --- a tolerance means what its author wrote ---------------------------------------------------------

MEAN = probe.source_notebook(
    {"q1_mean": "def mean(x):\n    ### BEGIN SOLUTION\n    return float(np.mean(x))\n    ### END SOLUTION"},
    {"test_q1_mean": (2, 'sbs.assert_parity(mean(np.linspace(0.1, 0.8753, 9)), 0.5, name="mean", atol=0.05, rtol=0)')})


def test_a_students_value_is_compared_with_the_expected_value_not_the_references_actual(tmp_path):
    """The reference solution's mean is 0.4876; the author wrote 0.5 ± 0.05. A student's 0.54 is
    right and 0.44 is wrong: comparing with the reference's actual (the old rule) said the opposite."""
    from sidebyside import ParityError, assert_parity

    tpl = referenced(load(tmp_path, MEAN), {"test_q1_mean": [check("mean", 0.4876, 0.5)]})
    assert [float(v[0]) for v in tpl.reference["mean"]] == [0.5]
    for student, passes in ((0.54, True), (0.44, False)):
        ids, runs = student_runs(tpl, {"test_q1_mean": [check("mean", student)]})
        (cell,) = grade.score_cells(tpl, ids, runs)
        assert (cell["passed"], cell["points"]) == (passes, 2.0 if passes else 0.0), (student, cell["messages"])
        old_rule_passes = True
        try:
            assert_parity(student, 0.4876, atol=0.05, rtol=0)
        except ParityError:
            old_rule_passes = False
        assert old_rule_passes != passes  # the numbers show the old behaviour would differ


def test_the_reference_must_pass_its_own_checks(tmp_path):
    with pytest.raises(InstructorError, match="fails its own check"):
        referenced(load(tmp_path, MEAN), {"test_q1_mean": [check("mean", 0.6, 0.5)]})


def test_a_reference_that_hands_back_no_data_is_refused(tmp_path):
    tpl = load(tmp_path, MEAN)
    with pytest.raises(InstructorError, match="cell test_q1_mean: .*no comparable data"):
        referenced(tpl, {"test_q1_mean": [{"name": "mean", "values": [{"unsupported": "object"}, pack(0.5)]}]})
    with pytest.raises(InstructorError, match="never ran"):
        referenced(tpl, {})
    with pytest.raises(InstructorError, match="did not run"):
        template.set_reference(tpl, NotebookRun([], status="timeout", reason="slow"))


PARITY = probe.source_notebook(
    {"q1_pair": "def pt(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"},
    {"test_q1_pair_parity": (3, 'sbs.assert_parity(pt(1.0), tf(1.0), name="pair", between_frameworks=True, '
                                'atol=0.01, rtol=0)')})


@pytest.mark.parametrize("pytorch, tensorflow, passes, why", [
    (1.0, 1.0, True, ""),
    (1.004, 1.008, True, ""),
    (2.0, 2.0, False, "PyTorch side vs the reference"),             # equally wrong: agree, but not with the reference
    (0.995, 1.009, False, "PyTorch vs TensorFlow"),                 # each near the reference, not near each other
    (1.0, 1.03, False, "PyTorch vs TensorFlow"),
])
def test_between_frameworks_compares_the_two_sides_and_each_with_the_reference(tmp_path, pytorch, tensorflow, passes,
                                                                                why):
    tpl = referenced(load(tmp_path, PARITY), {"test_q1_pair_parity": [check("pair", 1.0, 1.005)]})
    assert [[float(x) for x in occ] for occ in tpl.reference["pair"]] == [[1.0, 1.005]]
    ids, runs = student_runs(tpl, {"test_q1_pair_parity": [check("pair", pytorch, tensorflow)]})
    (cell,) = grade.score_cells(tpl, ids, runs)
    assert cell["passed"] is passes, cell["messages"]
    if why:
        assert why in cell["messages"][0]


# --- scoring what came back ----------------------------------------------------------------------------

@pytest.fixture
def probe_reference(probe_template):
    return referenced(probe_template, {
        "test_q1_double": [check("q1 visible", [2, 4], [2, 4]), check("q1 hidden", np.arange(5.0) * 2, np.arange(5.0) * 2)],
        "test_q2_norm": [check("q2 visible", 5.0, 5.0), check("q2 hidden", 1.0, 1.0),
                         check("q2 hidden", np.sqrt(7), np.sqrt(7))],
        "test_q3_twins_parity": [check("q3 parity", [1, 3, 6], [1, 3, 6])]})


def correct_checks():
    return {"test_q1_double": [check("q1 visible", [2, 4]), check("q1 hidden", np.arange(5.0) * 2)],
            "test_q2_norm": [check("q2 visible", 5.0), check("q2 hidden", 1.0), check("q2 hidden", np.sqrt(7))],
            "test_q3_twins_parity": [check("q3 parity", [1, 3, 6], [1, 3, 6])]}


def test_a_correct_run_earns_every_point(probe_reference):
    cells = grade.score_cells(probe_reference, *student_runs(probe_reference, correct_checks()))
    assert [(c["grade_id"], c["points"], c["messages"]) for c in cells] == [
        ("test_q1_double", 1.0, []), ("test_q2_norm", 2.0, []), ("test_q3_twins_parity", 3.0, [])]


def test_wrong_missing_and_repeated_checks_fail_and_hidden_ones_say_little(probe_reference):
    handed = correct_checks()
    handed["test_q1_double"] = [check("q1 visible", [3, 6]), check("q1 hidden", np.arange(5.0) * 3)]
    handed["test_q2_norm"] = [check("q2 visible", 5.0), check("q2 hidden", 1.0)]          # one hidden run missing
    handed["test_q3_twins_parity"] = []                                                        # never ran
    q1, q2, q3 = grade.score_cells(probe_reference, *student_runs(probe_reference, handed))
    assert q1["points"] == 0 and q1["messages"][0].startswith("check «q1 visible» failed:\nq1 visible: no parity")
    assert q1["messages"][1] == "hidden check «q1 hidden» failed"  # no values of a hidden test
    assert q2["points"] == 0 and q2["messages"] == ["hidden check «q2 hidden» ran 1 times, expected 2"]
    assert q3["points"] == 0 and q3["messages"] == ["check «q3 parity» did not run"]


def test_malformed_hand_backs_fail_their_check_with_a_reason(probe_reference):
    handed = correct_checks()
    handed["test_q1_double"] = [{"name": "q1 visible", "values": [{"dtype": "garbage!!", "shape": [2], "b64": ""}]},
                                {"name": "q1 hidden", "values": "nope"}, "not a dict", {"name": 3}]
    handed["test_q2_norm"][0] = {"name": "q2 visible", "values": [{"dtype": "<f8", "shape": [float("nan")], "b64": ""}]}
    handed["test_q3_twins_parity"] = [{"name": "q3 parity", "values": [pack([1, 3, 6])]}]  # one side only
    q1, q2, q3 = grade.score_cells(probe_reference, *student_runs(probe_reference, handed))
    assert "bad dtype 'garbage!!'" in q1["messages"][0] and q1["messages"][1] == "hidden check «q1 hidden» failed"
    assert "bad shape" in q2["messages"][0]
    assert "1 values handed back, expected 2" in q3["messages"][0]
    assert q1["points"] == q2["points"] == q3["points"] == 0


def test_the_cell_status_is_reported(probe_reference):
    ids, runs = student_runs(probe_reference, correct_checks(), {
        "test_q1_double": {"status": "error", "error": "NameError: name 'double' is not defined"},
        "test_q2_norm": {"status": "timeout"}, "test_q3_twins_parity": {"status": "not_run"}})
    q1, q2, q3 = grade.score_cells(probe_reference, ids, runs)
    assert q1["messages"][0] == "the test cell raised NameError"  # a cell with hidden checks: no details
    assert q2["messages"][0] == "the test cell did not finish" and q3["messages"][0] == "the test cell did not run"
