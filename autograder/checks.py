"""Graded test cells, split so that pass/fail is decided outside the student's kernel.

A test cell checks only through ``sbs.assert_parity(actual, expected, name="...")``. In the
student's own kernel (the Validate button) that call simply asserts. When grading, the cell is
rewritten before it reaches the sandbox: each call becomes ``__sxs_handback__(name, actual)``, so
the kernel evaluates the student's side and hands back plain data, while the ``expected`` side is
never evaluated there (hidden expected values never reach student code). The trusted grader
decides, with the author's own tolerances:

- a check against a known answer, ``assert_parity(actual, expected, atol=0.05)``, passes when the
  student's actual is within the tolerance of what ``expected`` evaluated to in the trusted
  reference run (the reference solution runs every test cell with both sides handed back; its own
  actual must pass against its expected, or the assignment is refused). A tolerance means what
  its author wrote: ``atol=0.05`` around 0.5 accepts [0.45, 0.55], whatever the reference's actual.
- a check marked ``between_frameworks=True`` compares two student values (PyTorch vs TensorFlow):
  both are handed back; they must agree with each other within the tolerance, and each must also
  agree (within the tolerance) with the reference solution's value for the same side, so that two
  equally wrong answers do not pass. The mark is explicit: a check's name never decides what
  reaches the sandbox.

The hand-back itself (function, message type, decoding) is ``handback.py``.

Rules for authors, enforced by :func:`parse_test_cell` (and so by the style tests):

- no bare ``assert``: a comparison made inside the sandbox proves nothing;
- every ``assert_parity`` call has a unique string literal ``name=`` and literal options
  (tolerances, ``check_dtype``, ``between_frameworks``);
- a value used only on the expected side is computed inside the call, not in a variable of the
  cell, or the sandbox would evaluate it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .handback import FUNCTION as HANDBACK


class CheckRuleError(ValueError):
    """A graded test cell breaks the rules above."""


@dataclass(frozen=True)
class CheckSpec:
    name: str
    rtol: float = 1e-5
    atol: float = 1e-6
    check_dtype: bool = True
    between_frameworks: bool = False

    @property
    def is_parity(self) -> bool:
        """Both sides are student values (PyTorch vs TensorFlow), both handed back."""
        return self.between_frameworks


def _is_check_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Attribute) and f.attr == "assert_parity") or (
        isinstance(f, ast.Name) and f.id == "assert_parity")


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _split_args(call: ast.Call) -> tuple[ast.expr, ast.expr, dict[str, ast.expr]]:
    kwargs = {k.arg: k.value for k in call.keywords if k.arg}
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        raise CheckRuleError("assert_parity: no *args/**kwargs in graded checks")
    args = list(call.args)
    if len(args) > 2:
        raise CheckRuleError("assert_parity: pass rtol/atol/name/check_dtype as keywords")
    actual = args[0] if args else kwargs.pop("actual", None)
    expected = args[1] if len(args) > 1 else kwargs.pop("expected", None)
    if actual is None or expected is None:
        raise CheckRuleError("assert_parity needs an actual and an expected value")
    return actual, expected, kwargs


def parse_test_cell(source: str) -> list[CheckSpec]:
    """The checks a graded test cell makes, in order; raises CheckRuleError if it breaks a rule."""
    try:
        tree = ast.parse(source)
    except SyntaxError as e:
        raise CheckRuleError(f"syntax error: {e}") from None
    specs, actual_names, expected_only = [], set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            raise CheckRuleError(
                f"line {node.lineno}: bare `assert` in a graded test cell; use "
                "sbs.assert_parity(actual, expected, name=...) so the grader can decide outside the sandbox")
        if not _is_check_call(node):
            continue
        actual, expected, kwargs = _split_args(node)
        name = kwargs.pop("name", None)
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str) and name.value.strip()):
            raise CheckRuleError(f"line {node.lineno}: assert_parity needs name=\"a unique string literal\"")
        options = {}
        for key, value in kwargs.items():
            if key not in ("rtol", "atol", "check_dtype", "between_frameworks"):
                raise CheckRuleError(f"line {node.lineno}: unknown assert_parity option {key!r}")
            try:
                options[key] = ast.literal_eval(value)
            except ValueError:
                raise CheckRuleError(f"line {node.lineno}: {key} must be a literal") from None
        if not isinstance(options.get("between_frameworks", False), bool):
            raise CheckRuleError(f"line {node.lineno}: between_frameworks must be True or False")
        spec = CheckSpec(name.value, **options)
        specs.append(spec)
        actual_names |= _names(actual)
        if spec.is_parity:
            actual_names |= _names(expected)
        else:
            expected_only.append((node.lineno, _names(expected)))
    if not specs:
        raise CheckRuleError("a graded test cell must make at least one sbs.assert_parity(...) check")
    assigned = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    for lineno, names in expected_only:
        leaked = (names & assigned) - actual_names
        if leaked:
            raise CheckRuleError(
                f"line {lineno}: {sorted(leaked)} is used only on the expected side but assigned in the cell; "
                "compute expected values inside the assert_parity call so the sandbox never evaluates them")
    return specs


class _Rewrite(ast.NodeTransformer):
    def __init__(self, both_sides: bool):
        self.both_sides = both_sides

    def visit_Call(self, node):
        self.generic_visit(node)
        if not _is_check_call(node):
            return node
        actual, expected, kwargs = _split_args(node)
        name, flag = kwargs["name"], kwargs.get("between_frameworks")
        keep_expected = self.both_sides or (flag is not None and ast.literal_eval(flag) is True)
        args = [name, actual] + ([expected] if keep_expected else [])
        return ast.copy_location(ast.Call(func=ast.Name(HANDBACK, ast.Load()), args=args, keywords=[]), node)


def sandbox_source(source: str, both_sides: bool = False) -> str:
    """The test cell as the sandbox runs it: checks become hand-backs, and expected sides
    disappear (``both_sides=True`` keeps them: for the trusted reference solution only)."""
    parse_test_cell(source)
    return ast.unparse(ast.fix_missing_locations(_Rewrite(both_sides).visit(ast.parse(source))))
