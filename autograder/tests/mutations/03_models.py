"""Plausible submissions for 03_models (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_subclass_functional_set_weights": {
        "why": "a subclassed Module, the functional API, in-place init, building by a call, set_weights by hand, "
               "a Permute layer instead of permuting the Dense rows",
        "answers": {
            "q1_qnetwork_pytorch": (
                "def build_qnetwork_pytorch(obs_dim, n_actions):\n"
                "    class QNetwork(nn.Module):\n"
                "        def __init__(self):\n"
                "            super().__init__()\n"
                "            self.fc1, self.fc2 = nn.Linear(obs_dim, 120), nn.Linear(120, 84)\n"
                "            self.fc3 = nn.Linear(84, n_actions)\n"
                "        def forward(self, x):\n"
                "            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))\n"
                "    return QNetwork()\n"),
            "q1_qnetwork_tensorflow": (
                "def build_qnetwork_tensorflow(obs_dim, n_actions):\n"
                "    inputs = keras.Input((obs_dim,))\n"
                "    h = keras.layers.Dense(84, activation='relu')(keras.layers.Dense(120, activation='relu')(inputs))\n"
                "    return keras.Model(inputs, keras.layers.Dense(n_actions)(h))\n"),
            "q2_init_pytorch": (
                "def uniform_linear_pytorch(in_features, out_features, low, high, bias_value):\n"
                "    layer = nn.Linear(in_features, out_features)\n"
                "    with torch.no_grad():\n"
                "        layer.weight.uniform_(low, high)\n"
                "        layer.bias.fill_(bias_value)\n"
                "    return layer\n"),
            "q2_init_tensorflow": (
                "def uniform_dense_tensorflow(in_features, out_features, low, high, bias_value):\n"
                "    layer = keras.layers.Dense(out_features, kernel_initializer=keras.initializers.RandomUniform(low, high),\n"
                "                               bias_initializer=keras.initializers.Constant(bias_value))\n"
                "    layer(np.zeros((1, in_features), np.float32))\n"
                "    return layer\n"),
            "q3_port_tensorflow": (
                "def mlp_to_keras(torch_mlp):\n"
                "    first, last = torch_mlp[0], torch_mlp[2]\n"
                "    model = keras.Sequential([keras.Input((first.in_features,)),\n"
                "                              keras.layers.Dense(first.out_features, activation='relu'),\n"
                "                              keras.layers.Dense(last.out_features)])\n"
                "    model.set_weights([t.detach().numpy().T for t in (first.weight, first.bias, last.weight, last.bias)])\n"
                "    return model\n"),
            "q4_cnn_tensorflow": (
                "def cnn_to_keras(torch_cnn, height, width):\n"
                "    conv, linear = torch_cnn[0], torch_cnn[3]\n"
                "    model = keras.Sequential([keras.Input((height, width, conv.in_channels)),\n"
                "                              keras.layers.Conv2D(conv.out_channels, conv.kernel_size, activation='relu'),\n"
                "                              keras.layers.Permute((3, 1, 2)),   # NHWC -> NCHW: flatten like PyTorch\n"
                "                              keras.layers.Flatten(), keras.layers.Dense(linear.out_features)])\n"
                "    sbs.conv2d_to_keras(conv, model.layers[0])\n"
                "    model.layers[-1].set_weights([linear.weight.detach().numpy().T, linear.bias.detach().numpy()])\n"
                "    return model\n"),
        },
    },
    "alternatives_reading_shapes_differently": {
        "why": "sizes from Dense.units and Conv2D attributes, the row permutation done with index arithmetic",
        "answers": {
            "q4_cnn_pytorch": (
                "def cnn_to_torch(keras_cnn):\n"
                "    conv_k = keras_cnn.layers[0]\n"
                "    dense = keras_cnn.layers[-1]\n"
                "    _, height, width, c_in = keras_cnn.input_shape\n"
                "    kh, kw = conv_k.kernel_size\n"
                "    f, h, w = conv_k.filters, height - kh + 1, width - kw + 1\n"
                "    model = nn.Sequential(nn.Conv2d(c_in, f, (kh, kw)), nn.ReLU(), nn.Flatten(), nn.Linear(f * h * w, dense.units))\n"
                "    sbs.conv2d_to_torch(conv_k, model[0])\n"
                "    kernel = dense.kernel.numpy()\n"
                "    rows = [(i * w + j) * f + c for c in range(f) for i in range(h) for j in range(w)]  # HWC row of each CHW feature\n"
                "    with torch.no_grad():\n"
                "        model[3].weight.copy_(torch.from_numpy(kernel[rows].T.copy()))\n"
                "        model[3].bias.copy_(torch.from_numpy(dense.bias.numpy()))\n"
                "    return model\n"),
        },
    },
    "mistake_q1_relu_on_the_q_values": {
        "why": "a ReLU after the output layer clips negative Q-values",
        "answers": {"q1_qnetwork_pytorch": (
            "def build_qnetwork_pytorch(obs_dim, n_actions):\n"
            "    return nn.Sequential(nn.Linear(obs_dim, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),\n"
            "                         nn.Linear(84, n_actions), nn.ReLU())\n")},
        "fails": ["test_q1_qnetwork_pytorch"],
    },
    "mistake_q3_reshape_instead_of_transpose": {
        "why": "reshaping the (out, in) weight into (in, out) keeps the shapes and scrambles the numbers",
        "answers": {"q3_port_tensorflow": (
            "def mlp_to_keras(torch_mlp):\n"
            "    first, last = torch_mlp[0], torch_mlp[2]\n"
            "    model = keras.Sequential([keras.Input((first.in_features,)),\n"
            "                              keras.layers.Dense(first.out_features, activation='relu'),\n"
            "                              keras.layers.Dense(last.out_features)])\n"
            "    for linear, dense in zip((first, last), model.layers):\n"
            "        dense.kernel.assign(linear.weight.detach().numpy().reshape(tuple(dense.kernel.shape)))\n"
            "        dense.bias.assign(linear.bias.detach().numpy())\n"
            "    return model\n")},
        "fails": ["test_q3_port_tensorflow", "test_q3_port_parity"],
    },
    "mistake_q3_uses_the_porting_helper": {
        "why": "sbs.dense_to_linear does the exercise: forbidden, and observed",
        "answers": {"q3_port_pytorch": (
            "def mlp_to_torch(keras_mlp):\n"
            "    first, last = [l for l in keras_mlp.layers if isinstance(l, keras.layers.Dense)]\n"
            "    model = nn.Sequential(nn.Linear(*first.kernel.shape), nn.ReLU(), nn.Linear(*last.kernel.shape))\n"
            "    sbs.dense_to_linear(first, model[0])\n"
            "    sbs.dense_to_linear(last, model[2])\n"
            "    return model\n")},
        "fails": ["test_q3_port_pytorch", "test_q3_port_parity"],
    },
    "mistake_q4_flatten_order_ignored": {
        "why": "a plain transpose of the Linear weight: right shapes, wrong (C, H, W) vs (H, W, C) order",
        "answers": {"q4_cnn_tensorflow": (
            "def cnn_to_keras(torch_cnn, height, width):\n"
            "    conv, linear = torch_cnn[0], torch_cnn[3]\n"
            "    model = keras.Sequential([keras.Input((height, width, conv.in_channels)),\n"
            "                              keras.layers.Conv2D(conv.out_channels, conv.kernel_size, activation='relu'),\n"
            "                              keras.layers.Flatten(), keras.layers.Dense(linear.out_features)])\n"
            "    sbs.conv2d_to_keras(conv, model.layers[0])\n"
            "    model.layers[2].set_weights([linear.weight.detach().numpy().T, linear.bias.detach().numpy()])\n"
            "    return model\n")},
        "fails": ["test_q4_cnn_tensorflow"],
    },
    "mistake_q5_scale_as_a_parameter": {
        "why": "action_scale and action_bias as nn.Parameters: the optimizer would train them",
        "answers": {"q5_actor_pytorch": (
            "def make_actor_pytorch(obs_dim, low, high, hidden):\n"
            "    class Actor(nn.Module):\n"
            "        def __init__(self):\n"
            "            super().__init__()\n"
            "            lo, hi = np.asarray(low, np.float32), np.asarray(high, np.float32)\n"
            "            self.fc1, self.fc2 = nn.Linear(obs_dim, hidden), nn.Linear(hidden, hidden)\n"
            "            self.fc_mu = nn.Linear(hidden, len(lo))\n"
            "            self.action_scale = nn.Parameter(torch.from_numpy((hi - lo) / 2))\n"
            "            self.action_bias = nn.Parameter(torch.from_numpy((hi + lo) / 2))\n"
            "        def forward(self, x):\n"
            "            x = F.relu(self.fc2(F.relu(self.fc1(x))))\n"
            "            return torch.tanh(self.fc_mu(x)) * self.action_scale + self.action_bias\n"
            "    return Actor()\n\n\n"
            "def count_parameters_pytorch(model):\n"
            "    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)\n"
            "    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)\n"
            "    return int(trainable), int(frozen + sum(b.numel() for b in model.buffers()))\n")},
        "fails": ["test_q5_actor_pytorch"],
    },
}
