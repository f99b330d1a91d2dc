"""The trusted side of an assignment: what runs, in which order, what each test cell checks and
what the reference solution hands back. Built once per batch from source/ and release/ (after
``rules.validate`` accepts the source notebook); the student's notebook contributes only the code
of its answer cells (and any cells it added).

What a student's value is compared with: for a check ``assert_parity(actual, expected, ...)``, the
value the *expected* expression took in the trusted reference run, with the author's tolerances
(so ``atol=0.05`` around ``0.5`` means [0.45, 0.55], whatever the reference solution's own
``actual`` was); the reference's actual must itself pass against its expected, or the assignment
is refused. See ``grade.score_cells`` for checks between frameworks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import checks, handback, rules
from .config import RunLimits, SandboxLimits
from .kernel import run_cells
from .rules import InstructorError, cell_meta, cell_source

ROOT = Path(__file__).resolve().parents[1]
__all__ = ["InstructorError", "Template", "TestCell", "load", "run_reference", "set_reference"]


@dataclass
class TestCell:
    grade_id: str
    points: float
    specs: list[checks.CheckSpec]
    visible: set[str]           # names of checks a student can see in the release notebook
    code: str                   # what the sandbox runs: checks rewritten to hand-backs


@dataclass
class Template:
    assignment: str
    notebook: str               # e.g. "01_tensors.ipynb"
    cells: list[dict]           # [{"kind": "fixed"|"answer"|"test", "grade_id", "code"}], template order
    tests: dict[str, TestCell]
    files: dict[str, bytes]     # data files shipped beside the release notebook (path -> content)
    root: str = str(ROOT)       # the course folder holding source/ and release/
    digest: str = ""
    # check name -> one entry per time the check ran: [expected] (a check against a known answer) or
    # [PyTorch side, TensorFlow side] (between_frameworks), as the reference solution computed them
    reference: dict[str, list[list[np.ndarray]]] = field(default_factory=dict)
    release_cells: list[dict] = field(default_factory=list)  # every cell of the release notebook, in order
    reference_codes: list[str] = field(default_factory=list)  # the reference solution as it runs (see below)
    metadata: dict = field(default_factory=dict)              # the release notebook's metadata

    @property
    def manual_points(self) -> dict[str, float]:
        """Cells graded by hand in the formgrader: written answers, manually graded code, tasks."""
        return {m["grade_id"]: float(m.get("points", 0)) for c in self.release_cells
                if (m := cell_meta(c)).get("grade_id") and (m.get("task") or (m.get("grade") and m.get("solution")))}

    @property
    def preload(self) -> tuple[str, ...]:
        """What a zygote imports for this assignment (fast_start.py): what its read-only cells import."""
        from .fast_start import preload_for

        return preload_for([c["code"] for c in self.cells if c["kind"] == "fixed"])

    @property
    def auto_max_score(self) -> float:
        return sum(t.points for t in self.tests.values())

    @property
    def max_score(self) -> float:
        """As nbgrader counts it: autograded tests and what is graded by hand."""
        return self.auto_max_score + sum(self.manual_points.values())


def load(assignment: str, root: Path = ROOT, conventions: bool = True) -> Template:
    """Read source/ and release/ of ``assignment`` (one graded notebook per assignment); raise
    InstructorError, naming the cell, if the assignment breaks a rule (see ``rules``)."""
    notebooks = sorted((root / "source" / assignment).glob("*.ipynb"))
    if len(notebooks) != 1:
        raise InstructorError(f"source/{assignment} must hold exactly one notebook, found {len(notebooks)}")
    name = notebooks[0].name
    release_path = root / "release" / assignment / name
    if not release_path.exists():
        raise InstructorError(f"{release_path.relative_to(root)} is missing: run make release")
    try:
        source = json.loads(notebooks[0].read_text())
        release = json.loads(release_path.read_text())
    except ValueError as e:
        raise InstructorError(f"source/{assignment}/{name} or its release is not a readable notebook: {e}") from None
    rules.validate(source, conventions=conventions, where=f"source/{assignment}/{name}")
    source_by_id = {cell_meta(c)["grade_id"]: c for c in source["cells"] if cell_meta(c).get("grade_id")}
    graded = {gid for gid, c in source_by_id.items() if cell_meta(c).get("grade") or cell_meta(c).get("solution")}
    in_release = {cell_meta(c).get("grade_id") for c in release["cells"]
                  if cell_meta(c).get("grade") or cell_meta(c).get("solution")}
    if graded != in_release:
        stale = sorted(graded ^ in_release)
        raise InstructorError(f"cell {stale[0]}: release/{assignment}/{name} and the source disagree on the graded "
                              "and answer cells: run make release")
    cells, tests = [], {}
    for c in release["cells"]:
        if c["cell_type"] != "code":
            continue
        m = cell_meta(c)
        gid = m.get("grade_id")
        if m.get("solution"):
            cells.append({"kind": "answer", "grade_id": gid, "code": cell_source(c), "original": cell_source(c)})
        elif m.get("grade"):
            full = cell_source(source_by_id[gid])
            try:
                specs = checks.parse_test_cell(full)
                visible = {s.name for s in checks.parse_test_cell(cell_source(c))}
            except checks.CheckRuleError as e:
                raise InstructorError(f"cell {gid}: {e}") from None
            tests[gid] = TestCell(gid, float(m.get("points", 0)), specs, visible, checks.sandbox_source(full))
            cells.append({"kind": "test", "grade_id": gid, "code": tests[gid].code, "original": cell_source(c)})
        else:
            cells.append({"kind": "fixed", "grade_id": gid, "code": cell_source(c), "original": cell_source(c)})
    # Everything a worker needs travels as content, never as a path: a Dask worker on another host
    # has no copy of the course.
    files = {str(p.relative_to(release_path.parent)): p.read_bytes()
             for p in sorted(release_path.parent.rglob("*")) if p.is_file() and p != release_path}
    h = hashlib.sha256(json.dumps([cells, name], sort_keys=True).encode() + notebooks[0].read_bytes()
                       + release_path.read_bytes())
    for path, data in files.items():  # the release notebook and every data file beside it
        h.update(path.encode() + b"\0" + data + b"\0")
    digest = h.hexdigest()[:16]
    tpl = Template(assignment, name, cells, tests, files, str(root), digest,
                   release_cells=release["cells"], metadata=release.get("metadata", {}))
    tpl.reference_codes = reference_codes(tpl, source)
    return tpl


def reference_codes(template: Template, source: dict) -> list[str]:
    """The instructor's notebook as the grader runs it: solutions in, every check handing back both sides."""
    by_id = {cell_meta(c)["grade_id"]: cell_source(c) for c in source["cells"] if cell_meta(c).get("grade_id")}
    codes = []
    for cell in template.cells:
        if cell["kind"] == "answer":
            codes.append(by_id[cell["grade_id"]])
        elif cell["kind"] == "test":
            codes.append(checks.sandbox_source(by_id[cell["grade_id"]], both_sides=True))
        else:
            codes.append(cell["code"])
    return codes


def run_reference(template: Template, sandboxed: bool, limits: RunLimits, sandbox_limits: SandboxLimits,
                  fast_start: bool = False):
    """Run the reference solution in the same sandbox, under the same limits, as the students (so
    the numbers match and a limit too tight for the solution shows up here). A job like any
    student's: it runs in parallel with them."""
    return run_cells(template.reference_codes, sandboxed=sandboxed, limits=limits, sandbox_limits=sandbox_limits,
                     files=template.files, fast_start=fast_start, preload=template.preload)


def compute_reference(template: Template, sandboxed: bool, limits: RunLimits, sandbox_limits: SandboxLimits,
                      fast_start: bool = False) -> None:
    """Run the reference solution and keep what each check hands back."""
    set_reference(template, run_reference(template, sandboxed, limits, sandbox_limits, fast_start))


def set_reference(template: Template, run) -> None:
    """Keep the values the reference run's checks computed; every check must pass against its own
    expected value, or the assignment is broken (InstructorError)."""
    if run.status != "completed":
        raise InstructorError(f"the reference solution did not run: {run.status}: {run.reason}")
    occurrences: dict[str, list[list[np.ndarray]]] = {}
    specs = {s.name: s for t in template.tests.values() for s in t.specs}
    for cell, cell_run in zip(template.cells, run.cells):
        if cell_run.status != "ok":
            raise InstructorError(f"cell {cell['grade_id']} failed in the reference solution: {cell_run.error}")
        for payload in cell_run.checks:
            name = handback.payload_name(payload)
            try:
                values = handback.decode_payload(payload.get("values") if name else None, 2)
            except handback.HandbackError as e:
                raise InstructorError(f"cell {cell['grade_id']}: the reference solution's check {name!r} handed "
                                      f"back no comparable data: {e}") from None
            occurrences.setdefault(name, []).append(values)
    from sidebyside import ParityError, assert_parity

    for name, spec in specs.items():
        if name not in occurrences:
            raise InstructorError(f"check {name!r} never ran in the reference solution")
        for actual, expected in occurrences[name]:
            try:
                assert_parity(actual, expected, rtol=spec.rtol, atol=spec.atol, check_dtype=spec.check_dtype, name=name)
            except ParityError as e:
                raise InstructorError(f"the reference solution fails its own check:\n{e}") from None
    # A student's actual is compared with what the author wrote as expected (evaluated here, in the
    # trusted run), never with the reference's actual; both sides of a between-frameworks check are kept.
    template.reference = {name: [occ if specs[name].is_parity else occ[1:] for occ in occs]
                          for name, occs in occurrences.items() if name in specs}
