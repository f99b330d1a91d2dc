"""Plausible submissions for 04_layers (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_apis": {
        "why": "correction=1 for the running variance, keras.ops.moments, a deep copy in eval mode, predict_on_batch",
        "answers": {
            "q1_bn_forward_pytorch": (
                "def batchnorm_train_pytorch(x, weight, bias, running_mean, running_var, momentum=0.1, eps=1e-5):\n"
                "    mean = x.mean(0)\n"
                "    y = (x - mean) / torch.sqrt(x.var(0, correction=0) + eps) * weight + bias\n"
                "    return (y, torch.lerp(running_mean, mean, momentum),\n"
                "            (1 - momentum) * running_var + momentum * x.var(0, correction=1))\n"),
            "q1_bn_forward_tensorflow": (
                "def batchnorm_train_tensorflow(x, gamma, beta, moving_mean, moving_variance, momentum=0.99, epsilon=1e-3):\n"
                "    mean, var = keras.ops.moments(x, axes=[0])\n"
                "    y = gamma * (x - mean) * keras.ops.rsqrt(var + epsilon) + beta\n"
                "    return y, moving_mean * momentum + mean * (1 - momentum), moving_variance * momentum + var * (1 - momentum)\n"),
            "q4_predict_pytorch": (
                "def predict_pytorch(model, x):\n"
                "    twin = copy.deepcopy(model).eval()\n"
                "    with torch.inference_mode():\n"
                "        return twin(x)\n"),
        },
    },
    "alternatives_copied_by_hand": {
        "why": "BatchNorm weights and statistics copied by hand instead of with sbs.batchnorm_to_torch",
        "answers": {
            "q2_translate_bn_pytorch": (
                "def torch_bn_from_keras(keras_bn):\n"
                "    bn = nn.BatchNorm2d(keras_bn.gamma.shape[0], momentum=1 - keras_bn.momentum, eps=keras_bn.epsilon)\n"
                "    with torch.no_grad():\n"
                "        for target, source in [(bn.weight, keras_bn.gamma), (bn.bias, keras_bn.beta),\n"
                "                               (bn.running_mean, keras_bn.moving_mean), (bn.running_var, keras_bn.moving_variance)]:\n"
                "            target.copy_(torch.from_numpy(np.asarray(source.numpy())))\n"
                "    return bn\n"),
        },
    },
    "mistake_q1_running_var_biased": {
        "why": "PyTorch's running variance stores the UNBIASED batch variance",
        "answers": {"q1_bn_forward_pytorch": (
            "def batchnorm_train_pytorch(x, weight, bias, running_mean, running_var, momentum=0.1, eps=1e-5):\n"
            "    mean, var = x.mean(0), x.var(0, correction=0)\n"
            "    y = (x - mean) / torch.sqrt(var + eps) * weight + bias\n"
            "    return y, (1 - momentum) * running_mean + momentum * mean, (1 - momentum) * running_var + momentum * var\n")},
        "fails": ["test_q1_bn_forward_pytorch"],
    },
    "mistake_q1_pytorch_momentum_in_keras": {
        "why": "Keras's momentum is the share of the OLD statistic, not of the new batch",
        "answers": {"q1_bn_forward_tensorflow": (
            "def batchnorm_train_tensorflow(x, gamma, beta, moving_mean, moving_variance, momentum=0.99, epsilon=1e-3):\n"
            "    mean, var = tf.nn.moments(x, axes=[0])\n"
            "    y = (x - mean) / tf.sqrt(var + epsilon) * gamma + beta\n"
            "    return y, (1 - momentum) * moving_mean + momentum * mean, (1 - momentum) * moving_variance + momentum * var\n")},
        "fails": ["test_q1_bn_forward_tensorflow"],
    },
    "mistake_q2_momentum_not_converted": {
        "why": "BatchNorm momentum copied as is (m instead of 1 - m)",
        "answers": {"q2_translate_bn_tensorflow": (
            "def keras_bn_from_torch(torch_bn):\n"
            "    layer = keras.layers.BatchNormalization(momentum=torch_bn.momentum, epsilon=torch_bn.eps)\n"
            "    layer.build((None, None, None, torch_bn.num_features))\n"
            "    layer.set_weights([t.detach().numpy() for t in (torch_bn.weight, torch_bn.bias,\n"
            "                                                    torch_bn.running_mean, torch_bn.running_var)])\n"
            "    return layer\n")},
        "fails": ["test_q2_translate_bn_tensorflow"],
    },
    "mistake_q3_no_rescaling": {
        "why": "inverted dropout must scale the kept units by 1 / (1 - rate)",
        "answers": {"q3_dropout_mask_tensorflow": (
            "def dropout_with_mask_tensorflow(x, mask, rate, training):\n"
            "    return x * mask if training else tf.identity(x)\n")},
        "fails": ["test_q3_dropout_mask_tensorflow"],
    },
    "mistake_q4_eval_forgotten": {
        "why": "no eval(): dropout stays on and predictions are random",
        "answers": {"q4_predict_pytorch": (
            "def predict_pytorch(model, x):\n"
            "    with torch.no_grad():\n"
            "        return model(x)\n")},
        "fails": ["test_q4_predict_pytorch"],
    },
}
