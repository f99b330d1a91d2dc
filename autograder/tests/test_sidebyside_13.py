"""Unit tests of sidebyside.backends, added for course/13_backends.ipynb: plain data across the pipe
(pure functions, fast) and a real child process on the PyTorch backend (two starts, a few seconds each)."""

from __future__ import annotations

import numpy as np
import pytest

import sidebyside as sbs  # noqa: F401  (before the frameworks, as in the notebooks)
from sidebyside import backends


# --- plain data ---------------------------------------------------------------------------------------

def test_plain_data_round_trips_exactly():
    value = {"f32": np.array([[1.5, -0.1]], np.float32), "i64": np.arange(3), "bool": np.array([True, False]),
             "text": np.array(["a", "bc"]), "scalars": [1, 2.5, "x", None, True], "nested": {"t": (1, np.float32(2))},
             "empty": np.zeros((0, 4), np.float64)}
    back = backends.decode(backends.encode(value))
    for key in ("f32", "i64", "bool", "text", "empty"):
        assert back[key].dtype == value[key].dtype and back[key].shape == value[key].shape
        np.testing.assert_array_equal(back[key], value[key])
    assert back["scalars"] == [1, 2.5, "x", None, True]
    assert back["nested"] == {"t": [1, 2.0]} and type(back["nested"]["t"][1]) is float   # tuples come back as lists
    assert backends.decode(backends.encode(0.1 + 0.2)) == 0.1 + 0.2                      # floats are exact


def test_tensors_travel_as_arrays():
    import tensorflow as tf
    import torch

    back = backends.decode(backends.encode([torch.ones(2, requires_grad=True), tf.Variable([3.0])]))
    np.testing.assert_array_equal(back[0], np.ones(2, np.float32))
    np.testing.assert_array_equal(back[1], np.array([3.0], np.float32))


@pytest.mark.parametrize("bad", [{1: 2}, np.array([object()]), object()])
def test_what_is_not_plain_data_is_refused_with_a_clear_error(bad):
    with pytest.raises(TypeError, match="string keys|cannot travel"):
        backends.encode(bad)


def test_source_of_a_nested_function_is_dedented():
    def inner(x):
        return x + 1

    text = backends.source_of(inner)
    assert text.startswith("def inner(x):")
    namespace = {}
    exec(text, namespace)
    assert namespace["inner"](1) == 2


def test_source_of_a_class_defined_in_a_notebook_cell_keeps_its_decorators():
    import linecache

    cell = ("import functools\n\n\n@functools.total_ordering\nclass Cell:\n    def __eq__(self, other):\n"
            "        return True\n\n    def __lt__(self, other):\n        return False\n\n\nafter = 1\n")
    filename = "<notebook cell 7>"                              # IPython keeps cells in linecache like this
    linecache.cache[filename] = (len(cell), None, cell.splitlines(True), filename)
    namespace = {"__name__": "a_notebook_without_a_file"}
    exec(compile(cell, filename, "exec"), namespace)
    try:
        text = backends.source_of(namespace["Cell"])
    finally:
        del linecache.cache[filename]
    assert text.startswith("@functools.total_ordering\nclass Cell:\n") and "after" not in text
    fresh = {}
    exec("import functools\n" + text, fresh)
    assert fresh["Cell"]() == 1 and not fresh["Cell"]() < 1


def test_an_unknown_backend_is_refused_before_anything_starts():
    with pytest.raises(ValueError, match="unknown Keras backend 'pytorch'"):
        backends.BackendProcess("pytorch")


# --- a real child on the PyTorch backend --------------------------------------------------------------

def test_a_child_on_the_torch_backend(capfd):
    def double(x):
        return keras.ops.multiply(x, 2.0)  # noqa: F821 (defined in the child)

    child = backends.BackendProcess("torch", timeout=120)
    out = child.run("""
import os, sys
result["backend"] = keras.backend.backend()
y = ops.tanh(x)
result["type"] = type(y).__module__
result["y"] = y
result["same sidebyside"] = sbs.__file__
print("printed by the child")
sys.stderr.write("a warning on stderr\\n")
os.write(1, b"a library writing to file descriptor 1\\n")
kept = 41
""", x=np.array([0.0, 1.0], np.float32))
    assert out["backend"] == "torch" and out["type"] == "torch"
    np.testing.assert_allclose(out["y"], np.tanh([0.0, 1.0]), rtol=1e-6)
    assert out["same sidebyside"] == sbs.__file__                     # this checkout's package, not another
    assert child.run("result['kept'] = kept + 1") == {"kept": 42}     # names live on between runs
    child.define(double)
    np.testing.assert_array_equal(child.run("result['d'] = double(np.ones(2, 'float32'))")["d"], [2.0, 2.0])
    hidden = child.run("""
import importlib, sys
for name in ("tensorflow", "sklearn", "matplotlib"):
    try:
        importlib.import_module(name)
        result[name] = "importable"
    except ImportError:
        result[name] = "hidden"
result["keras imported"] = [name for name in ("sklearn", "matplotlib") if sys.modules.get(name)]
""")
    # TensorFlow and what Keras needs only for its scikit-learn wrappers and plots: hidden by default
    assert hidden == {"tensorflow": "hidden", "sklearn": "hidden", "matplotlib": "hidden", "keras imported": []}
    with pytest.raises(backends.BackendError, match="ZeroDivisionError"):
        child.run("1 / 0")
    assert child.run("result['alive'] = True") == {"alive": True}     # an error does not end the child
    seen = capfd.readouterr()
    assert seen.out == "printed by the child\n" and seen.err == ""    # stderr and fd 1 kept out of this process
    assert "a warning on stderr" in child.stderr and "file descriptor 1" in child.stderr
    assert child.peak_memory_bytes() > 100 * 2**20
    child.timeout = 0.5
    with pytest.raises(backends.BackendError, match="did not answer within 0.5 s"):
        child.run("import time; time.sleep(30)")
    with pytest.raises(backends.BackendError, match="has ended"):
        child.run("result['x'] = 1")
    assert child.close() != 0                                         # killed after the timeout


def test_a_child_told_to_hide_nothing_imports_what_keras_finds_installed():
    with backends.BackendProcess("torch", without=()) as child:
        found = child.run("import sys; result['found'] = sorted(n for n in ('sklearn', 'matplotlib') if sys.modules.get(n))")
    assert found == {"found": ["matplotlib", "sklearn"]}  # what UNUSED_BY_CHILD saves every child by default


def test_run_on_backend_starts_defines_runs_and_exits_cleanly():
    def scaled(x, scale):
        return keras.ops.convert_to_numpy(keras.ops.multiply(x, scale))  # noqa: F821 (defined in the child)

    out = backends.run_on_backend("torch", "result['y'] = scaled(x, 3.0)", functions=[scaled],
                                  x=np.arange(3, dtype=np.float32))
    np.testing.assert_array_equal(out["y"], [0.0, 3.0, 6.0])
    with pytest.raises(backends.BackendError, match="NameError"):
        backends.run_on_backend("torch", "result['y'] = tf.tanh(1.0)")   # no `tf` over there
