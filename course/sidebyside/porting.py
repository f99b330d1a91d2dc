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


def conv2d_to_keras(conv, keras_conv) -> None:
    """Copy a ``torch.nn.Conv2d`` (weight OIHW: out, in, height, width) into a built
    ``keras.layers.Conv2D`` (kernel HWIO: height, width, in, out). Introduced in
    ``course/03_models.ipynb``."""
    if not keras_conv.built:
        raise ValueError("build the Conv2D layer first (call it once, or give the model an Input)")
    k = to_numpy(conv.weight).transpose(2, 3, 1, 0)
    _check("Conv2d.weight (OIHW) -> Conv2D.kernel (HWIO)", k.shape, keras_conv.kernel.shape)
    if keras_conv.use_bias != (conv.bias is not None):
        raise ValueError("one layer has a bias and the other has none")
    keras_conv.kernel.assign(k)
    if conv.bias is not None:
        keras_conv.bias.assign(to_numpy(conv.bias))


def conv2d_to_torch(keras_conv, conv) -> None:
    """Copy a built ``keras.layers.Conv2D`` (HWIO) into a ``torch.nn.Conv2d`` (OIHW)."""
    import torch

    w = np.ascontiguousarray(to_numpy(keras_conv.kernel).transpose(3, 2, 0, 1))
    _check("Conv2D.kernel (HWIO) -> Conv2d.weight (OIHW)", w.shape, conv.weight.shape)
    if keras_conv.use_bias != (conv.bias is not None):
        raise ValueError("one layer has a bias and the other has none")
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        if conv.bias is not None:
            conv.bias.copy_(torch.from_numpy(to_numpy(keras_conv.bias)))


_BN_PAIRS = (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
             ("running_var", "moving_variance"))


def _check_bn_config(bn, keras_bn) -> None:
    if not np.isclose(bn.eps, keras_bn.epsilon, rtol=1e-6, atol=0):
        raise ValueError(f"epsilon differs: PyTorch eps={bn.eps:g}, Keras epsilon={keras_bn.epsilon:g}")
    if bn.momentum is not None and not np.isclose(bn.momentum, 1 - keras_bn.momentum, atol=1e-9):
        raise ValueError(
            f"momentum conventions do not match: PyTorch momentum={bn.momentum:g} needs Keras "
            f"momentum={1 - bn.momentum:g} (Keras keeps that share of the old statistic), got {keras_bn.momentum:g}")


def batchnorm_to_keras(bn, keras_bn) -> None:
    """Copy a ``torch.nn.BatchNorm{1,2}d`` (affine, with running stats) into a built
    ``keras.layers.BatchNormalization``: weight/bias -> gamma/beta, running_mean/var ->
    moving_mean/variance. Raises if epsilon or momentum would make the layers compute
    differently. Introduced in ``course/04_layers.ipynb``."""
    if not keras_bn.built:
        raise ValueError("build the BatchNormalization layer first")
    _check_bn_config(bn, keras_bn)
    for t_name, k_name in _BN_PAIRS:
        getattr(keras_bn, k_name).assign(to_numpy(getattr(bn, t_name)))


def batchnorm_to_torch(keras_bn, bn) -> None:
    """Copy a built ``keras.layers.BatchNormalization`` into a ``torch.nn.BatchNorm{1,2}d``."""
    import torch

    _check_bn_config(bn, keras_bn)
    with torch.no_grad():
        for t_name, k_name in _BN_PAIRS:
            getattr(bn, t_name).copy_(torch.from_numpy(to_numpy(getattr(keras_bn, k_name))))
