"""Unit tests of the recurrent-layer porting helpers added for course/10_sequences.ipynb."""

from __future__ import annotations

import numpy as np
import pytest

import sidebyside as sbs  # noqa: F401  (before the frameworks, as in the notebooks)
import keras  # noqa: E402
import torch  # noqa: E402
from sidebyside import recurrent  # noqa: E402

KERAS = {"RNN": keras.layers.SimpleRNN, "LSTM": keras.layers.LSTM, "GRU": keras.layers.GRU}


def torch_layer(kind, seed=0, **kwargs):
    torch.manual_seed(seed)
    layer = getattr(torch.nn, kind)(3, 4, batch_first=True, **kwargs)
    with torch.no_grad():
        for p in layer.parameters():  # biases far from zero, so a lost bias shows
            p.uniform_(-0.8, 0.8)
    return layer


def keras_layer(kind, bidirectional=False, **kwargs):
    layer = KERAS[kind](4, return_sequences=True, **kwargs)
    if bidirectional:
        layer = keras.layers.Bidirectional(layer)
    layer.build((None, None, 3))
    return layer


def run_torch(layer, x):
    with torch.no_grad():
        return layer(torch.from_numpy(x))[0].numpy()


def inputs(seed=1):
    return np.random.default_rng(seed).normal(size=(2, 5, 3)).astype(np.float32)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_torch_to_keras_and_back_compute_the_same(kind, bidirectional):
    original = torch_layer(kind, bidirectional=bidirectional)
    port = keras_layer(kind, bidirectional)
    sbs.rnn_to_keras(original, port)
    x = inputs()
    np.testing.assert_allclose(np.asarray(port(x)), run_torch(original, x), atol=1e-5)
    back = torch_layer(kind, seed=7, bidirectional=bidirectional)
    sbs.rnn_to_torch(port, back)
    np.testing.assert_allclose(run_torch(back, x), run_torch(original, x), atol=1e-5)


def test_keras_to_torch_keeps_the_gru_bias_rows_and_zeroes_the_second_lstm_bias():
    gru = keras_layer("GRU")
    gru.cell.bias.assign(np.arange(24, dtype=np.float32).reshape(2, 12))
    twin = torch_layer("GRU")
    sbs.rnn_to_torch(gru, twin)
    # Keras z, r, h -> PyTorch r, z, n
    np.testing.assert_array_equal(twin.bias_ih_l0.detach().numpy(), [4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11])
    np.testing.assert_array_equal(twin.bias_hh_l0.detach().numpy()[:4], [16, 17, 18, 19])
    lstm, twin = keras_layer("LSTM"), torch_layer("LSTM")
    sbs.rnn_to_torch(lstm, twin)
    np.testing.assert_array_equal(twin.bias_hh_l0.detach().numpy(), np.zeros(16, np.float32))
    np.testing.assert_array_equal(twin.bias_ih_l0.detach().numpy(), np.asarray(lstm.cell.bias))


def test_torch_to_keras_sums_the_two_lstm_biases():
    original, port = torch_layer("LSTM"), keras_layer("LSTM")
    sbs.rnn_to_keras(original, port)
    np.testing.assert_allclose(np.asarray(port.cell.bias),
                               (original.bias_ih_l0 + original.bias_hh_l0).detach().numpy(), atol=1e-7)


def test_reorder_gates_swaps_only_the_gru_reset_and_update_blocks_and_is_its_own_inverse():
    m = np.arange(12).reshape(6, 2)
    np.testing.assert_array_equal(recurrent.reorder_gates(m, "GRU")[:, 0], [4, 6, 0, 2, 8, 10])
    np.testing.assert_array_equal(recurrent.reorder_gates(recurrent.reorder_gates(m, "GRU"), "GRU"), m)
    np.testing.assert_array_equal(recurrent.reorder_gates(np.arange(8), "LSTM"), np.arange(8))
    np.testing.assert_array_equal(recurrent.reorder_gates(m.T, "GRU", axis=1), recurrent.reorder_gates(m, "GRU").T)


def test_layers_that_would_compute_differently_are_refused():
    with pytest.raises(ValueError, match="reset_after=True"):
        sbs.rnn_to_keras(torch_layer("GRU"), keras_layer("GRU", reset_after=False))
    with pytest.raises(TypeError, match="keras.layers.LSTM"):
        sbs.rnn_to_keras(torch_layer("LSTM"), keras_layer("GRU"))
    with pytest.raises(ValueError, match="hidden sizes"):
        small = keras.layers.LSTM(2)
        small.build((None, None, 3))
        sbs.rnn_to_keras(torch_layer("LSTM"), small)
    with pytest.raises(ValueError, match="activations"):
        sbs.rnn_to_keras(torch_layer("RNN", nonlinearity="relu"), keras_layer("RNN"))
    with pytest.raises(ValueError, match="recurrent_activation"):
        sbs.rnn_to_keras(torch_layer("LSTM"), keras_layer("LSTM", recurrent_activation="hard_sigmoid"))
    with pytest.raises(ValueError, match="biases"):
        sbs.rnn_to_torch(keras_layer("GRU", use_bias=False), torch_layer("GRU"))
    with pytest.raises(ValueError, match="Bidirectional"):
        sbs.rnn_to_keras(torch_layer("LSTM", bidirectional=True), keras_layer("LSTM"))
    with pytest.raises(ValueError, match="merge_mode"):
        summed = keras.layers.Bidirectional(keras.layers.LSTM(4), merge_mode="sum")
        summed.build((None, None, 3))
        sbs.rnn_to_keras(torch_layer("LSTM", bidirectional=True), summed)
    with pytest.raises(ValueError, match="num_layers"):
        sbs.rnn_to_keras(torch_layer("LSTM", num_layers=2), keras_layer("LSTM"))
    with pytest.raises(ValueError, match="build"):
        sbs.rnn_to_keras(torch_layer("LSTM"), keras.layers.LSTM(4))
    with pytest.raises(TypeError, match="nn.RNN, LSTM or GRU"):
        sbs.rnn_to_keras(torch.nn.Linear(3, 4), keras_layer("LSTM"))
