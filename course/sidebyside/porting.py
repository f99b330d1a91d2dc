"""Copy weights between PyTorch and Keras layers.

The same seed never gives the same weights in both frameworks, so parity checks start from
weights created once and copied. Layouts differ:

=================  ==========================  ==========================
layer              PyTorch                     Keras 3
=================  ==========================  ==========================
Linear / Dense     ``weight``: (out, in)       ``kernel``: (in, out)
=================  ==========================  ==========================

Keras computes ``x @ kernel + bias``; PyTorch computes ``x @ weight.T + bias``: the kernel is
the transposed weight. Introduced in ``course/01_tensors.ipynb``.
"""

from __future__ import annotations

import numpy as np

from .parity import to_numpy


def _check(name: str, got: tuple, want: tuple) -> None:
    if tuple(got) != tuple(want):
        raise ValueError(f"{name}: shape {tuple(got)} does not fit {tuple(want)}")


def linear_to_dense(linear, dense) -> None:
    """Copy a ``torch.nn.Linear``'s weight and bias into a built ``keras.layers.Dense``."""
    if not dense.built:
        raise ValueError("build the Dense layer first (call it once, or give the model an Input)")
    w = to_numpy(linear.weight).T
    _check("Linear.weight.T -> Dense.kernel", w.shape, dense.kernel.shape)
    dense.kernel.assign(w)
    if dense.use_bias != (linear.bias is not None):
        raise ValueError("one layer has a bias and the other has none")
    if linear.bias is not None:
        dense.bias.assign(to_numpy(linear.bias))


def dense_to_linear(dense, linear) -> None:
    """Copy a built ``keras.layers.Dense``'s kernel and bias into a ``torch.nn.Linear``."""
    import torch

    k = np.ascontiguousarray(to_numpy(dense.kernel).T)
    _check("Dense.kernel.T -> Linear.weight", k.shape, linear.weight.shape)
    if dense.use_bias != (linear.bias is not None):
        raise ValueError("one layer has a bias and the other has none")
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(k))
        if linear.bias is not None:
            linear.bias.copy_(torch.from_numpy(to_numpy(dense.bias)))
