"""Copy weights between PyTorch's and Keras's recurrent layers.

=================  ===============================  =====================================
                   PyTorch ``nn.RNN/LSTM/GRU``       Keras ``SimpleRNN/LSTM/GRU``
=================  ===============================  =====================================
input weights      ``weight_ih_l0``: (G*H, in)       ``cell.kernel``: (in, G*H)
recurrent weights  ``weight_hh_l0``: (G*H, H)        ``cell.recurrent_kernel``: (H, G*H)
biases             ``bias_ih_l0`` + ``bias_hh_l0``   ``cell.bias``: (G*H,); GRU with
                   (two vectors of G*H)              ``reset_after=True``: (2, G*H)
gate blocks        LSTM i, f, g, o; GRU r, z, n      LSTM i, f, c, o; GRU z, r, h
=================  ===============================  =====================================

G is the number of gate blocks (1, 4 or 3) and H the hidden size. The matrices are transposed,
the LSTM's blocks come in the same order, the GRU's first two blocks are swapped, and PyTorch's
two biases are summed into Keras's one (SimpleRNN, LSTM). A GRU keeps two biases in both
frameworks, because the recurrent bias sits inside the reset gate's product:
``n = tanh(W_n x + b_in + r * (U_n h + b_hn))``. That is Keras's ``reset_after=True`` (its
default); ``reset_after=False`` computes ``U_n (r * h)`` instead and has no PyTorch twin, so the
helpers refuse it. Introduced in ``course/10_sequences.ipynb``.
"""

from __future__ import annotations

import numpy as np

from .parity import to_numpy

GATES = {"RNN": 1, "LSTM": 4, "GRU": 3}
KERAS_NAMES = {"RNN": "SimpleRNN", "LSTM": "LSTM", "GRU": "GRU"}
# Keras block k holds PyTorch block ORDER[kind][k] (the permutation is its own inverse).
ORDER = {"RNN": (0,), "LSTM": (0, 1, 2, 3), "GRU": (1, 0, 2)}


def _kind(torch_rnn) -> str:
    kind = type(torch_rnn).__name__
    if kind not in GATES:
        raise TypeError(f"expected a torch.nn.RNN, LSTM or GRU, got {kind}")
    return kind


def reorder_gates(matrix: np.ndarray, kind: str, axis: int = 0) -> np.ndarray:
    """Swap gate blocks between PyTorch's and Keras's order along ``axis`` (GRU: r, z, n <-> z, r, h;
    RNN and LSTM: unchanged). The same call converts in both directions."""
    blocks = np.split(np.asarray(matrix), GATES[kind], axis=axis)
    return np.concatenate([blocks[i] for i in ORDER[kind]], axis=axis)


def _directions(torch_rnn, keras_layer):
    """[(torch suffix, Keras RNN layer)] for one or two directions."""
    wrapped = type(keras_layer).__name__ == "Bidirectional"
    if wrapped != torch_rnn.bidirectional:
        raise ValueError("bidirectional=True in PyTorch goes with keras.layers.Bidirectional, and only with it")
    if wrapped:
        if keras_layer.merge_mode != "concat":
            raise ValueError(f"PyTorch concatenates [forward, backward]; the Bidirectional layer's merge_mode is "
                             f"{keras_layer.merge_mode!r}, not 'concat'")
        return [("", keras_layer.forward_layer), ("_reverse", keras_layer.backward_layer)]
    return [("", keras_layer)]


def _check(torch_rnn, keras_rnn, kind: str) -> None:
    if type(keras_rnn).__name__ != KERAS_NAMES[kind]:
        raise TypeError(f"a torch.nn.{kind} goes with keras.layers.{KERAS_NAMES[kind]}, "
                        f"not {type(keras_rnn).__name__}")
    if torch_rnn.num_layers != 1:
        raise ValueError(f"num_layers={torch_rnn.num_layers}: port one layer at a time (a stack of Keras layers)")
    if getattr(torch_rnn, "proj_size", 0):
        raise ValueError("an LSTM with proj_size has no Keras twin")
    if not keras_rnn.built:
        raise ValueError(f"build the {type(keras_rnn).__name__} layer first (call it once, or give the model an Input)")
    cell = keras_rnn.cell
    if cell.units != torch_rnn.hidden_size:
        raise ValueError(f"hidden sizes differ: PyTorch hidden_size={torch_rnn.hidden_size}, Keras units={cell.units}")
    if cell.kernel.shape[0] != torch_rnn.input_size:
        raise ValueError(f"input sizes differ: PyTorch input_size={torch_rnn.input_size}, Keras {cell.kernel.shape[0]}")
    if cell.use_bias != torch_rnn.bias:
        raise ValueError("one layer has biases and the other has none")
    activation = getattr(cell.activation, "__name__", str(cell.activation))
    want = torch_rnn.nonlinearity if kind == "RNN" else "tanh"
    if activation != want:
        raise ValueError(f"activations differ: PyTorch {want}, Keras {activation}")
    if kind != "RNN":
        gate = getattr(cell.recurrent_activation, "__name__", str(cell.recurrent_activation))
        if gate != "sigmoid":
            raise ValueError(f"PyTorch's gates use sigmoid, the Keras layer's recurrent_activation is {gate}")
    if kind == "GRU" and not cell.reset_after:
        raise ValueError("keras.layers.GRU(reset_after=False) applies the reset gate before the recurrent matrix, "
                         "U(r * h); PyTorch's GRU computes r * (U h + b_hn), which is reset_after=True")


def rnn_to_keras(torch_rnn, keras_layer) -> None:
    """Copy a one-layer ``torch.nn.RNN``/``LSTM``/``GRU`` into a built ``keras.layers.SimpleRNN``/``LSTM``/``GRU``
    (a ``keras.layers.Bidirectional`` one for ``bidirectional=True``): transpose the matrices, reorder the GRU's
    gates, sum the two biases (SimpleRNN, LSTM) or stack them (GRU, ``reset_after=True``). Raises when the
    layers would compute differently (sizes, activations, biases, ``reset_after=False``)."""
    kind = _kind(torch_rnn)
    for suffix, keras_rnn in _directions(torch_rnn, keras_layer):
        _check(torch_rnn, keras_rnn, kind)
        cell = keras_rnn.cell
        w_ih = to_numpy(getattr(torch_rnn, f"weight_ih_l0{suffix}"))
        w_hh = to_numpy(getattr(torch_rnn, f"weight_hh_l0{suffix}"))
        cell.kernel.assign(reorder_gates(w_ih, kind).T)
        cell.recurrent_kernel.assign(reorder_gates(w_hh, kind).T)
        if torch_rnn.bias:
            b_ih = reorder_gates(to_numpy(getattr(torch_rnn, f"bias_ih_l0{suffix}")), kind)
            b_hh = reorder_gates(to_numpy(getattr(torch_rnn, f"bias_hh_l0{suffix}")), kind)
            cell.bias.assign(np.stack([b_ih, b_hh]) if kind == "GRU" else b_ih + b_hh)


def rnn_to_torch(keras_layer, torch_rnn) -> None:
    """Copy a built ``keras.layers.SimpleRNN``/``LSTM``/``GRU`` (or a ``Bidirectional`` one) into a one-layer
    ``torch.nn.RNN``/``LSTM``/``GRU``. Keras's single bias becomes ``bias_ih`` and ``bias_hh`` is set to zero
    (only their sum matters); a GRU's two bias rows become ``bias_ih`` and ``bias_hh``."""
    import torch

    kind = _kind(torch_rnn)
    for suffix, keras_rnn in _directions(torch_rnn, keras_layer):
        _check(torch_rnn, keras_rnn, kind)
        cell = keras_rnn.cell
        values = {"weight_ih": reorder_gates(to_numpy(cell.kernel).T, kind),
                  "weight_hh": reorder_gates(to_numpy(cell.recurrent_kernel).T, kind)}
        if torch_rnn.bias:
            bias = to_numpy(cell.bias)
            if kind == "GRU":
                values["bias_ih"], values["bias_hh"] = (reorder_gates(row, kind) for row in bias)
            else:
                values["bias_ih"], values["bias_hh"] = bias, np.zeros_like(bias)
        with torch.no_grad():
            for name, value in values.items():
                getattr(torch_rnn, f"{name}_l0{suffix}").copy_(torch.from_numpy(np.ascontiguousarray(value)))
