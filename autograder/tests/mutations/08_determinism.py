"""Plausible submissions for 08_determinism (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_generators": {
        "why": "fork_rng, a tf.random.Generator, NumPy permutations, constant initializers",
        "answers": {
            "q1_uniform_pytorch": (
                "def seeded_uniform_pytorch(shape, seed):\n"
                "    with torch.random.fork_rng():\n"
                "        torch.manual_seed(seed)\n"
                "        return torch.rand(shape)\n"),
            "q1_uniform_tensorflow": (
                "def seeded_uniform_tensorflow(shape, seed):\n"
                "    return tf.random.Generator.from_seed(seed).uniform(shape)\n"),
            "q2_shuffle_pytorch": (
                "def shuffle_together_pytorch(x, y, seed):\n"
                "    order = torch.from_numpy(np.random.default_rng(seed).permutation(len(x)))\n"
                "    return x[order], y[order]\n"),
            "q2_shuffle_tensorflow": (
                "def shuffle_together_tensorflow(x, y, seed):\n"
                "    order = np.random.default_rng(seed).permutation(int(tf.shape(x)[0]))\n"
                "    return tf.gather(x, order), tf.gather(y, order)\n"),
            "q3_init_tensorflow": (
                "def build_mlp_tensorflow(seed, sizes):\n"
                "    params = numpy_params(seed, sizes)\n"
                "    model = keras.Sequential([keras.Input((sizes[0],))] + [\n"
                "        keras.layers.Dense(k.shape[1], activation='tanh' if i < len(params) - 1 else None,\n"
                "                           kernel_initializer=keras.initializers.Constant(k),\n"
                "                           bias_initializer=keras.initializers.Constant(b))\n"
                "        for i, (k, b) in enumerate(params)])\n"
                "    return model\n"),
        },
    },
    "alternatives_permutation_per_epoch": {
        "why": "a hand-written epoch loop over seeded torch.randperm batches instead of a DataLoader",
        "answers": {
            "q4_train_pytorch": (
                "def train_pytorch(x, y, seed, hidden=8, epochs=3, batch_size=4, lr=0.05):\n"
                "    torch.manual_seed(seed)\n"
                "    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))\n"
                "    opt = torch.optim.SGD(model.parameters(), lr=lr)\n"
                "    g = torch.Generator().manual_seed(seed)\n"
                "    xt, yt = torch.from_numpy(x), torch.from_numpy(y)\n"
                "    losses = []\n"
                "    for _ in range(epochs):\n"
                "        order = torch.randperm(len(x), generator=g)\n"
                "        for start in range(0, len(x), batch_size):\n"
                "            idx = order[start:start + batch_size]\n"
                "            opt.zero_grad()\n"
                "            loss = torch.nn.functional.mse_loss(model(xt[idx]), yt[idx])\n"
                "            loss.backward()\n"
                "            opt.step()\n"
                "            losses.append(loss.item())\n"
                "    return [p.detach().numpy().copy() for p in model.parameters()], losses\n"),
        },
    },
    "mistake_q1_reseeds_the_global_generator": {
        "why": "torch.manual_seed inside the function resets everyone else's random stream",
        "answers": {"q1_uniform_pytorch": (
            "def seeded_uniform_pytorch(shape, seed):\n"
            "    torch.manual_seed(seed)\n"
            "    return torch.rand(shape)\n")},
        "fails": ["test_q1_uniform_pytorch"],
    },
    "mistake_q2_two_permutations": {
        "why": "examples and labels shuffled with different permutations",
        "answers": {"q2_shuffle_tensorflow": (
            "def shuffle_together_tensorflow(x, y, seed):\n"
            "    n = tf.shape(x)[0]\n"
            "    return (tf.gather(x, tf.random.experimental.stateless_shuffle(tf.range(n), seed=(seed, 0))),\n"
            "            tf.gather(y, tf.random.experimental.stateless_shuffle(tf.range(n), seed=(seed, 1))))\n")},
        "fails": ["test_q2_shuffle_tensorflow"],
    },
    "mistake_q3_kernel_not_transposed": {
        "why": "a (in, out) kernel reshaped into PyTorch's (out, in) weight instead of transposed",
        "answers": {"q3_init_pytorch": (
            "def build_mlp_pytorch(seed, sizes):\n"
            "    params = numpy_params(seed, sizes)\n"
            "    layers = []\n"
            "    for i, (kernel, bias) in enumerate(params):\n"
            "        linear = torch.nn.Linear(kernel.shape[0], kernel.shape[1])\n"
            "        with torch.no_grad():\n"
            "            linear.weight.copy_(torch.from_numpy(kernel.reshape(kernel.shape[1], kernel.shape[0]).copy()))\n"
            "            linear.bias.copy_(torch.from_numpy(bias))\n"
            "        layers += [linear] + ([torch.nn.Tanh()] if i < len(params) - 1 else [])\n"
            "    return torch.nn.Sequential(*layers)\n")},
        "fails": ["test_q3_init_pytorch", "test_q3_init_parity"],
    },
    "mistake_q4_initial_weights_not_seeded": {
        "why": "only the DataLoader is seeded: the default initialization draws from the global stream",
        "answers": {"q4_train_pytorch": (
            "def train_pytorch(x, y, seed, hidden=8, epochs=3, batch_size=4, lr=0.05):\n"
            "    model = torch.nn.Sequential(torch.nn.Linear(x.shape[1], hidden), torch.nn.Tanh(), torch.nn.Linear(hidden, 1))\n"
            "    opt = torch.optim.SGD(model.parameters(), lr=lr)\n"
            "    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)),\n"
            "                                         batch_size=batch_size, shuffle=True,\n"
            "                                         generator=torch.Generator().manual_seed(seed))\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        for xb, yb in loader:\n"
            "            loss = torch.nn.functional.mse_loss(model(xb), yb)\n"
            "            opt.zero_grad()\n"
            "            loss.backward()\n"
            "            opt.step()\n"
            "            losses.append(loss.item())\n"
            "    return [p.detach().numpy().copy() for p in model.parameters()], losses\n")},
        "fails": ["test_q4_train_pytorch"],
    },
}
