"""The grader against hostile and broken submissions, run for real: bubblewrap sandbox, real
kernels, real nbgrader gradebook. One batch grades every case below; each test checks one
expected outcome. Categories: tampering, crashes, resource abuse, isolation and exfiltration,
broken formats, correct-but-noisy work (batch, regrade and cluster semantics: other modules)."""

from __future__ import annotations

import copy
import fcntl
import json
import resource
import subprocess

import pytest

import probe
from autograder import batch, config, handback, kernel, sandbox
from conftest import ROOT, tool

# The probe needs NumPy only: a 1 GiB memory cap makes the memory bomb quick.
SETTINGS = config.Autograder(cell_timeout=8, notebook_timeout=60, memory_bytes=2**30, course_conventions=False)
GOOD = {k: v.replace("    ### BEGIN SOLUTION\n", "").replace("\n    ### END SOLUTION", "") for k, v in probe.SOLUTIONS.items()}
WRONG = {"q1_double": "def double(x):\n    return 3 * np.asarray(x)",
         "q2_norm": "def norm(v):\n    return 0.0",
         "q3_twins": "def twin_a(x):\n    return np.zeros(len(x))\ndef twin_b(x):\n    return np.ones(len(x))"}


def with_(extra: str, where: str = "q1_double", base=GOOD) -> dict:
    return {**base, where: base[where] + "\n" + extra}


CASES: dict[str, dict] = {
    # --- honest work -------------------------------------------------------------------------
    "correct": dict(answers=GOOD, score=6, status="graded"),
    "blank": dict(release=True, score=0, status="graded"),
    "partial": dict(answers={**GOOD, "q1_double": WRONG["q1_double"]}, score=5, status="graded"),
    # --- tampering: the checker, the test cells, the hand-back ---------------------------------
    "patch_checkers": dict(answers=with_(
        "import numpy.testing, sidebyside, sidebyside.parity\n"
        "np.testing.assert_allclose = lambda *a, **k: None\nnp.allclose = lambda *a, **k: True\n"
        "sidebyside.assert_parity = sidebyside.parity.assert_parity = lambda *a, **k: None\nsbs = sidebyside",
        base=WRONG), score=0, status="graded"),
    "input_transformer": dict(answers=with_(
        "get_ipython().input_transformers_cleanup.append(lambda lines: ['pass\\n'])"), score=0, status="graded"),
    "ast_transformer": dict(answers=with_(
        "import ast\nclass Gut(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
        "        return ast.Module(body=[ast.Pass()], type_ignores=[])\n"
        "get_ipython().ast_transformers.append(Gut())"), score=0, status="graded"),
    "forged_handback": dict(answers=with_(
        "from IPython.display import publish_display_data\n"
        "M = 'application/vnd.sidebyside.check+json'\n"
        "def __sxs_handback__(name, *values):\n"
        "    publish_display_data({M: {'name': name, 'values': [{'dtype': '<i8', 'shape': [2], "
        "'b64': 'AgAAAAAAAAAEAAAAAAAAAA=='}]}})\n", base=WRONG), score=0, status="graded"),
    "checks_from_answer_cell": dict(answers=with_(
        "from IPython.display import publish_display_data\n"
        "publish_display_data({'application/vnd.sidebyside.check+json': {'name': 'q2 visible', 'values': "
        "[{'dtype': '<f8', 'shape': [], 'b64': 'AAAAAAAAFEA='}]}})", where="q2_norm", base=WRONG), score=0),
    "always_equal": dict(answers={**GOOD, "q1_double": (
        "class Eq:\n    def __eq__(self, other):\n        return True\n    __array_priority__ = 1000\n"
        "def double(x):\n    return Eq()")}, score=5, status="graded"),
    "ndarray_subclass": dict(answers={**GOOD, "q1_double": (
        "class Liar(np.ndarray):\n    def __eq__(self, other):\n        return np.ones(self.shape, bool)\n"
        "def double(x):\n    return np.zeros(np.shape(x)).view(Liar)")}, score=5, status="graded"),
    "edited_test_cell": dict(answers=WRONG, edit_tests="pass", score=0, status="graded",
                             flag="read-only cell test_q1_double was edited"),
    "deleted_test_cells": dict(answers=GOOD, delete_tests=True, score=6, status="graded"),
    "schema_bump": dict(answers=GOOD, schema=99, score=6, status="graded"),
    "duplicate_answer": dict(answers=GOOD, duplicate_first={"q1_double": WRONG["q1_double"]}, score=5,
                             flag="answer cell q1_double appears twice"),
    "duplicate_test_cell": dict(answers=GOOD, duplicate_test=True, score=6, status="graded"),
    "stripped_metadata": dict(answers=GOOD, strip_metadata=True, score=0, status="graded",
                              flag="answer cell q1_double is missing"),
    # --- crashes and resource abuse -------------------------------------------------------------
    "sys_exit": dict(answers=with_("raise SystemExit(0)", where="q3_twins"), score=6, status="graded"),
    "os_exit": dict(answers=with_("import os\nos._exit(1)", where="q2_norm"), score=1, status="kernel_died",
                    reason="the kernel died in cell"),
    "segfault": dict(answers=with_("import ctypes\nctypes.string_at(0)", where="q2_norm"), score=1,
                     status="kernel_died"),
    "infinite_loop": dict(answers=with_("while True:\n    pass", where="q2_norm"), score=1, status="timeout",
                          reason="ran past its 8 s limit"),
    "sigint_ignored": dict(answers=with_("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                         "while True:\n    pass", where="q2_norm"), score=1, status="timeout"),
    "memory_bomb": dict(answers=with_("try:\n    hog = [bytearray(256 * 2**20) for _ in range(64)]\n"
                                      "except MemoryError:\n    print('MemoryError')"), score=6, status="graded",
                        output="MemoryError"),
    "fork_bomb": dict(answers=with_(
        "import os, time\nforked = 0\nfor _ in range(3000):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    forked += 1\nprint('forks refused' if forked < 3000 else 'all forks made')"),
        score=6, status="graded", output="forks refused"),
    "daemon": dict(answers=with_("import subprocess\nsubprocess.Popen(['sleep', '600'], start_new_session=True)"),
                   score=6, status="graded"),
    "kill_parent": dict(answers=with_("import os, signal\nfor pid in (os.getppid(), 1):\n    try:\n"
                                      "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass"),
                        score=6, status="graded"),
    "giant_line": dict(answers=with_("print('x' * 50_000_000)"), status="output_flood",
                       reason="over 8 MiB"),
    # an oversized execute_reply on the shell channel: refused by the cap, a recorded status
    "huge_next_input": dict(answers=with_("get_ipython().set_next_input('x' * 50_000_000)"), score=0,
                            status="output_flood", reason="reply to cell"),
    "huge_reply_payload": dict(answers=with_(
        "get_ipython().payload_manager.write_payload({'source': 'page', 'data': {'text/plain': 'y' * 30_000_000}})",
        where="q2_norm"), score=1, status="output_flood", reason="reply to cell"),
    # malformed hand-backs: each check fails with a reason, never a grader_error
    "malformed_handback": dict(answers=with_(
        "from IPython.display import publish_display_data\n"
        "BAD = [[{'dtype': '<f8', 'shape': [2**40, 2**40], 'b64': 'AA=='}], [{'dtype': 'garbage!!', 'shape': [2], 'b64': ''}],\n"
        "       'not a list', [{'dtype': '<f8', 'shape': [float('nan')], 'b64': ''}], [7],\n"
        "       [{'dtype': 'O', 'shape': [], 'b64': ''}], [{'dtype': '<i8', 'shape': [3], 'b64': 'AgAAAAAAAAA='}]]\n"
        "calls = []\n"
        "def __sxs_handback__(name, *values):\n"
        "    calls.append(name)\n"
        "    publish_display_data({'" + handback.MIME + "': {'name': name, 'values': BAD[len(calls) % len(BAD)]}})\n"),
        score=0, status="graded"),
    "many_lines": dict(answers=with_("for i in range(300_000):\n    print(i)"), score=6, status="graded",
                       output="[output truncated by the grader]"),
    # --- isolation and exfiltration -------------------------------------------------------------
    "read_secrets": dict(answers=with_(
        "import glob, os\nfor p in ['" + str(ROOT / "source") + "', '" + str(ROOT / "autograder") + "', "
        "'" + str(ROOT / "nbgrader_config.py") + "', '/etc/shadow', '/root/.bashrc']:\n"
        "    print(p, 'VISIBLE' if os.path.exists(p) else 'absent')\n"
        "print('peers', glob.glob('/tmp/grade-*'), os.listdir('/home'))"), score=6, status="graded",
        output_absent="VISIBLE"),
    "network": dict(answers=with_(
        "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), timeout=3)\n    print('NETWORK OPEN')\n"
        "except OSError as e:\n    print('no network:', e.strerror)"), score=6, status="graded",
        output="no network: Network is unreachable"),
    "write_outside": dict(answers=with_(
        "for p in ['" + str(ROOT / "pwned") + "', '/usr/pwned', '/home/pwned']:\n    try:\n"
        "        open(p, 'w').write('x')\n        print('WROTE', p)\n    except OSError as e:\n"
        "        print('refused', p)"), score=6, status="graded", output_absent="WROTE"),
    "uid": dict(answers=with_("import os\nprint('uid', os.getuid())"), score=6, output="uid 6"),
    # --- correct but noisy ----------------------------------------------------------------------
    "stderr_noise": dict(answers={k: "import os, sys, warnings\n" + v.replace(
        "):\n", "):\n    warnings.warn('noisy'); print('E0000 tensorflow/core/x.cc] log', file=sys.stderr); "
        "os.write(2, b'fd-level noise\\n')\n", 1) for k, v in GOOD.items()}, score=6, status="graded"),
    "xss": dict(answers=with_("from IPython.display import HTML, display\n"
                              "display(HTML('<script>alert(1)</script>'))\nprint('<script>alert(2)</script>')"),
                score=6, status="graded"),
    # --- broken formats --------------------------------------------------------------------------
    "corrupt_json": dict(raw=b'{"cells": [', score=0, status="unreadable", reason="not valid JSON"),
    "not_utf8": dict(raw=b'{"cells": []}\xff\xfe', score=0, status="unreadable", reason="not UTF-8"),
    "not_a_notebook": dict(raw=b'[1, 2, 3]', score=0, status="unreadable", reason="not a Jupyter notebook"),
    "oversized": dict(raw=b" " * (21 * 2**20), score=0, status="too_large", reason="over the 20 MiB limit"),
    "misnamed": dict(answers=GOOD, filename="my_homework.ipynb", score=6, status="graded", flag="was named"),
    "two_notebooks": dict(answers=GOOD, filename="a.ipynb", second="b.ipynb", score=0, status="ambiguous"),
    "missing": dict(nothing=True, score=0, status="missing"),
    "symlink": dict(symlink="/etc/passwd", score=0, status="unreadable", reason="link"),
}


def build(root, subs):
    for student, case in CASES.items():
        folder = subs / student / probe.ASSIGNMENT
        folder.mkdir(parents=True)
        if case.get("nothing"):
            continue
        if "symlink" in case:
            (folder / probe.NOTEBOOK).symlink_to(case["symlink"])
            continue
        if "raw" in case:
            (folder / probe.NOTEBOOK).write_bytes(case["raw"])
            continue
        nb = probe.release(root) if case.get("release") else probe.answered(root, case["answers"], correct=False)
        cells = nb["cells"]

        def gid(c):
            return c.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if "edit_tests" in case:
            for c in cells:
                if gid(c).startswith("test_"):
                    c["source"] = case["edit_tests"]
        if case.get("delete_tests"):
            nb["cells"] = cells = [c for c in cells if not gid(c).startswith("test_")]
        if "schema" in case:
            for c in cells:
                if "nbgrader" in c.get("metadata", {}):
                    c["metadata"]["nbgrader"]["schema_version"] = case["schema"]
        if "duplicate_first" in case:
            for i, c in enumerate(cells):
                if gid(c) in case["duplicate_first"]:
                    first = copy.deepcopy(c)
                    first["source"] = case["duplicate_first"][gid(c)]
                    first["id"] = "dup0"
                    cells.insert(i, first)
                    break
        if case.get("duplicate_test"):
            test = next(c for c in cells if gid(c).startswith("test_"))
            cells.append({**copy.deepcopy(test), "id": "dup1"})
        if case.get("strip_metadata"):
            for c in cells:
                c.get("metadata", {}).pop("nbgrader", None)
        probe.submit(subs, student, nb, case.get("filename", probe.NOTEBOOK))
        if "second" in case:
            probe.submit(subs, student, nb, case["second"])


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tool("bwrap")
    root = probe.build_course(tmp_path_factory.mktemp("course"))
    subs = root / "submitted"
    build(root, subs)
    results = batch.grade_assignment(probe.ASSIGNMENT, subs, root / "out", workers=2, root=root, settings=SETTINGS,
                                     quiet=True)
    return root, {r["student_id"]: r for r in results}


def outputs_text(result: dict) -> str:
    """What the student's own cells printed, as the autograded notebook keeps it."""
    cells = (result.get("notebook") or {}).get("cells", [])
    return json.dumps([c["outputs"] for c in cells
                       if c["cell_type"] == "code" and not c["metadata"].get("nbgrader", {}).get("grade")])


@pytest.mark.parametrize("student", sorted(CASES))
def test_expected_outcome(graded, student):
    _, results = graded
    case, r = CASES[student], results[student]
    where = f"{student}: {r['status']} {r['score']}/{r['max_score']} reason={r['reason']!r} flags={r['flags']}"
    if "score" in case:
        assert r["score"] == case["score"], where
    if "status" in case:
        assert r["status"] == case["status"], where
    if "status_in" in case:
        assert r["status"] in case["status_in"], where
    assert r["max_score"] == 6
    if "reason" in case:
        assert case["reason"] in r["reason"], where
    if r["status"] not in ("graded",):
        assert r["reason"], f"every non-graded result says why: {where}"
    if "flag" in case:
        assert any(case["flag"] in f for f in r["flags"]), where
    if "output" in case:
        assert case["output"] in outputs_text(r), outputs_text(r)[:2000]
    if "output_absent" in case:
        assert case["output_absent"] not in outputs_text(r), outputs_text(r)[:2000]


def test_every_student_has_exactly_one_row(graded):
    root, results = graded
    lines = (root / "out" / "grades.csv").read_text().splitlines()
    assert lines[0].startswith("student_id,assignment,score,max_score,status,reason")
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(CASES)


def unleased(uid: int) -> bool:
    """True when no running sandbox holds this uid (graders in other test workers may)."""
    try:
        with open(sandbox.LEASES / str(uid), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
    except BlockingIOError:
        return False


def test_nothing_escaped_the_sandbox(graded):
    assert not (ROOT / "pwned").exists()
    ps = subprocess.run(["ps", "-eo", "uid=,args="], capture_output=True, text=True).stdout.splitlines()
    sandboxed = [line for line in ps if int(line.split()[0]) in sandbox.SANDBOX_UIDS]
    leftovers = [line for line in sandboxed if unleased(int(line.split()[0]))]
    assert not leftovers, f"sandboxed processes outlived grading: {leftovers[:5]}"


def test_results_stay_small_whatever_was_printed(graded):
    root, _ = graded
    for path in (root / "out" / "results").glob("*.json"):
        assert path.stat().st_size < 3_000_000, path.name


def test_feedback_is_sanitized_and_hides_hidden_tests(graded):
    root, _ = graded
    for student in CASES:
        page = (root / "out" / "feedback" / student / f"{probe.ASSIGNMENT}.html").read_text()
        assert "<script" not in page and "np.arange(5.0) * 2" not in page and "np.ones(n)" not in page
    partial = (root / "out" / "feedback" / "partial" / f"{probe.ASSIGNMENT}.html").read_text()
    assert "hidden check «q1 hidden» failed" in partial and "check «q1 visible» failed" in partial


def test_gradebook_holds_the_scores(graded):
    from nbgrader.api import Gradebook

    root, results = graded
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # the course's (nbgrader's default place)
        scores = {s.student.id: s.score for s in gb.assignment_submissions(probe.ASSIGNMENT)}
    assert scores == {sid: r["score"] for sid, r in results.items()}


def test_class_report(graded):
    root, _ = graded
    report = root / "out" / "report"
    assert (report / "score_histogram.png").stat().st_size > 1000 and (report / "pass_rates.png").stat().st_size > 1000
    summary = (report / "summary.txt").read_text()
    assert f"{len(CASES)} submissions" in summary and "test_q1_double" in summary


def test_malformed_handbacks_fail_their_checks_with_a_reason(graded):
    _, results = graded
    r = results["malformed_handback"]
    messages = "\n".join(m for c in r["cells"] for m in c["messages"])
    assert r["status"] == "graded" and "bad dtype" in messages and "bad shape" in messages, messages


def test_an_oversized_output_stops_the_notebook_where_it_cut_the_link():
    """Once a message over the cap has cut the output channel, nothing a later cell sends can come back:
    the run stops at that cell instead of waiting out every later one."""
    tool("bwrap")
    settings = config.Autograder(cell_timeout=20, notebook_timeout=60, memory_bytes=2**30)
    run = kernel.run_cells(["print('before')", "print('x' * 50_000_000)", *["print('after')"] * 5],
                           sandboxed=True, limits=settings.run_limits(), sandbox_limits=settings.sandbox_limits(),
                           prelude="")
    assert run.status == "output_flood" and "in cell 2; the notebook was stopped there" in run.reason, run.reason
    assert run.cells[0].outputs[0]["text"] == "before\n"
    assert [c.status for c in run.cells[2:]] == ["not_run"] * 5  # not waited out, one grace period each


def test_an_oversized_reply_leaves_the_graders_memory_bounded(tmp_path):
    """A 50 MB execute_reply (set_next_input) is refused by the shell channel's cap: the run
    records it, and this process's peak memory does not grow by the reply's size."""
    tool("bwrap")
    settings = config.Autograder(cell_timeout=20, notebook_timeout=60, memory_bytes=2**30)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    run = kernel.run_cells(["import numpy as np", "get_ipython().set_next_input('x' * 50_000_000)", "print('after')"],
                           sandboxed=True, limits=settings.run_limits(), sandbox_limits=settings.sandbox_limits(),
                           prelude="")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
    assert run.status == "output_flood" and "reply to cell 2" in run.reason, (run.status, run.reason)
    assert run.cells[0].status == "ok" and run.cells[2].status == "not_run"
    assert grown < 20 * 2**20, f"the grader grew by {grown / 2**20:.0f} MiB"
