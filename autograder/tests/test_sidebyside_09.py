"""Unit tests of the plotting helper added for course/09_capstone.ipynb."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import sidebyside  # noqa: E402,F401  (before the frameworks, as in the notebooks)
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from sidebyside import plotting  # noqa: E402


def test_confusion_matrix_draws_one_annotated_panel_per_framework(shown):
    counts = np.array([[5, 1, 0], [0, 4, 2], [1, 0, 6]])
    plotting.confusion_matrix({"PyTorch": torch.from_numpy(counts), "TensorFlow": tf.constant(counts, tf.int32)},
                              class_names=["a", "b", "c"], title="test set")
    (fig,) = shown
    left, right = fig.axes[:2]
    assert [ax.get_title() for ax in (left, right)] == ["PyTorch: 15/19 correct", "TensorFlow: 15/19 correct"]
    for ax in (left, right):
        np.testing.assert_array_equal(ax.images[0].get_array(), counts)          # rows true, columns predicted
        assert [t.get_text() for t in ax.texts] == [str(v) for v in counts.ravel()]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
        assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    left_top = left.images[0].get_cmap()(1.0)
    right_top = right.images[0].get_cmap()(1.0)
    assert matplotlib.colors.to_hex(left_top) == plotting.PYTORCH["color"].lower()
    assert matplotlib.colors.to_hex(right_top) == plotting.TENSORFLOW["color"].lower()
    assert fig._suptitle.get_text() == "test set"


def test_confusion_matrix_defaults_and_a_single_panel(shown):
    plotting.confusion_matrix({"torch only": np.eye(4, dtype=np.int64) * 3})
    (fig,) = shown
    (ax,) = fig.axes
    assert ax.get_title() == "torch only: 12/12 correct"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2", "3"]
    plotting.confusion_matrix({"TensorFlow": np.zeros((2, 2))})                 # float zeros are counts too
    assert shown[1].axes[0].get_title() == "TensorFlow: 0/0 correct"


def test_confusion_matrix_rejects_what_is_not_a_count_matrix(shown):
    with pytest.raises(ValueError, match="square"):
        plotting.confusion_matrix({"PyTorch": np.zeros((2, 3))})
    with pytest.raises(ValueError, match="counts"):
        plotting.confusion_matrix({"PyTorch": np.array([[1.5, 0], [0, 1]])})
    with pytest.raises(ValueError, match="counts"):
        plotting.confusion_matrix({"PyTorch": np.array([[1, -1], [0, 1]])})
    with pytest.raises(ValueError, match="class names"):
        plotting.confusion_matrix({"PyTorch": np.eye(3)}, class_names=["a", "b"])
    with pytest.raises(ValueError, match="no confusion matrix"):
        plotting.confusion_matrix({})
    assert shown == []
