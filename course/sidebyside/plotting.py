"""Every figure of the course, so notebooks stay short and look alike.

PyTorch is drawn as a solid line, TensorFlow as dots on top of it: where the frameworks agree,
the dots sit on the line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .parity import to_numpy

PYTORCH = dict(color="#EE4C2C", label="PyTorch")
TENSORFLOW = dict(color="#1F5FA8", label="TensorFlow")


def _finish(fig, title: str | None) -> None:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def compare_functions(x, curves: Mapping[str, tuple], title: str | None = None, cols: int = 4) -> None:
    """One small plot per function: ``curves = {"name": (y_pytorch, y_tensorflow)}`` over ``x``."""
    x = to_numpy(x)
    rows = math.ceil(len(curves) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3 * cols, 2.4 * rows), squeeze=False)
    for ax, (name, (y_pt, y_tf)) in zip(axes.flat, curves.items()):
        ax.plot(x, to_numpy(y_pt), lw=2, **PYTORCH)
        ax.plot(x, to_numpy(y_tf), ".", ms=4, **TENSORFLOW)
        ax.set_title(name)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(curves):]:
        ax.axis("off")
    axes.flat[0].legend(loc="best", fontsize="small")
    _finish(fig, title)


def show_matrices(matrices: Mapping[str, object], title: str | None = None, fmt: str = "g") -> None:
    """Small matrices as annotated heat maps, side by side (shapes, broadcasting, gathers)."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(2.6 * len(matrices), 2.6), squeeze=False)
    for ax, (name, m) in zip(axes.flat, matrices.items()):
        a = np.atleast_2d(to_numpy(m))
        ax.imshow(a, cmap="Blues", vmin=min(a.min(), 0), vmax=max(a.max(), 1))
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, format(v, fmt), ha="center", va="center", fontsize=9)
        ax.set_title(f"{name}\n{'x'.join(map(str, np.shape(to_numpy(m))))}", fontsize=10)
        ax.set_xticks([])
        ax.set_yticks([])
    _finish(fig, title)


def plot_curves(pytorch: Sequence[float], tensorflow: Sequence[float], ylabel: str = "loss",
                xlabel: str = "step", title: str | None = None, ax=None) -> None:
    """Two training curves on one axis: PyTorch as a line, TensorFlow as dots."""
    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.arange(len(pytorch)), to_numpy(pytorch), lw=2, **PYTORCH)
    ax.plot(np.arange(len(tensorflow)), to_numpy(tensorflow), ".", ms=6, **TENSORFLOW)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    if own:
        _finish(fig, title)


def plot_histograms(samples: Mapping[str, object], bins: int = 40, title: str | None = None) -> None:
    """One histogram per named sample (e.g. initial weights from each framework)."""
    fig, axes = plt.subplots(1, len(samples), figsize=(3.6 * len(samples), 2.8), squeeze=False, sharey=True)
    for ax, (name, values) in zip(axes.flat, samples.items()):
        style = PYTORCH if "torch" in name.lower() else TENSORFLOW
        ax.hist(to_numpy(values).ravel(), bins=bins, color=style["color"], alpha=0.8)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    _finish(fig, title)
