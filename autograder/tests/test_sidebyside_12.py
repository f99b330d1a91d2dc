"""Unit tests of the plotting helper added for course/12_speed.ipynb."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")

import sidebyside  # noqa: E402,F401  (before the frameworks, as in the notebooks)
from sidebyside import plotting  # noqa: E402


def test_plot_timings_draws_one_labelled_bar_per_measure_in_the_frameworks_colours(shown):
    plotting.plot_timings({"first call": {"PyTorch eager": 2.0, "TensorFlow tf.function": 40.0},
                           "per step": {"torch.compile": 0.5, "XLA": 0.25, "tf eager": 1.0}},
                          unit="ms", title="speed")
    (fig,) = shown
    left, right = fig.axes
    assert [ax.get_title() for ax in (left, right)] == ["first call", "per step"]
    assert [t.get_text() for t in left.get_yticklabels()] == ["PyTorch eager", "TensorFlow tf.function"]
    assert [p.get_width() for p in right.patches] == [0.5, 0.25, 1.0]
    assert [t.get_text() for t in right.texts] == [" 0.5 ms", " 0.25 ms", " 1 ms"]
    colors = [matplotlib.colors.to_hex(p.get_facecolor(), keep_alpha=False) for p in right.patches]
    assert colors == [plotting.PYTORCH["color"].lower()] + [plotting.TENSORFLOW["color"].lower()] * 2
    assert left.get_xscale() == "linear" and fig._suptitle.get_text() == "speed"


def test_plot_timings_on_a_log_axis(shown):
    plotting.plot_timings({"compile vs step": {"torch.compile, first call": 1660.4, "a step": 0.4}}, log=True)
    (ax,) = shown[0].axes
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "ms"
    assert [t.get_text() for t in ax.texts] == [" 1660 ms", " 0.4 ms"]     # no 1.66e+03


@pytest.mark.parametrize("panels", [{}, {"empty": {}}, {"p": {"a": -1.0}}, {"p": {"a": float("nan")}}])
def test_plot_timings_rejects_what_is_not_a_timing(shown, panels):
    with pytest.raises(ValueError):
        plotting.plot_timings(panels)


def test_plot_timings_refuses_zero_on_a_log_axis(shown):
    with pytest.raises(ValueError, match="positive"):
        plotting.plot_timings({"p": {"a": 0.0}}, log=True)


def test_slow_dataset_waits_for_every_item_and_keeps_the_order():
    import time

    import numpy as np
    import torch
    from sidebyside.loading import SlowDataset

    table = np.arange(12, dtype=np.float64).reshape(6, 2)
    data = SlowDataset(table, 0.01)
    start = time.perf_counter()
    rows = [data[i] for i in range(len(data))]
    assert time.perf_counter() - start >= 6 * 0.01
    assert all(r.dtype == torch.float32 for r in rows)
    np.testing.assert_array_equal(torch.stack(rows).numpy(), table)
    with pytest.raises(ValueError, match="non-negative"):
        SlowDataset(table, -1.0)


def test_slow_dataset_works_in_spawned_workers():
    """macOS and Windows spawn DataLoader workers: they must import the dataset's class by its module."""
    import numpy as np
    import torch
    from sidebyside.loading import SlowDataset

    table = np.arange(20, dtype=np.float32).reshape(10, 2)
    loader = torch.utils.data.DataLoader(SlowDataset(table, 0.0), batch_size=4, num_workers=1,
                                         multiprocessing_context="spawn")
    np.testing.assert_array_equal(torch.cat(list(loader)).numpy(), table)
