"""The notebook style contract: what every chapter, assignment and release notebook must look like.

Chapters: `NN_topic.ipynb`, one H1, a Setup section that imports sidebyside before the frameworks,
and every concept section shown in PyTorch, then TensorFlow, then a computed parity check.
Assignments: PyTorch and TensorFlow parts graded separately, hidden tests, a parity exercise.
Stored outputs: complete, in order, and the same on every machine."""

from __future__ import annotations

import re

import pytest

from autograder import rules
from conftest import (ASSIGNMENTS, CHAPTER_NAME, CHAPTERS, RELEASES, ROOT, SOURCES, START_PAGE, ids,
                      load, source_text)

EXECUTED = [START_PAGE, *CHAPTERS, *SOURCES]
NOT_CONCEPTS = {"Setup", "Summary", "Exercises"}
# Output text that differs between runs or machines, or that is a log line.
UNSTABLE = {
    "memory address": re.compile(r"0x[0-9a-fA-F]{6,}"),
    "timing": re.compile(r"\d+(\.\d+)?\s?(ms|s|µs|us)/(step|it)|\d+(\.\d+)?\s?it/s|Wall time|CPU times|ETA:"),
    "timestamp": re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d"),
    "log line": re.compile(r"^(WARNING|INFO|ERROR|W0000|I0000|E0000)[: ]|tensorflow/core/|absl::", re.M),
    "progress bar": re.compile(r"━━━|\d+/\d+ \[=*>?\.*\]"),
}


def cells(nb, kind=None):
    return [c for c in nb["cells"] if kind is None or c["cell_type"] == kind]


def headings(nb, level: int) -> list[str]:
    marker = "#" * level + " "
    found = []
    for c in cells(nb, "markdown"):
        fenced = False
        for line in source_text(c).splitlines():
            if line.startswith("```"):
                fenced = not fenced
            elif not fenced and line.startswith(marker):
                found.append(line[len(marker):].strip())
    return found


def sections(nb) -> dict[str, list[dict]]:
    """Cells grouped by the `##` heading they stand under."""
    out, current = {}, None
    for c in nb["cells"]:
        if c["cell_type"] == "markdown":
            for line in source_text(c).splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
                    out.setdefault(current, [])
        if current is not None:
            out[current].append(c)
    return out


def nb_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def first_line(cell) -> str:
    return source_text(cell).lstrip().splitlines()[0] if source_text(cell).strip() else ""


# --- every executed notebook ---------------------------------------------------------------------

@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_outputs_are_complete_in_order_and_stable(path):
    nb = load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in cells(nb, "code") if source_text(c).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), \
        f"run the notebook top to bottom with `make execute NBS={path.relative_to(ROOT)}` (counts {counts})"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"stored error in cell: {first_line(c)}"
            assert out.get("name") != "stderr", f"stderr in cell {first_line(c)!r}: {''.join(out['text'])[:200]}"
            texts = [out.get("text", "")] + [out.get("data", {}).get("text/plain", "")]
            text = "".join("".join(t) if isinstance(t, list) else t for t in texts)
            for what, pattern in UNSTABLE.items():
                assert not pattern.search(text), f"{what} in output of {first_line(c)!r}: {text[:200]}"
        assert "execution" not in c.get("metadata", {}), "timing metadata: execute with `make execute`"


@pytest.mark.parametrize("path", EXECUTED, ids=ids(EXECUTED))
def test_one_h1_and_a_setup_cell_that_imports_sidebyside_first(path):
    nb = load(path)
    assert len(headings(nb, 1)) == 1, f"exactly one H1, found {headings(nb, 1)}"
    code = [c for c in cells(nb, "code") if source_text(c).strip()]
    setup = source_text(code[0])
    assert setup.lstrip().startswith("import sidebyside as sbs"), "the first code cell imports sidebyside first"


# --- chapters --------------------------------------------------------------------------------------

def test_there_are_chapters():
    assert CHAPTERS, "no chapter notebooks found in course/"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_anatomy(path):
    assert CHAPTER_NAME.match(path.name), f"{path.name} is not NN_topic.ipynb"
    nb = load(path)
    number = path.name[:2]
    (h1,) = headings(nb, 1)
    assert h1.startswith(f"{number} · "), f"the H1 starts with '{number} · ': {h1!r}"
    secs = sections(nb)
    assert list(secs)[0] == "Setup" and "Summary" in secs and "Exercises" in secs, list(secs)
    assert "sbs.seed_everything(" in "".join(source_text(c) for c in secs["Setup"])
    concepts = [name for name in secs if name not in NOT_CONCEPTS]
    assert len(concepts) >= 3, concepts
    for name in concepts:
        starts = [first_line(c) for c in secs[name] if c["cell_type"] == "code"]
        order = [next((i for i, s in enumerate(starts) if s.startswith(tag)), None)
                 for tag in ("# PyTorch", "# TensorFlow", "# Parity")]
        assert None not in order, f"section {name!r} needs # PyTorch, # TensorFlow and # Parity cells: {starts}"
        assert order == sorted(order), f"section {name!r}: PyTorch, then TensorFlow, then Parity"
        parity = [c for c in secs[name] if first_line(c).startswith("# Parity")]
        assert all(re.search(r"assert_parity\(|\bassert\b", source_text(c)) for c in parity), \
            f"section {name!r}: a parity cell must compute its claim (assert_parity or assert)"
    exercises = "".join(source_text(c) for c in secs["Exercises"])
    stem = path.stem
    assert f"../release/{stem}/{stem}.ipynb" in exercises, "the Exercises section links to the release notebook"


@pytest.mark.parametrize("path", CHAPTERS, ids=ids(CHAPTERS))
def test_chapter_has_a_figure(path):
    pngs = [o for c in cells(load(path), "code") for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert pngs, "a chapter shows at least one figure (sidebyside.plotting)"


def test_every_chapter_is_on_the_start_page_and_in_the_readme():
    start = "".join(source_text(c) for c in cells(load(START_PAGE), "markdown"))
    readme = (ROOT / "README.md").read_text()
    for path in CHAPTERS:
        assert f"]({path.name})" in start, f"{path.name} missing from the start page's chapter table"
        assert f"](course/{path.name})" in readme, f"{path.name} missing from the README's course map"
    for a in ASSIGNMENTS:
        assert f"](../release/{a}/{a}.ipynb)" in start and f"](release/{a}/{a}.ipynb)" in readme, a


# --- assignments -----------------------------------------------------------------------------------

def test_every_assignment_has_a_chapter_and_a_release():
    assert ASSIGNMENTS, "no assignments in source/"
    chapters = {p.stem for p in CHAPTERS}
    for a in ASSIGNMENTS:
        assert re.fullmatch(r"\d{2}_[a-z0-9_]+", a), a
        assert a in chapters, f"source/{a} has no chapter course/{a}.ipynb"
        assert (ROOT / "source" / a / f"{a}.ipynb").exists()
        assert (ROOT / "release" / a / f"{a}.ipynb").exists(), f"run make release for {a}"
    assert sorted(p.parent.name for p in RELEASES) == sorted(ASSIGNMENTS)


@pytest.mark.parametrize("path", SOURCES, ids=ids(SOURCES))
def test_assignment_follows_the_graders_rules(path):
    """The rules live in autograder/rules.py, the one home the grader also checks before grading:
    unique grade_ids and check names, locked test cells worth points that check only through
    sbs.assert_parity (autograder/checks.py), solution markers, read-only fixed cells, and the
    course's conventions (PyTorch and TensorFlow graded apart, a parity exercise, hidden tests)."""
    problems = rules.problems(load(path))
    assert not problems, "\n".join(problems)


# --- releases --------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", RELEASES, ids=ids(RELEASES))
def test_release_has_no_outputs_and_no_solutions(path):
    nb = load(path)
    text = path.read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS"):
        assert marker not in text
    for c in cells(nb, "code"):
        assert c.get("outputs") == [] and c.get("execution_count") is None


FRAMEWORK_LABEL = {"pytorch": "PyTorch", "tensorflow": "TensorFlow", "parity": "parity"}


@pytest.mark.parametrize("path", SOURCES, ids=ids(SOURCES))
def test_one_heading_style_and_one_test_cell_ending(path):
    """`## Exercise N · title (P points)`, the points being those of the exercise's graded cells in
    order (PyTorch + TensorFlow + parity, or a written answer's); every test cell ends with the
    same success line."""
    nb = load(path)
    graded = [(nb_meta(c)["grade_id"], nb_meta(c)["points"]) for c in nb["cells"] if nb_meta(c).get("grade")]
    order = {"pytorch": 0, "tensorflow": 1, "parity": 2}
    intros = [c for c in cells(nb, "markdown") if re.fullmatch(r"q\d+_intro", nb_meta(c).get("grade_id", ""))]
    assert intros, "every exercise starts with a qN_intro markdown cell"
    for n, c in enumerate(intros, start=1):
        q = nb_meta(c)["grade_id"].split("_")[0]
        assert q == f"q{n}", f"exercises are numbered in order: {q} is the {n}th"
        mine = sorted((order.get(g.rsplit("_", 1)[1], 3), p) for g, p in graded if re.match(rf"(test_)?{q}_", g))
        points = " + ".join(f"{p:g}" for _, p in mine)
        heading = source_text(c).splitlines()[0]
        assert re.fullmatch(rf"## Exercise {n} · \S.* \({re.escape(points)} points?\)", heading), \
            f"{heading!r} should read '## Exercise {n} · title ({points} points)'"
    for c in cells(nb, "code"):
        gid = nb_meta(c).get("grade_id", "")
        if nb_meta(c).get("grade"):
            q, kind = gid.split("_")[1], gid.rsplit("_", 1)[1]
            last = source_text(c).rstrip().splitlines()[-1]
            assert last == f'print("✓ {q} {FRAMEWORK_LABEL[kind]}: every check passed")', f"{gid} ends with {last!r}"


@pytest.mark.parametrize("path", SOURCES, ids=ids(SOURCES))
def test_written_answers_are_manually_graded_markdown_cells(path):
    """A written question is an nbgrader markdown cell (grade and solution, with points and a model answer);
    the course's grader leaves it to the formgrader, and nbgrader releases it as 'YOUR ANSWER HERE'."""
    written = [c for c in cells(load(path), "markdown") if nb_meta(c).get("grade") or nb_meta(c).get("solution")]
    for c in written:
        m = nb_meta(c)
        assert m.get("grade") and m.get("solution") and m.get("points", 0) > 0, m
        assert re.fullmatch(r"q\d+_[a-z0-9_]+_written", m["grade_id"]), m["grade_id"]
        assert len(source_text(c).split()) >= 30, f"{m['grade_id']}: a model answer for the instructor"
    release = ROOT / "release" / path.parent.name / path.name
    for c in cells(load(release), "markdown"):
        if nb_meta(c).get("solution"):
            assert source_text(c).strip() == "YOUR ANSWER HERE", nb_meta(c)["grade_id"]
