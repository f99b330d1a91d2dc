"""Unit tests of graded test cells (autograder/checks.py): parsing, the rules, and the rewriting
that keeps expected values out of the sandbox."""

from __future__ import annotations

import pytest

from autograder import checks, handback
from autograder.checks import CheckRuleError, CheckSpec, parse_test_cell, sandbox_source


def test_parsing_reads_names_and_literal_options():
    specs = parse_test_cell(
        'x = np.arange(3)\n'
        'sbs.assert_parity(f(x), x * 2, name="doubles", atol=0.05, rtol=0)\n'
        'for n in (1, 2):\n    assert_parity(g(n), n, name="loop", check_dtype=False)\n'
        'sbs.assert_parity(pt(x), tf(x), name="both", between_frameworks=True)')
    assert sorted(specs, key=lambda s: s.name) == [
        CheckSpec("both", between_frameworks=True), CheckSpec("doubles", rtol=0, atol=0.05),
        CheckSpec("loop", check_dtype=False)]
    assert [s.is_parity for s in sorted(specs, key=lambda s: s.name)] == [True, False, False]


@pytest.mark.parametrize("source, message", [
    ("assert f(1) == 2", "bare `assert`"),
    ("sbs.assert_parity(f(1), 2)", "name="),
    ("sbs.assert_parity(f(1), 2, name=label)", "name="),
    ("sbs.assert_parity(f(1), 2, name='')", "name="),
    ("sbs.assert_parity(f(1), 2, name='a', atol=tol)", "atol must be a literal"),
    ("sbs.assert_parity(f(1), 2, name='a', between_frameworks=1)", "between_frameworks must be True or False"),
    ("sbs.assert_parity(f(1), 2, name='a', between_frameworks=flag)", "between_frameworks must be a literal"),
    ("sbs.assert_parity(f(1), 2, name='a', equal_nan=True)", "unknown assert_parity option"),
    ("sbs.assert_parity(*pair, name='a')", "no \\*args"),
    ("sbs.assert_parity(f(1), 2, 1e-3, name='a')", "as keywords"),
    ("sbs.assert_parity(f(1), name='a')", "needs an actual and an expected"),
    ("print(f(1))", "at least one"),
    ("answer = 2\nsbs.assert_parity(f(1), answer, name='a')", "used only on the expected side"),
    ("def f(:", "syntax error"),
])
def test_each_rule_is_refused(source, message):
    with pytest.raises(CheckRuleError, match=message):
        parse_test_cell(source)


def test_the_sandbox_never_sees_the_expected_side():
    cell = 'x = [1, 2]\nsbs.assert_parity(f(x), np.array([2, 4]) * SECRET, name="q1", atol=0.1)'
    code = sandbox_source(cell)
    assert code == f"x = [1, 2]\n{handback.FUNCTION}('q1', f(x))"
    assert "SECRET" not in code and "assert_parity" not in code


def test_between_frameworks_hands_back_both_sides():
    code = sandbox_source("sbs.assert_parity(pt(x), tf(x), name='p', between_frameworks=True)")
    assert code == f"{handback.FUNCTION}('p', pt(x), tf(x))"
    # the mark is explicit: a name that says parity decides nothing
    assert sandbox_source("sbs.assert_parity(pt(x), 3, name='q3 parity')") == f"{handback.FUNCTION}('q3 parity', pt(x))"


def test_the_reference_run_hands_back_both_sides():
    code = sandbox_source("sbs.assert_parity(f(x), 0.5, name='m', atol=0.05)", both_sides=True)
    assert code == f"{handback.FUNCTION}('m', f(x), 0.5)"


def test_rewriting_reaches_checks_inside_loops_and_functions():
    code = sandbox_source("for n in (1, 7):\n    sbs.assert_parity(norm(np.ones(n)), float(np.sqrt(n)), name='h')")
    assert code == f"for n in (1, 7):\n    {handback.FUNCTION}('h', norm(np.ones(n)))"


def test_rewriting_refuses_a_cell_that_breaks_the_rules():
    with pytest.raises(CheckRuleError):
        sandbox_source("assert True")
    assert checks.HANDBACK == handback.FUNCTION
