"""Unit tests of the attention and transformer porting helpers (sidebyside/attention.py, chapter 11)."""

from __future__ import annotations

import numpy as np
import pytest

import sidebyside as sbs  # noqa: I001  (before the frameworks, as in the notebooks)
import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

E, HEADS = 8, 2


def _inputs(seed, shape=(3, 5, E)):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _torch_mha(seed, bias=True):
    torch.manual_seed(seed)
    mha = nn.MultiheadAttention(E, HEADS, batch_first=True, bias=bias)
    with torch.no_grad():  # non-zero biases, so that a misplaced bias shows
        for p in mha.parameters():
            p.uniform_(-0.5, 0.5)
    return mha.eval()


def _keras_mha(seed=None, use_bias=True):
    layer = keras.layers.MultiHeadAttention(num_heads=HEADS, key_dim=E // HEADS, use_bias=use_bias, seed=seed)
    layer(_inputs(9), _inputs(9))
    return layer


def _torch_out(mha, x, mask=None):
    with torch.no_grad():
        out, weights = mha(*[torch.from_numpy(x)] * 3, attn_mask=mask, average_attn_weights=False)
    return sbs.to_numpy(out), sbs.to_numpy(weights)


@pytest.mark.parametrize("bias", [True, False])
def test_mha_to_keras_gives_the_same_outputs_and_attention_weights(bias):
    mha, layer, x = _torch_mha(0, bias), _keras_mha(use_bias=bias), _inputs(1)
    sbs.mha_to_keras(mha, layer)
    out_tf, scores_tf = layer(x, x, return_attention_scores=True)
    out_pt, scores_pt = _torch_out(mha, x)
    sbs.assert_parity(out_tf, out_pt, atol=1e-5, name="output")
    sbs.assert_parity(scores_tf, scores_pt, atol=1e-6, name="per-head attention weights")


def test_mha_round_trip_restores_every_weight_and_masks_agree():
    original, layer, back = _torch_mha(1), _keras_mha(), _torch_mha(2)
    sbs.mha_to_keras(original, layer)
    sbs.mha_to_torch(layer, back)
    for (name, p), q in zip(original.named_parameters(), back.parameters()):
        sbs.assert_parity(q, p, rtol=0, atol=0, name=name)
    x = _inputs(3)
    causal = np.tril(np.ones((5, 5), bool))                       # True = may attend (Keras)
    out_tf = layer(x, x, attention_mask=causal[None])
    out_pt, _ = _torch_out(back, x, mask=torch.from_numpy(~causal))  # True = may NOT attend (PyTorch)
    sbs.assert_parity(out_tf, out_pt, atol=1e-5, name="causal output")


def test_keras_to_torch_direction_with_keras_initial_weights():
    layer = _keras_mha(seed=4)
    for w in layer.weights:
        w.assign(np.random.default_rng(5).uniform(-0.5, 0.5, size=w.shape).astype(np.float32))
    mha = _torch_mha(0)
    sbs.mha_to_torch(layer, mha)
    x = _inputs(6)
    sbs.assert_parity(_torch_out(mha, x)[0], layer(x, x), atol=1e-5, name="output")


def test_mha_helpers_refuse_layers_that_cannot_match():
    with pytest.raises(ValueError, match="build"):
        sbs.mha_to_keras(_torch_mha(0), keras.layers.MultiHeadAttention(HEADS, E // HEADS))
    wrong_heads = keras.layers.MultiHeadAttention(num_heads=4, key_dim=E // HEADS)
    wrong_heads(_inputs(0), _inputs(0))
    with pytest.raises(ValueError, match="does not fit"):
        sbs.mha_to_keras(_torch_mha(0), wrong_heads)
    with pytest.raises(ValueError, match="biases"):
        sbs.mha_to_keras(_torch_mha(0, bias=True), _keras_mha(use_bias=False))
    with pytest.raises(ValueError, match="packed"):
        sbs.mha_to_keras(nn.MultiheadAttention(E, HEADS, kdim=4, vdim=4), _keras_mha())
    with pytest.raises(ValueError, match="no Keras counterpart"):
        sbs.mha_to_keras(nn.MultiheadAttention(E, HEADS, add_bias_kv=True), _keras_mha())


def test_layernorm_helpers_copy_both_ways_and_refuse_different_epsilons():
    ln = nn.LayerNorm(E, eps=1e-3)
    with torch.no_grad():
        ln.weight.uniform_(0.5, 1.5), ln.bias.uniform_(-1, 1)
    keras_ln = keras.layers.LayerNormalization(epsilon=1e-3)
    keras_ln.build((None, E))
    sbs.layernorm_to_keras(ln, keras_ln)
    x = _inputs(7, (4, E)) * 0.01                                       # small variance: epsilon matters
    sbs.assert_parity(keras_ln(x), ln(torch.from_numpy(x)), atol=1e-5, name="layer norm")
    back = nn.LayerNorm(E, eps=1e-3)
    sbs.layernorm_to_torch(keras_ln, back)
    sbs.assert_parity(back.weight, ln.weight, rtol=0, atol=0, name="gamma back")
    with pytest.raises(ValueError, match="epsilon differs"):
        sbs.layernorm_to_keras(nn.LayerNorm(E), keras_ln)                  # 1e-5 vs 1e-3
    with pytest.raises(ValueError, match="epsilon differs"):
        sbs.layernorm_to_torch(keras_ln, nn.LayerNorm(E))


class _Block(keras.layers.Layer):
    """A pre-norm encoder block with nn.TransformerEncoderLayer's sublayer names."""

    def __init__(self, d, heads, ff, eps, **kwargs):
        super().__init__(**kwargs)
        self.self_attn = keras.layers.MultiHeadAttention(heads, d // heads)
        self.linear1, self.linear2 = keras.layers.Dense(ff, activation="gelu"), keras.layers.Dense(d)
        self.norm1, self.norm2 = (keras.layers.LayerNormalization(epsilon=eps) for _ in range(2))

    def call(self, x):
        h = self.norm1(x)
        x = x + self.self_attn(h, h)
        return x + self.linear2(self.linear1(self.norm2(x)))


def test_encoder_layer_helpers_port_a_pre_norm_block_both_ways():
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, activation="gelu", batch_first=True,
                                       norm_first=True).eval()
    block = _Block(E, HEADS, 16, eps=1e-5)
    x = _inputs(8)
    block(x)
    sbs.encoder_layer_to_keras(layer, block)
    with torch.no_grad():
        out_pt = layer(torch.from_numpy(x))
    sbs.assert_parity(block(x), out_pt, atol=1e-5, name="block output")
    twin = nn.TransformerEncoderLayer(E, HEADS, 16, dropout=0.0, activation="gelu", batch_first=True,
                                      norm_first=True).eval()
    sbs.encoder_layer_to_torch(block, twin)
    with torch.no_grad():
        sbs.assert_parity(twin(torch.from_numpy(x)), out_pt, atol=1e-6, name="round trip")
    with pytest.raises(ValueError, match="epsilon differs"):
        default_eps = _Block(E, HEADS, 16, eps=1e-3)
        default_eps(x)
        sbs.encoder_layer_to_keras(layer, default_eps)
    with pytest.raises(ValueError, match="sublayers"):
        sbs.encoder_layer_to_keras(layer, keras.layers.Dense(3))


def test_the_shipped_text_is_small_ascii_and_documented():
    from sidebyside import data

    text = data.load_text()
    assert 2000 < len(text) < 10000 and text.isascii() and text.startswith("Alice was beginning")
    assert 40 <= len(set(text)) <= 80                                    # a small character vocabulary
    assert "public domain" in (data.TEXT_DIR / "README.md").read_text() and "gutenberg.org" in \
        (data.TEXT_DIR / "README.md").read_text()
