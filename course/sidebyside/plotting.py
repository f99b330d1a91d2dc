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


def plot_histograms(samples: Mapping[str, object], bins: int = 40, title: str | None = None,
                    sharex: bool = False) -> None:
    """One histogram per named sample (e.g. initial weights from each framework).

    ``sharex=True`` puts every panel on the same x-axis and the same bin edges, so that samples of
    different widths *look* different widths (each panel would otherwise zoom on its own range)."""
    fig, axes = plt.subplots(1, len(samples), figsize=(3.6 * len(samples), 2.8), squeeze=False, sharey=True,
                             sharex=sharex)
    arrays = {name: to_numpy(values).ravel() for name, values in samples.items()}
    if sharex:
        everything = np.concatenate(list(arrays.values()))
        bins = np.linspace(everything.min(), everything.max(), bins + 1)
    for ax, (name, values) in zip(axes.flat, arrays.items()):
        style = PYTORCH if "torch" in name.lower() else TENSORFLOW
        ax.hist(values, bins=bins, color=style["color"], alpha=0.8)
        ax.set_title(name, fontsize=10)
        ax.grid(alpha=0.3)
    _finish(fig, title)


def plot_timings(panels: Mapping[str, Mapping[str, float]], unit: str = "ms", log: bool = False,
                 title: str | None = None) -> None:
    """Measured times as labelled horizontal bars, one panel per question (chapter 12).

    ``panels = {"first call": {"PyTorch eager": 3.1, "TensorFlow tf.function": 40.2}, "per step": {...}}``,
    every value in ``unit``. A bar takes PyTorch's colour when its label mentions "torch", else TensorFlow's,
    and carries its value as text. ``log=True`` puts each panel on a logarithmic axis (times that differ by
    orders of magnitude, such as a compilation and one step). Timings change from run to run: show them in a
    figure, never in a cell's text output (nbval compares text, not images)."""
    if not panels or any(not bars for bars in panels.values()):
        raise ValueError("plot_timings needs at least one panel, each with at least one bar")
    values = [v for bars in panels.values() for v in bars.values()]
    if any(not np.isfinite(v) or v < 0 or (log and v <= 0) for v in values):
        raise ValueError("timings are finite and non-negative (positive on a log axis)")
    height = max(len(bars) for bars in panels.values())
    fig, axes = plt.subplots(1, len(panels), figsize=(6.4 * len(panels), 0.45 * height + 1.3), squeeze=False)
    for ax, (name, bars) in zip(axes.flat, panels.items()):
        labels, times = list(bars), list(bars.values())
        colors = [(PYTORCH if "torch" in label.lower() else TENSORFLOW)["color"] for label in labels]
        ax.barh(range(len(labels)), times, color=colors, alpha=0.85)
        ax.set_yticks(range(len(labels)), labels)
        ax.invert_yaxis()
        if log:
            ax.set_xscale("log")
        for i, t in enumerate(times):
            ax.text(t, i, f" {t:.0f} {unit}" if t >= 100 else f" {t:.3g} {unit}", va="center", fontsize=8)
        ax.set_xlim(right=(max(times) * (8 if log else 1.35)) or 1)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel(unit)
        ax.grid(alpha=0.3, axis="x")
    _finish(fig, title)


def show_images(images, labels=None, cols: int = 10, title: str | None = None, cmap: str = "gray_r",
                size: float = 1.1) -> None:
    """A grid of small images with their labels as titles (chapter 06).

    ``images``: ``(n, h, w)``, channels-last ``(n, h, w, 1 or 3)`` (TensorFlow) or channels-first
    ``(n, 1 or 3, h, w)`` (PyTorch); a torch tensor, a TF tensor or NumPy. ``labels``: n values
    (numbers or text) or None. Grayscale images use ``cmap`` on one scale for the whole grid."""
    a = to_numpy(images)
    if a.ndim == 4 and a.shape[1] in (1, 3) and a.shape[-1] not in (1, 3):
        a = np.moveaxis(a, 1, -1)  # NCHW -> NHWC
    if a.ndim == 4 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim not in (3, 4):
        raise ValueError(f"show_images wants (n, h, w), (n, h, w, c) or (n, c, h, w) images, got shape {a.shape}")
    n = len(a)
    if labels is not None:
        labels = list(labels) if isinstance(labels, (list, tuple)) else list(to_numpy(labels).ravel())
    if labels is not None and len(labels) != n:
        raise ValueError(f"{n} images but {len(labels)} labels")
    cols = max(1, min(cols, n))
    rows = max(1, math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, (size + 0.25) * rows + (0.4 if title else 0)),
                             squeeze=False)
    low, high = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = a[i]
        if img.ndim == 3 and np.issubdtype(img.dtype, np.floating):
            img = np.clip(img, 0.0, 1.0)
        if img.ndim == 2:
            ax.imshow(img, cmap=cmap, vmin=low, vmax=max(high, low + 1e-12), interpolation="nearest")
        else:
            ax.imshow(img, interpolation="nearest")
        if labels is not None:
            ax.set_title(str(labels[i]), fontsize=9)
    _finish(fig, title)


def plot_runs(panels: Mapping[str, Mapping[str, Sequence[float]]], mark_step: int | None = None,
              mark_label: str = "resumed here", ylabel: str = "loss", xlabel: str = "step",
              title: str | None = None) -> None:
    """Training runs that should coincide, one panel each (e.g. one per framework).

    ``panels = {"PyTorch": {"straight": losses, "resumed": losses, ...}, "TensorFlow": {...}}``.
    In each panel the first run is a solid line, the second dots on top of it (where they agree,
    the dots sit on the line), any further run a dashed grey line. The colour follows the panel's
    name (PyTorch's when it mentions "torch", else TensorFlow's). ``mark_step`` draws a dotted
    vertical line at that step, e.g. where training was resumed from a checkpoint.
    Introduced in ``course/07_saving.ipynb``."""
    fig, axes = plt.subplots(1, len(panels), figsize=(4.6 * len(panels), 3.4), squeeze=False, sharey=True)
    for ax, (name, runs) in zip(axes.flat, panels.items()):
        color = (PYTORCH if "torch" in name.lower() else TENSORFLOW)["color"]
        for i, (label, values) in enumerate(runs.items()):
            y = to_numpy(values).ravel()
            if i == 0:
                ax.plot(np.arange(len(y)), y, lw=2, color=color, label=label)
            elif i == 1:
                ax.plot(np.arange(len(y)), y, "o", ms=4, mfc="white", color=color, label=label)
            else:
                ax.plot(np.arange(len(y)), y, "--", lw=1.5, color="0.45", label=label)
        if mark_step is not None:
            ax.axvline(mark_step, ls=":", color="0.3", lw=1, label=mark_label)
        ax.set_title(name)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    axes.flat[0].set_ylabel(ylabel)
    _finish(fig, title)


def confusion_matrix(matrices: Mapping[str, object], class_names: Sequence | None = None,
                     title: str | None = None) -> None:
    """Confusion matrices as annotated heat maps, one panel each (e.g. one per framework).

    ``matrices = {"PyTorch": counts, "TensorFlow": counts}``: square ``(k, k)`` matrices of counts
    (torch, TF or NumPy), row = true class, column = predicted class. Each cell shows its count; the
    colour follows the panel's name (PyTorch's when it mentions "torch", else TensorFlow's) and each
    panel's title adds how many predictions are correct (the diagonal) out of all. ``class_names``:
    k tick labels (default 0..k-1). It only draws: compute the matrices yourself.
    Introduced in ``course/09_capstone.ipynb``."""
    from matplotlib.colors import LinearSegmentedColormap

    arrays = {}
    for name, m in matrices.items():
        a = to_numpy(m)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"{name}: a confusion matrix is square (k, k), got shape {a.shape}")
        if a.size and (np.any(a < 0) or not np.array_equal(a, np.round(a))):
            raise ValueError(f"{name}: a confusion matrix holds counts (non-negative integers)")
        arrays[name] = a.astype(np.int64)
    if not arrays:
        raise ValueError("no confusion matrix to draw")
    k = next(iter(arrays.values())).shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(k))]
    if any(a.shape[0] != len(names) for a in arrays.values()):
        raise ValueError(f"{len(names)} class names for matrices of shapes {[a.shape for a in arrays.values()]}")
    size = max(3.2, 0.42 * k + 1.2)
    fig, axes = plt.subplots(1, len(arrays), figsize=(size * len(arrays), size), squeeze=False)
    for ax, (name, a) in zip(axes.flat, arrays.items()):
        color = (PYTORCH if "torch" in name.lower() else TENSORFLOW)["color"]
        cmap = LinearSegmentedColormap.from_list(f"counts_{color}", ["#FFFFFF", color])
        top = max(int(a.max()) if a.size else 0, 1)
        ax.imshow(a, cmap=cmap, vmin=0, vmax=top)
        for (i, j), v in np.ndenumerate(a):
            ax.text(j, i, str(v), ha="center", va="center", fontsize=8,
                    color="white" if v > top / 2 else "black")
        ax.set_xticks(range(k), names)
        ax.set_yticks(range(k), names)
        ax.set_xlabel("predicted class")
        ax.set_ylabel("true class")
        ax.set_title(f"{name}: {int(np.trace(a))}/{int(a.sum())} correct", fontsize=10)
    _finish(fig, title)
