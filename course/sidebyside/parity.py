"""Parity checks: prove that a PyTorch value and a TensorFlow value hold the same numbers.

``assert_parity`` is silent about rounding noise and loud about real differences. On success it
returns a short report whose text never contains the measured error (that depends on the CPU:
oneDNN, BLAS and Apple silicon round differently), so notebook outputs stay the same
everywhere. On failure it raises ``ParityError`` with everything you need to find the bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def to_numpy(x) -> np.ndarray:
    """Convert a torch tensor, a TensorFlow tensor or variable, a Keras variable, a NumPy array
    or a Python number/list to a NumPy array (detached, on the CPU)."""
    if isinstance(x, np.ndarray):
        return x
    module = type(x).__module__
    if module.startswith("torch"):
        return x.detach().cpu().resolve_conj().resolve_neg().numpy()
    if hasattr(x, "numpy") and callable(x.numpy):  # tf.Tensor, tf.Variable, EagerTensor
        return np.asarray(x.numpy())
    return np.asarray(x)


class ParityError(AssertionError):
    """Two values that should match do not."""


@dataclass(frozen=True)
class ParityReport:
    """What was compared; ``str()`` is stable across machines (no measured error in it)."""

    name: str
    shape: tuple
    dtype: str
    rtol: float
    atol: float

    def __str__(self) -> str:
        return f"✓ {self.name} match: shape {self.shape}, {self.dtype}, within rtol={self.rtol:g}, atol={self.atol:g}"

    __repr__ = __str__


def _short(a: np.ndarray) -> str:
    text = repr(a.tolist())
    return text if len(text) <= 80 else text[:77] + "..."


def _describe(a: np.ndarray) -> str:
    return f"shape {a.shape}, dtype {a.dtype}"


def assert_parity(
    actual,
    expected,
    *,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    name: str = "values",
    check_dtype: bool = True,
    between_frameworks: bool = False,
) -> ParityReport:
    """Assert that ``actual`` and ``expected`` hold the same numbers within a tolerance.

    Either side may be a torch tensor, a TF tensor/variable, NumPy or Python numbers. Shapes
    must be equal (no broadcasting: a (3,) vs (3, 1) mix-up is a bug), and with
    ``check_dtype`` so must dtypes. Values are compared like ``np.isclose``:
    ``|actual - expected| <= atol + rtol * |expected|``, with NaNs equal to NaNs.
    ``between_frameworks=True`` says that both sides are your own results (a PyTorch value and
    a TensorFlow value), not a result and a known answer. The comparison is the same; the grader
    reads the flag to hand back both sides of such a check (see ``autograder/checks.py``).
    Introduced in ``course/01_tensors.ipynb``.
    """
    a, b = to_numpy(actual), to_numpy(expected)
    textual = a.dtype.kind in "USO" or b.dtype.kind in "USO"  # strings (e.g. dtype names): exact
    problems = []
    if a.shape != b.shape:
        problems.append(f"shapes differ: {a.shape} vs {b.shape}")
    if check_dtype and not textual and a.dtype != b.dtype:
        problems.append(f"dtypes differ: {a.dtype} vs {b.dtype} (pass check_dtype=False to compare values only)")
    if not problems and textual:
        if not np.array_equal(a.astype(str), b.astype(str)):
            problems.append(f"values differ: {_short(a)} vs {_short(b)}")
    elif not problems:
        af, bf = a.astype(np.float64), b.astype(np.float64)
        close = np.isclose(af, bf, rtol=rtol, atol=atol, equal_nan=True)
        if not close.all():
            with np.errstate(invalid="ignore", divide="ignore"):
                abs_err = np.abs(af - bf)
                rel_err = abs_err / np.abs(bf)
            bad = np.argwhere(~close)
            ranking = np.where(close, -1.0, np.nan_to_num(abs_err, nan=np.inf))  # NaN vs number is worst
            worst = tuple(int(i) for i in np.unravel_index(np.argmax(ranking), a.shape))
            problems.append(
                f"{len(bad)} of {a.size} elements differ beyond atol={atol:g} + rtol={rtol:g}*|expected|\n"
                f"  max abs error {np.max(ranking):.3g}, max rel error {np.nanmax(rel_err[~close], initial=0):.3g}\n"
                f"  worst at index {worst}: actual {float(af[worst])} vs expected {float(bf[worst])}\n"
                f"  first differing indices: {[tuple(int(i) for i in ix) for ix in bad[:5]]}"
            )
    if problems:
        raise ParityError(
            f"{name}: no parity\n  actual:   {_describe(a)}\n  expected: {_describe(b)}\n  " + "\n  ".join(problems)
        )
    return ParityReport(name, a.shape, str(a.dtype), rtol, atol)
