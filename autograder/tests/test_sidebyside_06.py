"""Unit tests of the plotting helper added for chapter 06 (data pipelines)."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import sidebyside as sbs  # noqa: E402,F401  (before the frameworks, as in the notebooks)
import matplotlib.pyplot as plt  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from sidebyside import plotting  # noqa: E402


@pytest.fixture
def shown(monkeypatch):
    calls = []

    def show():
        fig = plt.gcf()
        drawn = [ax for ax in fig.axes if ax.images]
        calls.append((len(fig.axes), len(drawn), [ax.get_title() for ax in drawn],
                      [ax.images[0].get_array().shape for ax in drawn]))
        plt.close(fig)

    monkeypatch.setattr(plt, "show", show)
    return calls


def test_show_images_grid_with_labels(shown):
    images = np.arange(12 * 8 * 8, dtype=np.uint8).reshape(12, 8, 8)
    plotting.show_images(images, labels=np.arange(12), cols=5, title="digits")
    (axes, drawn, titles, shapes), = shown
    assert axes == 15 and drawn == 12  # 3 rows of 5, the last 3 cells empty
    assert titles == [str(i) for i in range(12)]
    assert set(shapes) == {(8, 8)}


def test_show_images_accepts_both_layouts_and_frameworks(shown):
    nchw = torch.rand(3, 1, 6, 5)                       # PyTorch: channels first
    nhwc = tf.random.uniform((3, 6, 5, 1))              # TensorFlow: channels last
    rgb = np.random.default_rng(0).random((2, 4, 4, 3)).astype(np.float32)
    plotting.show_images(nchw, labels=["a", "b", "c"])
    plotting.show_images(nhwc)
    plotting.show_images(rgb, labels=tf.constant([1, 2]))
    assert [s[1] for s in shown] == [3, 3, 2]
    assert shown[0][2] == ["a", "b", "c"] and shown[1][2] == ["", "", ""] and shown[2][2] == ["1", "2"]
    assert set(shown[0][3]) == {(6, 5)} and set(shown[1][3]) == {(6, 5)} and set(shown[2][3]) == {(4, 4, 3)}


def test_show_images_rejects_bad_input(shown):
    with pytest.raises(ValueError, match="labels"):
        plotting.show_images(np.zeros((3, 4, 4)), labels=[1, 2])
    with pytest.raises(ValueError, match="shape"):
        plotting.show_images(np.zeros((4, 4)))
    assert shown == []
