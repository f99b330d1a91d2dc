"""What students and instructors do in the browser, for real: a JupyterLab server started by `make`
on loopback, driven by Playwright in Debian's headless Chromium. Screenshots are saved under
autograder/artifacts/ (kept by CI as test artifacts)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import uuid

import pytest

from conftest import ARTIFACTS, ROOT, lab_server

SCRATCH = ARTIFACTS / "notebooks"  # git-ignored: the browser edits copies, never the course


def open_lab(browser, base, token, path):
    """Open ``path`` alone, in a fresh workspace (a restored layout could bring back other notebooks)."""
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    workspace = f"test-{uuid.uuid4().hex[:8]}"
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{path}?token={token}&reset")  # the token logs in
    page.wait_for_function("(path) => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                           " return w && w.context && w.context.path === path && w.sessionContext.session"
                           " && w.sessionContext.session.kernel && w.sessionContext.session.kernel.status === 'idle'; }",
                           arg=path, timeout=120_000)
    return page


def notebook_state(page) -> dict:
    return page.evaluate("""() => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        const code = nb.widgets.filter(c => c.model.type === 'code');
        const outputs = code.flatMap(c => c.model.sharedModel.getSource ? c.model.toJSON().outputs : []);
        return {cells: code.length, counts: code.map(c => c.model.executionCount),
                errors: outputs.filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue),
                stderr: outputs.filter(o => o.output_type === 'stream' && o.name === 'stderr').map(o => o.text),
                kernel: window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status};
    }""")


@pytest.fixture(scope="module")
def student_lab():
    SCRATCH.mkdir(parents=True, exist_ok=True)
    with lab_server("lab", "LAB_ARGS=--LabApp.expose_app_in_browser=True") as server:
        yield server
    shutil.rmtree(SCRATCH, ignore_errors=True)


def test_a_chapter_runs_top_to_bottom_without_errors(browser, student_lab):
    base, _, token = student_lab
    shutil.copy(ROOT / "course" / "02_autodiff.ipynb", SCRATCH / "02_autodiff.ipynb")
    page = open_lab(browser, base, token, "autograder/artifacts/notebooks/02_autodiff.ipynb")
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
        const code = nb.widgets.filter(c => c.model.type === 'code');
        return code.every(c => c.model.executionCount) &&
               window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'; }""",
                           timeout=300_000)
    state = notebook_state(page)
    page.screenshot(path=str(ARTIFACTS / "chapter-02-run-all.png"), full_page=False)
    assert state["cells"] > 10 and all(state["counts"])
    assert state["errors"] == [] and state["stderr"] == [], state
    page.close()


def answered_release(skip: str) -> dict:
    """The 01_tensors release notebook with every answer filled in from the solutions, but ``skip``."""
    src = json.loads((ROOT / "source/01_tensors/01_tensors.ipynb").read_text())
    nb = json.loads((ROOT / "release/01_tensors/01_tensors.ipynb").read_text())

    def gid(c):
        return c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    solutions = {gid(c): re.sub(r"\n?[ \t]*### (BEGIN|END) SOLUTION", "", "".join(c["source"]))
                 for c in src["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    out = copy.deepcopy(nb)
    for c in out["cells"]:
        if gid(c) in solutions and gid(c) != skip:
            c["source"] = solutions[gid(c)]
    return out, solutions[skip]


def type_into_cell(page, marker: str, code: str) -> None:
    cell = page.locator(".jp-CodeCell", has_text=marker).first
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.insert_text(code)   # typed as text, no auto-indentation
    page.keyboard.press("Escape")
    page.keyboard.press("Control+S")
    page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=30_000)


def validate(page) -> str:
    page.get_by_role("button", name="Validate").click()
    dialog = page.locator(".jp-Dialog").last
    dialog.wait_for(timeout=300_000)
    page.wait_for_function("() => !document.querySelector('.jp-Dialog').innerText.includes('Validating')",
                           timeout=300_000)
    text = dialog.inner_text()
    return text


def test_validate_reports_success_for_a_correct_answer_and_failure_for_a_wrong_one(browser, student_lab):
    base, _, token = student_lab
    nb, solution = answered_release("q3_pick_pytorch")
    (SCRATCH / "01_tensors.ipynb").write_text(json.dumps(nb))
    page = open_lab(browser, base, token, "autograder/artifacts/notebooks/01_tensors.ipynb")
    type_into_cell(page, "def pick_pytorch", solution)
    result = validate(page)
    page.screenshot(path=str(ARTIFACTS / "validate-success.png"))
    assert "Success! Your notebook passes all the tests." in result, result
    page.locator(".jp-Dialog").last.get_by_role("button").last.click()
    type_into_cell(page, "def pick_pytorch", "def pick_pytorch(x, idx):\n    return x[:, 0]\n")
    result = validate(page)
    page.screenshot(path=str(ARTIFACTS / "validate-failure.png"))
    assert "Success" not in result and "The following cell failed" in result, result
    assert "ParityError" in result and "q3 pytorch" in result, result
    page.close()
