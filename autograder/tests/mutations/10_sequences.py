"""Plausible submissions for 10_sequences (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_apis": {
        "why": "a masked pooling layer, a loop over the rows, biases split in halves, set_weights, a manual time loop",
        "answers": {
            "q1_masked_mean_pytorch": (
                "def masked_mean_pytorch(embedding, ids):\n"
                "    rows = []\n"
                "    for row in ids:\n"
                "        rows.append(embedding(row[row != 0]).mean(dim=0))\n"
                "    return torch.stack(rows)\n"),
            "q1_masked_mean_tensorflow": (
                "def masked_mean_tensorflow(embedding, ids):\n"
                "    return keras.layers.GlobalAveragePooling1D()(embedding(ids), mask=ids != 0)\n"),
            "q2_port_lstm_pytorch": (
                "def lstm_from_keras(keras_lstm):\n"
                "    kernel, recurrent, bias = keras_lstm.get_weights()\n"
                "    lstm = nn.LSTM(kernel.shape[0], recurrent.shape[0], batch_first=True)\n"
                "    with torch.no_grad():\n"
                "        lstm.weight_ih_l0.copy_(torch.tensor(kernel.T))\n"
                "        lstm.weight_hh_l0.copy_(torch.tensor(recurrent.T))\n"
                "        lstm.bias_ih_l0.copy_(torch.tensor(bias / 2))\n"
                "        lstm.bias_hh_l0.copy_(torch.tensor(bias / 2))\n"
                "    return lstm\n"),
            "q4_states_tensorflow": (
                "def keras_states_as_torch(bi_layer, x):\n"
                "    results = bi_layer(x)\n"
                "    output, states = results[0], results[1:]\n"
                "    h_n = tf.stack(states[0::2])\n"
                "    c_n = tf.stack(states[1::2])\n"
                "    return keras.ops.swapaxes(output, 0, 1), (h_n, c_n)\n"),
            "q5_padded_pytorch": (
                "def encode_padded_pytorch(lstm, x, lengths):\n"
                "    b, t, _ = x.shape\n"
                "    h = torch.zeros(1, b, lstm.hidden_size)\n"
                "    c = torch.zeros(1, b, lstm.hidden_size)\n"
                "    outputs = []\n"
                "    for step in range(t):\n"
                "        out, (h_new, c_new) = lstm(x[:, step:step + 1], (h, c))\n"
                "        alive = (step < lengths).float().view(1, b, 1)\n"
                "        h = alive * h_new + (1 - alive) * h\n"
                "        c = alive * c_new + (1 - alive) * c\n"
                "        outputs.append(out[:, 0] * alive[0])\n"
                "    return torch.stack(outputs, dim=1), h[0]\n"),
        },
    },
    "alternatives_gru_and_masks": {
        "why": "the GRU's gates swapped by index arrays, a Keras layer with zero_output_for_mask, a Masking-free mask",
        "answers": {
            "q3_port_gru_tensorflow": (
                "def gru_to_keras(torch_gru):\n"
                "    h = torch_gru.hidden_size\n"
                "    order = np.r_[h:2 * h, 0:h, 2 * h:3 * h]            # r, z, n -> z, r, n\n"
                "    get = lambda name: getattr(torch_gru, name).detach().numpy()[order]\n"
                "    layer = keras.layers.GRU(h, return_sequences=True)   # reset_after=True is the default\n"
                "    layer.build((None, None, torch_gru.input_size))\n"
                "    layer.cell.kernel.assign(get('weight_ih_l0').T)\n"
                "    layer.cell.recurrent_kernel.assign(get('weight_hh_l0').T)\n"
                "    layer.cell.bias.assign(np.stack([get('bias_ih_l0'), get('bias_hh_l0')]))\n"
                "    return layer\n"),
            "q5_padded_tensorflow": (
                "def encode_padded_tensorflow(lstm, x, lengths):\n"
                "    mask = np.arange(x.shape[1])[None, :] < np.asarray(lengths)[:, None]\n"
                "    twin = keras.layers.LSTM(lstm.cell.units, return_sequences=True, return_state=True,\n"
                "                             zero_output_for_mask=True)\n"
                "    twin.build((None, None, x.shape[-1]))\n"
                "    twin.set_weights(lstm.get_weights())\n"
                "    outputs, h, _ = twin(x, mask=mask)\n"
                "    return outputs, h\n"),
        },
    },
    "mistake_q1_mask_inverted": {
        "why": "True = padding: the mean of the padding vectors",
        "answers": {"q1_masked_mean_tensorflow": (
            "def masked_mean_tensorflow(embedding, ids):\n"
            "    vectors = embedding(ids)\n"
            "    keep = tf.cast(ids == 0, vectors.dtype)[..., None]\n"
            "    return tf.reduce_sum(vectors * keep, axis=1) / tf.maximum(tf.reduce_sum(keep, axis=1), 1.0)\n")},
        "fails": ["test_q1_masked_mean_tensorflow"],
    },
    "mistake_q1_divides_by_length_of_batch": {
        "why": "the padding row is zero, but the mean divides by T, not by the number of real tokens",
        "answers": {"q1_masked_mean_pytorch": (
            "def masked_mean_pytorch(embedding, ids):\n"
            "    return embedding(ids).mean(dim=1)\n")},
        "fails": ["test_q1_masked_mean_pytorch"],
    },
    "mistake_q2_one_bias_only": {
        "why": "PyTorch's bias_hh is lost: the biases are not summed",
        "answers": {"q2_port_lstm_tensorflow": (
            "def lstm_to_keras(torch_lstm):\n"
            "    layer = keras.layers.LSTM(torch_lstm.hidden_size, return_sequences=True)\n"
            "    layer.build((None, None, torch_lstm.input_size))\n"
            "    layer.set_weights([torch_lstm.weight_ih_l0.detach().numpy().T, torch_lstm.weight_hh_l0.detach().numpy().T,\n"
            "                       torch_lstm.bias_ih_l0.detach().numpy()])\n"
            "    return layer\n")},
        "fails": ["test_q2_port_lstm_tensorflow", "test_q2_port_lstm_parity"],
    },
    "mistake_q2_bias_twice": {
        "why": "Keras's one bias copied into both PyTorch biases: the sum is twice the bias",
        "answers": {"q2_port_lstm_pytorch": (
            "def lstm_from_keras(keras_lstm):\n"
            "    kernel, recurrent, bias = keras_lstm.get_weights()\n"
            "    lstm = nn.LSTM(kernel.shape[0], recurrent.shape[0], batch_first=True)\n"
            "    with torch.no_grad():\n"
            "        lstm.weight_ih_l0.copy_(torch.tensor(kernel.T))\n"
            "        lstm.weight_hh_l0.copy_(torch.tensor(recurrent.T))\n"
            "        lstm.bias_ih_l0.copy_(torch.tensor(bias))\n"
            "        lstm.bias_hh_l0.copy_(torch.tensor(bias))\n"
            "    return lstm\n")},
        "fails": ["test_q2_port_lstm_pytorch", "test_q2_port_lstm_parity"],
    },
    "mistake_q2_batch_first_forgotten": {
        "why": "nn.LSTM is time-major by default: batch-major inputs run, with the wrong numbers",
        "answers": {"q2_port_lstm_pytorch": (
            "def lstm_from_keras(keras_lstm):\n"
            "    kernel, recurrent, bias = keras_lstm.get_weights()\n"
            "    lstm = nn.LSTM(kernel.shape[0], recurrent.shape[0])\n"
            "    with torch.no_grad():\n"
            "        lstm.weight_ih_l0.copy_(torch.tensor(kernel.T))\n"
            "        lstm.weight_hh_l0.copy_(torch.tensor(recurrent.T))\n"
            "        lstm.bias_ih_l0.copy_(torch.tensor(bias))\n"
            "        lstm.bias_hh_l0.zero_()\n"
            "    return lstm\n")},
        "fails": ["test_q2_port_lstm_pytorch", "test_q2_port_lstm_parity"],
    },
    "mistake_q2_uses_the_porting_helper": {
        "why": "sbs.rnn_to_keras does the exercise: forbidden, and observed",
        "answers": {"q2_port_lstm_tensorflow": (
            "def lstm_to_keras(torch_lstm):\n"
            "    layer = keras.layers.LSTM(torch_lstm.hidden_size, return_sequences=True)\n"
            "    layer.build((None, None, torch_lstm.input_size))\n"
            "    sbs.rnn_to_keras(torch_lstm, layer)\n"
            "    return layer\n")},
        "fails": ["test_q2_port_lstm_tensorflow", "test_q2_port_lstm_parity"],
    },
    "mistake_q3_gate_order_not_converted": {
        "why": "PyTorch's r, z, n copied as Keras's z, r, h",
        "answers": {"q3_port_gru_tensorflow": (
            "def gru_to_keras(torch_gru):\n"
            "    w = {name: p.detach().numpy() for name, p in torch_gru.named_parameters()}\n"
            "    layer = keras.layers.GRU(torch_gru.hidden_size, return_sequences=True)\n"
            "    layer.build((None, None, torch_gru.input_size))\n"
            "    layer.set_weights([w['weight_ih_l0'].T, w['weight_hh_l0'].T, np.stack([w['bias_ih_l0'], w['bias_hh_l0']])])\n"
            "    return layer\n")},
        "fails": ["test_q3_port_gru_tensorflow"],
    },
    "mistake_q3_reset_after_false": {
        "why": "reset_after=False with the biases summed: the reset gate acts before the recurrent matrix",
        "answers": {"q3_port_gru_tensorflow": (
            "def gru_to_keras(torch_gru):\n"
            "    def swap(m):\n"
            "        r, z, n = np.split(m, 3, axis=0)\n"
            "        return np.concatenate([z, r, n], axis=0)\n"
            "    w = {name: p.detach().numpy() for name, p in torch_gru.named_parameters()}\n"
            "    layer = keras.layers.GRU(torch_gru.hidden_size, return_sequences=True, reset_after=False)\n"
            "    layer.build((None, None, torch_gru.input_size))\n"
            "    layer.set_weights([swap(w['weight_ih_l0']).T, swap(w['weight_hh_l0']).T,\n"
            "                       swap(w['bias_ih_l0'] + w['bias_hh_l0'])])\n"
            "    return layer\n")},
        "fails": ["test_q3_port_gru_tensorflow"],
    },
    "mistake_q3_bias_rows_swapped": {
        "why": "Keras's bias row 0 is the input bias, row 1 the recurrent one",
        "answers": {"q3_port_gru_pytorch": (
            "def gru_from_keras(keras_gru):\n"
            "    def swap(m):\n"
            "        z, r, h = np.split(m, 3, axis=-1)\n"
            "        return np.concatenate([r, z, h], axis=-1)\n"
            "    kernel, recurrent, bias = keras_gru.get_weights()\n"
            "    gru = nn.GRU(kernel.shape[0], recurrent.shape[0], batch_first=True)\n"
            "    with torch.no_grad():\n"
            "        gru.weight_ih_l0.copy_(torch.tensor(swap(kernel).T))\n"
            "        gru.weight_hh_l0.copy_(torch.tensor(swap(recurrent).T))\n"
            "        gru.bias_ih_l0.copy_(torch.tensor(swap(bias[1])))\n"
            "        gru.bias_hh_l0.copy_(torch.tensor(swap(bias[0])))\n"
            "    return gru\n")},
        "fails": ["test_q3_port_gru_pytorch"],
    },
    "mistake_q4_states_in_the_wrong_order": {
        "why": "Keras's Bidirectional returns h_fw, c_fw, h_bw, c_bw, not h_fw, h_bw, c_fw, c_bw",
        "answers": {"q4_states_tensorflow": (
            "def keras_states_as_torch(bi_layer, x):\n"
            "    output, h_fw, h_bw, c_fw, c_bw = bi_layer(x)\n"
            "    return tf.transpose(output, [1, 0, 2]), (tf.stack([h_fw, h_bw]), tf.stack([c_fw, c_bw]))\n")},
        "fails": ["test_q4_states_tensorflow"],
    },
    "mistake_q4_batch_first_forgotten": {
        "why": "a batch-major tensor fed to a time-major LSTM (and the output left as it came)",
        "answers": {"q4_states_pytorch": (
            "def torch_states_as_keras(bi_lstm, x):\n"
            "    output, (h_n, c_n) = bi_lstm(x)\n"
            "    return [output, h_n[0], c_n[0], h_n[1], c_n[1]]\n")},
        "fails": ["test_q4_states_pytorch"],
    },
    "mistake_q5_mask_inverted": {
        "why": "True = padding: Keras keeps the padded steps and skips the real ones",
        "answers": {"q5_padded_tensorflow": (
            "def encode_padded_tensorflow(lstm, x, lengths):\n"
            "    padding = tf.logical_not(tf.sequence_mask(lengths, maxlen=x.shape[1]))\n"
            "    outputs, h, _ = lstm(x, mask=padding)\n"
            "    return outputs * tf.cast(tf.logical_not(padding), outputs.dtype)[..., None], h\n")},
        "fails": ["test_q5_padded_tensorflow", "test_q5_padded_parity"],
    },
    "mistake_q5_not_packed": {
        "why": "the LSTM runs over the padding: outputs zeroed afterwards, but h_n has read the padded steps",
        "answers": {"q5_padded_pytorch": (
            "def encode_padded_pytorch(lstm, x, lengths):\n"
            "    out, (h_n, _) = lstm(x)\n"
            "    keep = (torch.arange(x.shape[1])[None, :] < lengths[:, None]).float()\n"
            "    return out * keep[..., None], h_n[0]\n")},
        "fails": ["test_q5_padded_pytorch", "test_q5_padded_parity"],
    },
}
