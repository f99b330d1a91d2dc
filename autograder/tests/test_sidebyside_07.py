"""Unit tests of the plotting helper added for course/07_saving.ipynb."""

from __future__ import annotations

import matplotlib
import numpy as np

matplotlib.use("Agg")

import sidebyside  # noqa: E402,F401  (before the frameworks, as in the notebooks)
from sidebyside import plotting  # noqa: E402


def test_plot_runs_draws_one_panel_per_framework(monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf()))
    straight = np.linspace(1.0, 0.2, 20)
    bumped = straight.copy()
    bumped[11:] += 0.05
    plotting.plot_runs({"PyTorch": {"straight": straight, "resumed": straight, "no state": bumped},
                        "TensorFlow": {"straight": straight, "resumed": straight}},
                       mark_step=10, title="resume")
    (fig,) = shown
    left, right = fig.axes
    assert [ax.get_title() for ax in fig.axes] == ["PyTorch", "TensorFlow"]
    assert len(left.lines) == 4 and len(right.lines) == 3          # the runs plus the vertical mark
    assert left.lines[0].get_color() == plotting.PYTORCH["color"]
    assert right.lines[0].get_color() == plotting.TENSORFLOW["color"]
    np.testing.assert_allclose(left.lines[2].get_ydata(), bumped)
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["straight", "resumed", "no state", "resumed here"]
    plotting.plot_runs({"torch only": {"a": [3.0, 2.0, 1.0]}})      # no mark, a single panel
    assert len(shown) == 2 and len(shown[1].axes) == 1 and len(shown[1].axes[0].lines) == 1
    plt.close("all")
