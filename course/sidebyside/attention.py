"""Copy weights between PyTorch and Keras attention layers and transformer encoder blocks.

=====================  ======================================  ===========================================
layer                  PyTorch                                 Keras 3
=====================  ======================================  ===========================================
multi-head attention   ``in_proj_weight`` (3E, E): the rows    ``query/key/value`` ``kernel`` (E, heads,
                       of Wq, then Wk, then Wv; ``in_proj_``   head_dim) and ``bias`` (heads, head_dim):
                       ``bias`` (3E,); ``out_proj.weight``     one EinsumDense per projection;
                       (E, E), ``out_proj.bias`` (E,)          ``attention_output`` ``kernel`` (heads,
                                                               head_dim, E), ``bias`` (E,)
layer normalization    ``weight``, ``bias`` (E,), ``eps=1e-5`` ``gamma``, ``beta`` (E,), ``epsilon=1e-3``
=====================  ======================================  ===========================================

PyTorch computes ``q = x @ Wq.T + bq`` and splits the E columns of ``q`` into heads of
``head_dim = E // heads`` consecutive features; Keras computes ``einsum("btd,dnh->btnh", x, kernel)``.
So a Keras kernel is the transposed PyTorch block reshaped to (E, heads, head_dim), and the output
kernel is ``out_proj.weight.T`` reshaped to (heads, head_dim, E). Introduced in
``course/11_attention.ipynb``.

These are tools for the chapter: the assignment of chapter 11 asks you to write the attention port
yourself, and its tests check that you do not call them.
"""

from __future__ import annotations

import numpy as np

from .parity import to_numpy
from .porting import dense_to_linear, linear_to_dense

ENCODER_SUBLAYERS = ("self_attn", "linear1", "linear2", "norm1", "norm2")


def _mha_sizes(mha, keras_mha) -> tuple[int, int, int]:
    """(E, heads, head_dim) after checking that the two layers can hold the same weights."""
    if not getattr(mha, "_qkv_same_embed_dim", True) or getattr(mha, "in_proj_weight", None) is None:
        raise ValueError("only an nn.MultiheadAttention with kdim == vdim == embed_dim (one packed in_proj_weight)")
    if getattr(mha, "bias_k", None) is not None or getattr(mha, "add_zero_attn", False):
        raise ValueError("add_bias_kv and add_zero_attn have no Keras counterpart")
    if not keras_mha.built:
        raise ValueError("build the MultiHeadAttention layer first (call it once)")
    e, heads, head_dim = mha.embed_dim, mha.num_heads, mha.head_dim
    q_kernel = tuple(keras_mha.query_dense.kernel.shape)
    if q_kernel != (e, heads, head_dim):
        raise ValueError(f"query kernel {q_kernel} does not fit embed_dim={e}, num_heads={heads} "
                         f"(expected {(e, heads, head_dim)}: key_dim = embed_dim // num_heads)")
    if tuple(keras_mha.output_dense.kernel.shape) != (heads, head_dim, e):
        raise ValueError(f"output kernel {tuple(keras_mha.output_dense.kernel.shape)} does not fit "
                         f"{(heads, head_dim, e)} (value_dim and output_shape must be the defaults)")
    has_bias = mha.in_proj_bias is not None
    if keras_mha.query_dense.bias is None if has_bias else keras_mha.query_dense.bias is not None:
        raise ValueError("one layer has biases and the other has none (bias= vs use_bias=)")
    return e, heads, head_dim


def _keras_projections(keras_mha):
    return (keras_mha.query_dense, keras_mha.key_dense, keras_mha.value_dense)


def mha_to_keras(mha, keras_mha) -> None:
    """Copy a ``torch.nn.MultiheadAttention`` into a built ``keras.layers.MultiHeadAttention`` with
    ``num_heads=mha.num_heads`` and ``key_dim=mha.head_dim`` (``batch_first`` does not change the
    weights)."""
    e, heads, head_dim = _mha_sizes(mha, keras_mha)
    weights = to_numpy(mha.in_proj_weight)                       # (3E, E): Wq; Wk; Wv, each (out, in)
    biases = to_numpy(mha.in_proj_bias) if mha.in_proj_bias is not None else None
    for i, dense in enumerate(_keras_projections(keras_mha)):
        dense.kernel.assign(weights[i * e:(i + 1) * e].T.reshape(e, heads, head_dim))
        if biases is not None:
            dense.bias.assign(biases[i * e:(i + 1) * e].reshape(heads, head_dim))
    out = keras_mha.output_dense
    out.kernel.assign(to_numpy(mha.out_proj.weight).T.reshape(heads, head_dim, e))
    if mha.out_proj.bias is not None:
        out.bias.assign(to_numpy(mha.out_proj.bias))


def mha_to_torch(keras_mha, mha) -> None:
    """Copy a built ``keras.layers.MultiHeadAttention`` into a ``torch.nn.MultiheadAttention`` of
    the same size (the reverse of :func:`mha_to_keras`)."""
    import torch

    e, heads, head_dim = _mha_sizes(mha, keras_mha)
    projections = _keras_projections(keras_mha)
    weight = np.concatenate([to_numpy(d.kernel).reshape(e, e).T for d in projections])
    with torch.no_grad():
        mha.in_proj_weight.copy_(torch.from_numpy(np.ascontiguousarray(weight)))
        if mha.in_proj_bias is not None:
            mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([to_numpy(d.bias).reshape(e) for d in projections])))
        out = keras_mha.output_dense
        mha.out_proj.weight.copy_(torch.from_numpy(np.ascontiguousarray(to_numpy(out.kernel).reshape(e, e).T)))
        if mha.out_proj.bias is not None:
            mha.out_proj.bias.copy_(torch.from_numpy(to_numpy(out.bias)))


def _check_layernorm(ln, keras_ln) -> None:
    if not np.isclose(ln.eps, keras_ln.epsilon, rtol=1e-6, atol=0):
        raise ValueError(f"epsilon differs: PyTorch eps={ln.eps:g}, Keras epsilon={keras_ln.epsilon:g} "
                         "(the defaults are 1e-5 and 1e-3: pass one explicitly)")
    if ln.weight is None or not (keras_ln.scale and keras_ln.center):
        raise ValueError("only LayerNorms with a scale and a shift (elementwise_affine=True, center=scale=True)")


def layernorm_to_keras(ln, keras_ln) -> None:
    """Copy a ``torch.nn.LayerNorm`` over the last axis into a built
    ``keras.layers.LayerNormalization``: weight/bias -> gamma/beta. Raises if the epsilons differ."""
    if not keras_ln.built:
        raise ValueError("build the LayerNormalization layer first")
    _check_layernorm(ln, keras_ln)
    keras_ln.gamma.assign(to_numpy(ln.weight))
    keras_ln.beta.assign(to_numpy(ln.bias))


def layernorm_to_torch(keras_ln, ln) -> None:
    """Copy a built ``keras.layers.LayerNormalization`` into a ``torch.nn.LayerNorm``."""
    import torch

    _check_layernorm(ln, keras_ln)
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(to_numpy(keras_ln.gamma)))
        ln.bias.copy_(torch.from_numpy(to_numpy(keras_ln.beta)))


def _sublayers(block) -> dict:
    missing = [n for n in ENCODER_SUBLAYERS if not hasattr(block, n)]
    if missing:
        raise ValueError(f"the Keras block needs the sublayers {ENCODER_SUBLAYERS} (as nn.TransformerEncoderLayer "
                         f"names them); missing {missing}")
    return {n: getattr(block, n) for n in ENCODER_SUBLAYERS}


def encoder_layer_to_keras(layer, block) -> None:
    """Copy an ``nn.TransformerEncoderLayer`` into a built Keras block that has the same five
    sublayers under the same names: ``self_attn`` (MultiHeadAttention), ``linear1`` and ``linear2``
    (Dense), ``norm1`` and ``norm2`` (LayerNormalization). The weights only: the block must itself
    compute like the layer (``norm_first``, activation, epsilon: the epsilons are checked)."""
    keras_parts = _sublayers(block)
    mha_to_keras(layer.self_attn, keras_parts["self_attn"])
    linear_to_dense(layer.linear1, keras_parts["linear1"])
    linear_to_dense(layer.linear2, keras_parts["linear2"])
    layernorm_to_keras(layer.norm1, keras_parts["norm1"])
    layernorm_to_keras(layer.norm2, keras_parts["norm2"])


def encoder_layer_to_torch(block, layer) -> None:
    """Copy a built Keras block (sublayers as in :func:`encoder_layer_to_keras`) into an
    ``nn.TransformerEncoderLayer``."""
    keras_parts = _sublayers(block)
    mha_to_torch(keras_parts["self_attn"], layer.self_attn)
    dense_to_linear(keras_parts["linear1"], layer.linear1)
    dense_to_linear(keras_parts["linear2"], layer.linear2)
    layernorm_to_torch(keras_parts["norm1"], layer.norm1)
    layernorm_to_torch(keras_parts["norm2"], layer.norm2)
