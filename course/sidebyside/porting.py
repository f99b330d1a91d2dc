"""Copy weights between PyTorch and Keras layers.

The same seed never gives the same weights in both frameworks, so parity checks start from
weights created once and copied. Layouts differ:

=================  ==========================  ==========================
layer              PyTorch                     Keras 3
=================  ==========================  ==========================
Linear / Dense     ``weight``: (out, in)       ``kernel``: (in, out)
=================  ==========================  ==========================

Keras computes ``x @ kernel + bias``; PyTorch computes ``x @ weight.T + bias``: the kernel is
the transposed weight. Introduced in ``course/03_models.ipynb`` (Linear/Dense and Conv2d/Conv2D)
and ``course/04_layers.ipynb`` (BatchNorm).
"""

from __future__ import annotations

import numpy as np

from .parity import to_numpy


def _check(name: str, got: tuple, want: tuple) -> None:
    if tuple(got) != tuple(want):
        raise ValueError(f"{name}: shape {tuple(got)} does not fit {tuple(want)}")


def _into_keras(torch_layer, keras_layer, weight: np.ndarray, what: str) -> None:
    if not keras_layer.built:
        raise ValueError(f"build the {type(keras_layer).__name__} layer first (call it once, or give the model an Input)")
    _check(what, weight.shape, keras_layer.kernel.shape)
    if keras_layer.use_bias != (torch_layer.bias is not None):
        raise ValueError("one layer has a bias and the other has none")
    keras_layer.kernel.assign(weight)
    if torch_layer.bias is not None:
        keras_layer.bias.assign(to_numpy(torch_layer.bias))


def _into_torch(keras_layer, torch_layer, weight: np.ndarray, what: str) -> None:
    import torch

    weight = np.ascontiguousarray(weight)
    _check(what, weight.shape, torch_layer.weight.shape)
    if keras_layer.use_bias != (torch_layer.bias is not None):
        raise ValueError("one layer has a bias and the other has none")
    with torch.no_grad():
        torch_layer.weight.copy_(torch.from_numpy(weight))
        if torch_layer.bias is not None:
            torch_layer.bias.copy_(torch.from_numpy(to_numpy(keras_layer.bias)))


def linear_to_dense(linear, dense) -> None:
    """Copy a ``torch.nn.Linear``'s weight and bias into a built ``keras.layers.Dense``."""
    _into_keras(linear, dense, to_numpy(linear.weight).T, "Linear.weight.T -> Dense.kernel")


def dense_to_linear(dense, linear) -> None:
    """Copy a built ``keras.layers.Dense``'s kernel and bias into a ``torch.nn.Linear``."""
    _into_torch(dense, linear, to_numpy(dense.kernel).T, "Dense.kernel.T -> Linear.weight")


def conv2d_to_keras(conv, keras_conv) -> None:
    """Copy a ``torch.nn.Conv2d`` (weight OIHW: out, in, height, width) into a built
    ``keras.layers.Conv2D`` (kernel HWIO: height, width, in, out). Introduced in
    ``course/03_models.ipynb``."""
    _into_keras(conv, keras_conv, to_numpy(conv.weight).transpose(2, 3, 1, 0),
                "Conv2d.weight (OIHW) -> Conv2D.kernel (HWIO)")


def conv2d_to_torch(keras_conv, conv) -> None:
    """Copy a built ``keras.layers.Conv2D`` (HWIO) into a ``torch.nn.Conv2d`` (OIHW)."""
    _into_torch(keras_conv, conv, to_numpy(keras_conv.kernel).transpose(3, 2, 0, 1),
                "Conv2D.kernel (HWIO) -> Conv2d.weight (OIHW)")


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
