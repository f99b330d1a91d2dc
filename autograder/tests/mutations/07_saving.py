"""Plausible submissions for 07_saving (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_formats": {
        "why": "weights_only loading, Keras weights read back from a whole .keras file, sizes saved as a tensor",
        "answers": {
            "q1_roundtrip_pytorch": (
                "def roundtrip_pytorch(model, make_model, folder):\n"
                "    path = os.path.join(folder, 'state.pth')\n"
                "    torch.save(model.state_dict(), path)\n"
                "    fresh = make_model()\n"
                "    fresh.load_state_dict(torch.load(path, weights_only=True), strict=True)\n"
                "    return fresh\n"),
            "q1_roundtrip_tensorflow": (
                "def roundtrip_keras(model, make_model, folder):\n"
                "    path = os.path.join(folder, 'whole.keras')\n"
                "    model.save(path)\n"
                "    fresh = make_model()\n"
                "    fresh.load_weights(path)\n"
                "    return fresh\n"),
            "q2_whole_pytorch": (
                "def save_mlp_pytorch(model, sizes, path):\n"
                "    torch.save({'sizes': torch.tensor(list(sizes)), **{'w.' + k: v for k, v in model.state_dict().items()}}, path)\n"
                "\n\n"
                "def load_mlp_pytorch(path):\n"
                "    saved = torch.load(path, weights_only=True)\n"
                "    model = make_mlp_pytorch(saved['sizes'].tolist())\n"
                "    model.load_state_dict({k[2:]: v for k, v in saved.items() if k.startswith('w.')})\n"
                "    return model\n"),
        },
    },
    "alternatives_get_and_set_weights": {
        "why": "get_weights/set_weights lists instead of layer-by-layer kernels",
        "answers": {
            "q4_port_pytorch": (
                "def keras_to_state_dict(keras_model):\n"
                "    weights = keras_model.get_weights()          # kernel, bias, kernel, bias, ...\n"
                "    state = {}\n"
                "    for i in range(0, len(weights), 2):\n"
                "        state[f'{i}.weight'] = torch.tensor(weights[i].T)\n"
                "        state[f'{i}.bias'] = torch.tensor(weights[i + 1])\n"
                "    return state\n"),
            "q4_port_tensorflow": (
                "def state_dict_to_keras(state_dict, keras_model):\n"
                "    n = len(state_dict) // 2\n"
                "    keras_model.set_weights([w for i in range(n) for w in (state_dict[f'{2 * i}.weight'].numpy().T,\n"
                "                                                            state_dict[f'{2 * i}.bias'].numpy())])\n"
                "    return keras_model\n"),
        },
    },
    "mistake_q1_parameters_only": {
        "why": "named_parameters() misses the buffers (BatchNorm running statistics)",
        "answers": {"q1_roundtrip_pytorch": (
            "def roundtrip_pytorch(model, make_model, folder):\n"
            "    path = os.path.join(folder, 'weights.pt')\n"
            "    torch.save({k: v.detach() for k, v in model.named_parameters()}, path)\n"
            "    fresh = make_model()\n"
            "    fresh.load_state_dict(torch.load(path), strict=False)\n"
            "    return fresh\n")},
        "fails": ["test_q1_roundtrip_pytorch"],
    },
    "mistake_q1_file_in_the_working_directory": {
        "why": "the weights file is written to the working directory instead of the given folder",
        "answers": {"q1_roundtrip_tensorflow": (
            "def roundtrip_keras(model, make_model, folder):\n"
            "    model.save_weights('model.weights.h5')\n"
            "    fresh = make_model()\n"
            "    fresh.load_weights('model.weights.h5')\n"
            "    return fresh\n")},
        "fails": ["test_q1_roundtrip_tensorflow"],
    },
    "mistake_q2_pickled_module": {
        "why": "torch.save(model) pickles the module: weights_only=True refuses it",
        "answers": {"q2_whole_pytorch": (
            "def save_mlp_pytorch(model, sizes, path):\n"
            "    torch.save(model, path)\n"
            "\n\n"
            "def load_mlp_pytorch(path):\n"
            "    return torch.load(path, weights_only=False)\n")},
        "fails": ["test_q2_whole_pytorch"],
    },
    "mistake_q3_optimizer_state_lost": {
        "why": "a checkpoint without the optimizer's state: Adam restarts its moments",
        "answers": {"q3_checkpoint_pytorch": (
            "def save_checkpoint_pytorch(model, optimizer, step, path):\n"
            "    torch.save({'model': model.state_dict(), 'step': step}, path)\n"
            "\n\n"
            "def resume_pytorch(path, model, optimizer):\n"
            "    checkpoint = torch.load(path, weights_only=True)\n"
            "    model.load_state_dict(checkpoint['model'])\n"
            "    return int(checkpoint['step'])\n")},
        "fails": ["test_q3_checkpoint_pytorch"],
    },
    "mistake_q4_kernel_not_transposed": {
        "why": "the (out, in) weight reshaped into the (in, out) kernel",
        "answers": {"q4_port_tensorflow": (
            "def state_dict_to_keras(state_dict, keras_model):\n"
            "    dense_layers = [layer for layer in keras_model.layers if isinstance(layer, keras.layers.Dense)]\n"
            "    for i, layer in enumerate(dense_layers):\n"
            "        layer.kernel.assign(sbs.to_numpy(state_dict[f'{2 * i}.weight']).reshape(tuple(layer.kernel.shape)))\n"
            "        layer.bias.assign(sbs.to_numpy(state_dict[f'{2 * i}.bias']))\n"
            "    return keras_model\n")},
        "fails": ["test_q4_port_tensorflow", "test_q4_port_parity"],
    },
}
