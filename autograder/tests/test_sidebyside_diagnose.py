"""Unit tests of sbs.diagnose, the layer-by-layer parity debugger: every bug it names is named on a
deliberately broken port, and the correct port of the same model reports no divergence."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import sidebyside as sbs  # before the frameworks, as in the notebooks

dg = sys.modules["sidebyside.diagnose"]   # the module (sbs.diagnose is the function): the bug names

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

RNG = np.random.default_rng(0)


def data(*shape, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def assert_named(report, bug, at, confirmed=True):
    """The first divergence is at row ``at`` and the first suspect is ``bug``."""
    assert report.first_divergence == at, str(report)
    assert report.suspects[0].bug == bug, str(report)
    assert report.suspects[0].confirmed is confirmed, str(report)
    assert report.checked and report.max_abs_error > 0
    text = str(report)
    assert bug in text and f"first divergence at #{at}" in text


def assert_no_divergence(report):
    assert report.ok and report.first_divergence is None and report.suspects == [], str(report)
    assert "✓ every layer matches: no divergence" in str(report)


# --- Dense / Linear -----------------------------------------------------------------------------------

def mlp_pair(use_bias=True, activation="relu"):
    torch.manual_seed(0)
    pt = nn.Sequential(nn.Linear(4, 4), nn.ReLU() if activation == "relu" else nn.GELU(), nn.Linear(4, 3))
    tf = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation=activation, name="d1"),
                           keras.layers.Dense(3, use_bias=use_bias, name="d2")])
    sbs.linear_to_dense(pt[0], tf.layers[0])
    if use_bias:
        sbs.linear_to_dense(pt[2], tf.layers[1])
    else:
        tf.layers[1].kernel.assign(pt[2].weight.detach().numpy().T)
    return pt.eval(), tf


def test_correct_mlp_port_reports_no_divergence_and_a_stable_table():
    pt, tf = mlp_pair()
    report = sbs.diagnose(pt, tf, data(5, 4))
    assert_no_divergence(report)
    assert [r.keras_name for r in report.rows] == ["d1", "d1.activation", "d2"]
    assert [r.torch_type for r in report.rows] == ["Linear", "ReLU", "Linear"]
    assert not any("e-" in line for line in str(report).splitlines()[1:])   # no rounding-noise numbers


def test_transposed_dense_kernel_is_named():
    pt, tf = mlp_pair()
    tf.layers[0].kernel.assign(pt[0].weight.detach().numpy())     # square layer: no shape error
    assert_named(sbs.diagnose(pt, tf, data(5, 4)), dg.TRANSPOSED_KERNEL, at=0)


def test_missing_bias_is_named():
    pt, tf = mlp_pair(use_bias=False)
    with torch.no_grad():
        pt[2].bias.fill_(0.5)
    assert_named(sbs.diagnose(pt, tf, data(5, 4)), dg.MISSING_BIAS, at=2)


def test_gelu_exact_vs_tanh_approximation_is_named():
    pt, tf = mlp_pair(activation="gelu")                     # Keras's "gelu" is exact, as nn.GELU()
    x = data(64, 4, scale=2.0)
    assert_no_divergence(sbs.diagnose(pt, tf, x))
    tf.layers[0].activation = keras.ops.gelu                 # keras.ops.gelu defaults to the tanh form
    report = sbs.diagnose(pt, tf, x)
    assert_named(report, dg.GELU_APPROXIMATION, at=1)
    assert "approximate='none'" in report.suspects[0].evidence
    assert "nn.GELU(approximate='tanh')" in report.suspects[0].fix and "approximate=False" in report.suspects[0].fix


def test_a_different_activation_is_named():
    pt, tf = mlp_pair()
    tf.layers[0].activation = keras.activations.tanh
    report = sbs.diagnose(pt, tf, data(8, 4))
    assert_named(report, dg.ACTIVATION, at=1)
    assert "relu" in report.suspects[0].evidence and "tanh" in report.suspects[0].evidence


# --- convolutions ---------------------------------------------------------------------------------------

def cnn_pair(fix_flatten=True):
    torch.manual_seed(0)
    pt = nn.Sequential(nn.Conv2d(2, 3, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 5)).eval()
    tf = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.Conv2D(3, 3, padding="same", activation="relu"),
                           keras.layers.Flatten(), keras.layers.Dense(5)])
    conv, dense = tf.layers[0], tf.layers[2]
    sbs.conv2d_to_keras(pt[0], conv)
    w = pt[3].weight.detach().numpy()
    if fix_flatten:
        w = w.reshape(5, 3, 4, 4).transpose(0, 2, 3, 1).reshape(5, -1)
    dense.kernel.assign(w.T)
    dense.bias.assign(pt[3].bias.detach().numpy())
    return pt, tf


def test_flatten_order_is_named_and_the_fixed_port_matches():
    x = data(2, 2, 4, 4)
    pt, tf = cnn_pair(fix_flatten=False)
    report = sbs.diagnose(pt, tf, x)                     # x is NCHW; Keras gets it channels-last
    assert_named(report, dg.FLATTEN_ORDER, at=3)
    assert report.rows[2].layout == "flattened C,H,W -> H,W,C" and report.rows[0].layout == "channels last"
    assert_no_divergence(sbs.diagnose(*cnn_pair(fix_flatten=True), x))


def test_channel_order_of_a_conv_kernel_is_named():
    torch.manual_seed(0)
    pt = nn.Conv2d(3, 3, 3, padding=1).eval()
    tf = keras.layers.Conv2D(3, 3, padding="same")
    tf.build((None, 5, 5, 3))
    sbs.conv2d_to_keras(pt, tf)
    x = data(2, 3, 5, 5)
    assert_no_divergence(sbs.diagnose(pt, tf, x))
    tf.kernel.assign(pt.weight.detach().numpy().transpose(2, 3, 0, 1))   # in and out channels swapped
    report = sbs.diagnose(pt, tf, x)
    assert_named(report, dg.CHANNEL_ORDER, at=0)
    assert "(2, 3, 0, 1)" in report.suspects[0].evidence


def test_an_input_reshaped_instead_of_transposed_is_named_channel_order():
    torch.manual_seed(0)
    pt = nn.Conv2d(3, 2, 3, padding=1).eval()
    tf = keras.layers.Conv2D(2, 3, padding="same")
    tf.build((None, 5, 5, 3))
    sbs.conv2d_to_keras(pt, tf)
    x = data(2, 3, 5, 5)
    report = sbs.diagnose(pt, tf, x, keras_x=x.reshape(2, 5, 5, 3))
    assert_named(report, dg.CHANNEL_ORDER, at=0)
    assert dg.INPUTS_DIFFER in report.bugs


def test_asymmetric_same_padding_is_named():
    torch.manual_seed(0)
    pt = nn.Conv2d(2, 3, 3, stride=2, padding=1).eval()
    tf = keras.layers.Conv2D(3, 3, strides=2, padding="same")
    tf.build((None, None, None, 2))
    sbs.conv2d_to_keras(pt, tf)
    report = sbs.diagnose(pt, tf, data(2, 2, 8, 8))          # even input: TensorFlow pads (0, 1)
    assert_named(report, dg.SAME_PADDING, at=0)
    assert "(0, 1)" in report.suspects[0].evidence
    assert_no_divergence(sbs.diagnose(pt, tf, data(2, 2, 7, 7)))   # odd input: (1, 1), the same


# --- BatchNorm, dropout, modes ----------------------------------------------------------------------------

def bn_pair(momentum=0.9, epsilon=1e-5, copy_stats=True):
    torch.manual_seed(0)
    pt = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4))
    tf = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4),
                           keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)])
    sbs.linear_to_dense(pt[0], tf.layers[0])
    with torch.no_grad():
        pt[1].running_mean.copy_(torch.tensor([0.1, -0.2, 0.3, 0.0]))
        pt[1].running_var.copy_(torch.tensor([0.01, 0.02, 0.05, 0.03]))
        pt[1].weight.copy_(torch.tensor([1.0, 2.0, 0.5, 1.5]))
    bn = tf.layers[1]
    for t_name, k_name in dg_bn_pairs():
        getattr(bn, k_name).assign(getattr(pt[1], t_name).detach().numpy())
    return pt, tf


def dg_bn_pairs():
    return [("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"), ("running_var", "moving_variance")]


def test_correct_batchnorm_port_reports_no_divergence():
    pt, tf = bn_pair()
    assert_no_divergence(sbs.diagnose(pt.eval(), tf, data(8, 4)))


def test_batchnorm_epsilon_is_named():
    pt, tf = bn_pair(epsilon=1e-3)                         # Keras's default epsilon
    report = sbs.diagnose(pt.eval(), tf, data(8, 4))
    assert_named(report, dg.BN_EPSILON, at=1)
    assert "eps=1e-05" in report.suspects[0].evidence and "epsilon=0.001" in report.suspects[0].evidence


def test_batchnorm_momentum_not_converted_is_named_from_a_training_step_and_the_models_are_restored():
    pt, tf = bn_pair(momentum=0.1)                         # PyTorch's 0.1 copied as is
    before_pt = pt[1].running_mean.clone()
    before_tf = tf.layers[1].moving_mean.numpy().copy()
    report = sbs.diagnose(pt.train(), tf, data(16, 4), training=True)
    assert_named(report, dg.MOMENTUM, at=1)
    assert report.rows[1].note == "running statistics differ"
    assert "momentum=0.9" in report.suspects[0].fix
    assert torch.equal(pt[1].running_mean, before_pt)       # diagnose leaves both models as it found them
    np.testing.assert_array_equal(tf.layers[1].moving_mean.numpy(), before_tf)


def test_unbiased_running_variance_is_named():
    pt, tf = bn_pair()
    report = sbs.diagnose(pt.train(), tf, data(6, 4), training=True)
    assert_named(report, dg.UNBIASED_VARIANCE, at=1)
    assert "n=6" in report.suspects[0].evidence
    for _ in range(2):                                       # after training steps, seen in inference mode
        batch = data(6, 4)
        pt(torch.from_numpy(batch))
        tf(batch, training=True)
    assert_named(sbs.diagnose(pt.eval(), tf, data(6, 4)), dg.UNBIASED_VARIANCE, at=1, confirmed=False)


def test_batchnorm_left_in_training_mode_is_named():
    pt, tf = bn_pair()
    report = sbs.diagnose(pt.train(), tf, data(8, 4))       # Keras infers (training=False)
    assert_named(report, dg.TRAINING_MODE, at=1)


def test_dropout_active_on_one_side_is_named_and_on_both_sides_too():
    torch.manual_seed(0)
    pt = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5))
    tf = keras.Sequential([keras.Input((4,)), keras.layers.Dense(6), keras.layers.Dropout(0.5)])
    sbs.linear_to_dense(pt[0], tf.layers[0])
    x = data(8, 4)
    assert_named(sbs.diagnose(pt.train(), tf, x), dg.TRAINING_MODE, at=1)
    both = sbs.diagnose(pt.train(), tf, x, training=True)
    assert both.first_divergence == 1 and both.suspects[0].bug == dg.DROPOUT_ACTIVE
    assert_no_divergence(sbs.diagnose(pt.eval(), tf, x))


def test_layernorm_epsilon_is_named():
    torch.manual_seed(0)
    pt = nn.LayerNorm(8).eval()
    tf = keras.layers.LayerNormalization()                 # epsilon=1e-3 by default
    tf.build((None, 8))
    x = data(4, 8, scale=0.05)
    report = sbs.diagnose(pt, tf, x)
    assert_named(report, dg.LN_EPSILON, at=0)
    tf.epsilon = 1e-5
    assert_no_divergence(sbs.diagnose(pt, tf, x))


# --- recurrent layers --------------------------------------------------------------------------------------

def blocks(a, order):
    parts = np.split(a, len(order), axis=-1)
    return np.concatenate([parts[i] for i in order], axis=-1)


def lstm_pair(order=(0, 1, 2, 3), sum_biases=True):
    torch.manual_seed(0)
    pt = nn.LSTM(3, 4, batch_first=True)
    tf = keras.layers.LSTM(4, return_sequences=True)
    tf.build((None, 5, 3))
    w_ih, w_hh = pt.weight_ih_l0.detach().numpy().T, pt.weight_hh_l0.detach().numpy().T
    b = pt.bias_ih_l0.detach().numpy() + (pt.bias_hh_l0.detach().numpy() if sum_biases else 0)
    tf.set_weights([blocks(w_ih, order), blocks(w_hh, order), blocks(b, order)])
    return pt, tf


def test_lstm_gate_order_and_missing_bias_are_named_and_the_correct_port_matches():
    x = data(2, 5, 3)
    assert_no_divergence(sbs.diagnose(*lstm_pair(), x))      # i, f, g, o is Keras's i, f, c, o
    report = sbs.diagnose(*lstm_pair(order=(0, 2, 1, 3)), x)
    assert_named(report, dg.LSTM_GATE_ORDER, at=0)
    assert "(i, g, f, o)" in report.suspects[0].evidence
    report = sbs.diagnose(*lstm_pair(sum_biases=False), x)
    assert_named(report, dg.MISSING_BIAS, at=0)
    assert "summed" in report.suspects[0].evidence


def test_lstm_batch_first_is_named_and_a_keras_lstm_without_sequences_compares_at_the_last_step():
    torch.manual_seed(0)
    pt = nn.LSTM(3, 4)                                      # batch_first=False: (T, N, F)
    tf = keras.layers.LSTM(4, return_sequences=True)
    tf.build((None, 5, 3))
    tf.set_weights([pt.weight_ih_l0.detach().numpy().T, pt.weight_hh_l0.detach().numpy().T,
                    (pt.bias_ih_l0 + pt.bias_hh_l0).detach().numpy()])
    x = data(2, 5, 3)
    assert_named(sbs.diagnose(pt, tf, x), dg.BATCH_FIRST, at=0)
    report = sbs.diagnose(pt, tf, x.transpose(1, 0, 2), keras_x=x)
    assert_no_divergence(report)
    assert report.rows[0].layout == "time-major -> batch-first"
    last = keras.layers.LSTM(4)
    last.build((None, 5, 3))
    last.set_weights(tf.get_weights())
    report = sbs.diagnose(pt, last, x.transpose(1, 0, 2), keras_x=x)
    assert_no_divergence(report)
    assert report.rows[0].layout == "last time step (time-major)"


def gru_pair(order=(1, 0, 2), reset_after=True):
    torch.manual_seed(0)
    pt = nn.GRU(3, 4, batch_first=True)
    tf = keras.layers.GRU(4, return_sequences=True, reset_after=reset_after)
    tf.build((None, 5, 3))
    w_ih, w_hh = pt.weight_ih_l0.detach().numpy().T, pt.weight_hh_l0.detach().numpy().T
    b_ih, b_hh = pt.bias_ih_l0.detach().numpy(), pt.bias_hh_l0.detach().numpy()
    bias = np.stack([blocks(b_ih, order), blocks(b_hh, order)]) if reset_after else blocks(b_ih + b_hh, order)
    tf.set_weights([blocks(w_ih, order), blocks(w_hh, order), bias])
    return pt, tf


def test_gru_gate_order_and_reset_after_are_named_and_the_correct_port_matches():
    x = data(2, 5, 3)
    assert_no_divergence(sbs.diagnose(*gru_pair(), x))        # r, z, n -> Keras's z, r, h
    report = sbs.diagnose(*gru_pair(order=(0, 1, 2)), x)      # copied as is
    assert_named(report, dg.GRU_GATE_ORDER, at=0)
    assert "(r, z, n)" in report.suspects[0].evidence
    assert_named(sbs.diagnose(*gru_pair(reset_after=False), x), dg.GRU_RESET_AFTER, at=0)


# --- attention ------------------------------------------------------------------------------------------------

class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.mha = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.mha(x, x, x, need_weights=False)[0]


def attention_pair(transpose=True):
    torch.manual_seed(0)
    pt = SelfAttention().eval()
    with torch.no_grad():                                   # PyTorch starts its attention biases at zero
        pt.mha.in_proj_bias.normal_()
        pt.mha.out_proj.bias.normal_()
    inputs = keras.Input((5, 8))
    tf = keras.Model(inputs, keras.layers.MultiHeadAttention(num_heads=2, key_dim=4)(inputs, inputs))
    mha = tf.layers[-1]
    w, b = pt.mha.in_proj_weight.detach().numpy(), pt.mha.in_proj_bias.detach().numpy()
    for i, dense in enumerate([mha._query_dense, mha._key_dense, mha._value_dense]):
        block = w[i * 8:(i + 1) * 8]
        dense.kernel.assign((block.T if transpose or i else block).reshape(8, 2, 4))
        dense.bias.assign(b[i * 8:(i + 1) * 8].reshape(2, 4))
    mha._output_dense.kernel.assign(pt.mha.out_proj.weight.detach().numpy().T.reshape(2, 4, 8))
    mha._output_dense.bias.assign(pt.mha.out_proj.bias.detach().numpy())
    return pt, tf


def test_attention_weight_layout_is_named_and_the_correct_port_matches():
    x = data(2, 5, 8)
    assert_no_divergence(sbs.diagnose(*attention_pair(), x))
    report = sbs.diagnose(*attention_pair(transpose=False), x)
    assert_named(report, dg.ATTENTION_LAYOUT, at=0)
    assert "query kernel is the block itself" in report.suspects[0].evidence


# --- pairing ------------------------------------------------------------------------------------------------------

class ViewMLP(nn.Module):
    """Flattens with x.view (no module), as the PyTorch MNIST examples do."""

    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(12, 6), nn.Linear(6, 2)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.view(-1, 12))))


def test_reshapes_are_left_out_when_counts_differ_and_a_mapping_pairs_by_name():
    torch.manual_seed(0)
    pt = ViewMLP()
    tf = keras.Sequential([keras.Input((3, 4)), keras.layers.Flatten(), keras.layers.Dense(6, name="a"),
                           keras.layers.Dense(2, name="b")])
    sbs.linear_to_dense(pt.fc1, tf.layers[1])
    sbs.linear_to_dense(pt.fc2, tf.layers[2])
    x = data(3, 3, 4)
    with pytest.raises(ValueError, match="Pass mapping="):    # relu is a function call: 2 modules vs 3 layers
        sbs.diagnose(pt, keras.Sequential([keras.Input((3, 4)), keras.layers.Flatten(),
                                           keras.layers.Dense(6, activation="relu"), keras.layers.Dense(2)]), x)
    report = sbs.diagnose(pt, tf, x, mapping={"fc2": "b"})
    assert report.pairing == "by mapping" and [r.torch_name for r in report.rows] == ["fc2"]
    assert report.first_divergence == 0                         # fc1's output is not relu'd in Keras
    assert report.suspects[0].bug == dg.INPUTS_DIFFER, str(report)
    assert "the inputs of this pair" in report.suspects[0].evidence
    with pytest.raises(ValueError, match="no Keras layer 'nope'"):
        sbs.diagnose(pt, tf, x, mapping={"fc2": "nope"})


def test_a_keras_activation_layer_an_inplace_relu_and_a_transformer_layer_are_recorded():
    torch.manual_seed(0)
    pt = nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True), nn.Linear(4, 4), nn.GELU(approximate="tanh")).eval()
    tf = keras.Sequential([keras.Input((4,)), keras.layers.Dense(4, activation="relu"), keras.layers.Dense(4),
                           keras.layers.Activation("gelu")])                 # exact GELU
    sbs.linear_to_dense(pt[0], tf.layers[0])
    sbs.linear_to_dense(pt[2], tf.layers[1])
    report = sbs.diagnose(pt, tf, data(32, 4, scale=3.0))
    assert report.rows[0].matches and report.rows[1].matches    # the Linear's output before the in-place ReLU
    assert_named(report, dg.GELU_APPROXIMATION, at=3)
    encoder = nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, batch_first=True).eval()
    calls = dg._torch_calls(encoder, (torch.from_numpy(data(2, 3, 8)),))
    assert [c.kind for c in calls][:2] == ["MultiheadAttention", "Dropout"] and len(calls) == 8  # every submodule


class MaskedSelfAttention(SelfAttention):
    def forward(self, x, mask):
        return self.mha(x, x, x, attn_mask=mask, need_weights=False)[0]


def test_an_attention_mask_passed_as_is_is_named():
    torch.manual_seed(0)
    pt = MaskedSelfAttention().eval()
    _, tf_plain = attention_pair()
    pt.load_state_dict(attention_pair()[0].state_dict())
    x_in, m_in = keras.Input((5, 8)), keras.Input((5, 5), dtype="bool")
    mha = tf_plain.layers[-1]
    tf = keras.Model([x_in, m_in], mha(x_in, x_in, attention_mask=m_in))
    x = data(2, 5, 8)
    causal = np.triu(np.ones((5, 5), bool), k=1)               # PyTorch: True = do not attend
    keep = np.broadcast_to(~causal, (2, 5, 5))
    assert_no_divergence(sbs.diagnose(pt, tf, (x, causal), keras_x=(x, keep)))
    report = sbs.diagnose(pt, tf, (x, causal), keras_x=(x, np.broadcast_to(causal, (2, 5, 5))))
    assert_named(report, dg.ATTENTION_MASK, at=0)


class TokenLSTM(nn.Module):
    """Chapter 10's shape of model: token ids -> Embedding -> LSTM -> last step -> Linear."""

    def __init__(self):
        super().__init__()
        self.embed, self.lstm, self.head = nn.Embedding(10, 3), nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 2)

    def forward(self, ids):
        out, _ = self.lstm(self.embed(ids))
        return self.head(out[:, -1])


def test_an_embedding_lstm_classifier_on_token_ids_matches_and_a_gate_mixup_is_named():
    torch.manual_seed(0)
    pt = TokenLSTM().eval()
    tf = keras.Sequential([keras.Input((5,), dtype="int64"), keras.layers.Embedding(10, 3), keras.layers.LSTM(4),
                           keras.layers.Dense(2)])
    embed, lstm, head = tf.layers
    embed.embeddings.assign(pt.embed.weight.detach().numpy())
    w_ih, w_hh = pt.lstm.weight_ih_l0.detach().numpy().T, pt.lstm.weight_hh_l0.detach().numpy().T
    bias = (pt.lstm.bias_ih_l0 + pt.lstm.bias_hh_l0).detach().numpy()
    lstm.set_weights([w_ih, w_hh, bias])
    sbs.linear_to_dense(pt.head, head)
    ids = RNG.integers(0, 10, size=(3, 5))
    report = sbs.diagnose(pt, tf, ids)
    assert_no_divergence(report)
    assert report.rows[1].layout == "last time step"
    lstm.set_weights([blocks(w, (0, 1, 3, 2)) for w in (w_ih, w_hh, bias)])   # g and o swapped
    assert_named(sbs.diagnose(pt, tf, ids), dg.LSTM_GATE_ORDER, at=1)


def test_a_divergence_is_reported_even_when_a_check_cannot_run(monkeypatch):
    pt, tf = mlp_pair()
    tf.layers[0].kernel.assign(pt[0].weight.detach().numpy())

    def broken(ctx):
        raise RuntimeError("boom")

    monkeypatch.setattr(sys.modules["sidebyside.diagnose_checks"], "_check_linear", broken)
    report = sbs.diagnose(pt, tf, data(5, 4))
    assert report.first_divergence == 0 and report.suspects[0].bug == dg.UNEXPLAINED
    assert "RuntimeError: boom" in report.suspects[0].evidence


def test_attention_biases_and_a_simple_rnn_bias_are_named():
    x = data(2, 5, 8)
    pt, tf = attention_pair()
    tf.layers[-1]._value_dense.bias.assign(np.zeros((2, 4), np.float32))
    report = sbs.diagnose(pt, tf, x)
    assert_named(report, dg.MISSING_BIAS, at=0)
    assert "value bias is all zeros" in report.suspects[0].evidence
    torch.manual_seed(0)
    rnn = nn.RNN(3, 4, batch_first=True)
    simple = keras.layers.SimpleRNN(4, return_sequences=True)
    simple.build((None, 5, 3))
    w_ih, w_hh = rnn.weight_ih_l0.detach().numpy().T, rnn.weight_hh_l0.detach().numpy().T
    simple.set_weights([w_ih, w_hh, (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()])
    assert_no_divergence(sbs.diagnose(rnn, simple, data(2, 5, 3)))
    simple.set_weights([w_ih, w_hh, rnn.bias_ih_l0.detach().numpy()])          # one of the two biases
    assert_named(sbs.diagnose(rnn, simple, data(2, 5, 3)), dg.MISSING_BIAS, at=0)


def test_batchnorm_statistics_that_were_never_copied_are_named_weights_differ():
    pt, tf = bn_pair()
    tf.layers[1].moving_mean.assign(np.zeros(4, np.float32))        # settings agree, statistics do not
    report = sbs.diagnose(pt.eval(), tf, data(8, 4))
    assert report.first_divergence == 1 and report.suspects[0].bug == dg.WEIGHTS_DIFFER, str(report)
    assert "batchnorm_to_keras" in report.suspects[0].fix


def test_every_bug_name_is_exercised_by_a_test_of_this_file():
    from pathlib import Path

    checks = sys.modules["sidebyside.diagnose_checks"]
    names = [n for n, v in vars(checks).items() if n.isupper() and isinstance(v, str)]
    assert len(names) >= 20
    source = Path(__file__).read_text()
    body = source.split("def test_every_bug_name_is_exercised")[0]
    assert [n for n in names if f"dg.{n}" not in body] == []


def test_an_unbuilt_keras_sequential_is_built_by_the_pass_and_paired():
    torch.manual_seed(0)
    pt = nn.Sequential(nn.Linear(4, 3), nn.ReLU()).eval()
    tf = keras.Sequential([keras.layers.Dense(3, activation="relu")])      # no Input: built on first call
    x = data(2, 4)
    report = sbs.diagnose(pt, tf, x)                                        # weights never copied
    assert [r.torch_type for r in report.rows] == ["Linear", "ReLU"] and report.rows[1].keras_type == "relu"
    assert report.first_divergence == 0 and report.bugs == [dg.WEIGHTS_DIFFER, dg.MISSING_BIAS], str(report)
    sbs.linear_to_dense(pt[0], tf.layers[0])
    assert_no_divergence(sbs.diagnose(pt, tf, x))
