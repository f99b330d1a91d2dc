"""Plausible submissions for 05_training (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_apis": {
        "why": "log_softmax + nll_loss, tf.nn's sparse cross-entropy, clip_by_global_norm, torch.linalg norms",
        "answers": {
            "q1_cross_entropy_pytorch": (
                "def cross_entropy_pytorch(logits, labels, reduction):\n"
                "    return torch.nn.functional.nll_loss(torch.log_softmax(logits, dim=1), labels.to(torch.int64),\n"
                "                                        reduction=reduction)\n"),
            "q1_cross_entropy_tensorflow": (
                "def cross_entropy_tensorflow(logits, labels, reduction):\n"
                "    per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)\n"
                "    return {'none': per_sample, 'sum': tf.reduce_sum(per_sample), 'mean': tf.reduce_mean(per_sample)}[reduction]\n"),
            "q5_clip_global_norm_pytorch": (
                "def clip_by_global_norm_pytorch(grads, max_norm):\n"
                "    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g.detach()) for g in grads]))\n"
                "    return [g.detach() * (max_norm / max(norm.item(), max_norm)) for g in grads], norm\n"),
            "q5_clip_global_norm_tensorflow": (
                "def clip_by_global_norm_tensorflow(grads, max_norm):\n"
                "    norm = tf.norm(tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0))\n"
                "    scale = max_norm / tf.maximum(norm, max_norm)\n"
                "    return [g * scale for g in grads], norm\n"),
        },
    },
    "alternatives_other_optimizer_setups": {
        "why": "an nn.Parameter copy with foreach=False; a Keras Adam applied with optimizer.apply; in-place buffer ops",
        "answers": {
            "q3_adam_first_update_pytorch": (
                "def adam_first_update_pytorch(param, grad, lr, keras_epsilon, beta_2=0.999):\n"
                "    p = torch.nn.Parameter(param.detach().clone())\n"
                "    opt = torch.optim.Adam([p], lr=lr, betas=(0.9, beta_2), eps=keras_epsilon / (1 - beta_2) ** 0.5,\n"
                "                           foreach=False)\n"
                "    p.grad = grad.detach().clone()\n"
                "    opt.step()\n"
                "    return p.detach() - param\n"),
            "q3_adam_first_update_tensorflow": (
                "def adam_first_update_tensorflow(param, grad, lr, torch_eps, beta_2=0.999):\n"
                "    p = tf.Variable(tf.identity(param))\n"
                "    keras.optimizers.Adam(learning_rate=lr, beta_2=beta_2, epsilon=torch_eps * (1 - beta_2) ** 0.5).apply([grad], [p])\n"
                "    return p.value() - param\n"),
            "q2_momentum_step_pytorch": (
                "def sgd_momentum_step_pytorch(param, buf, lr, momentum):\n"
                "    g = param.grad.detach()\n"
                "    new_buf = g.clone() if buf is None else buf.mul(momentum).add(g)\n"
                "    with torch.no_grad():\n"
                "        param.add_(new_buf, alpha=-lr)\n"
                "    return new_buf\n"),
        },
    },
    "mistake_q3_adam_by_hand": {
        "why": "the first update written out instead of configuring the framework's Adam (observed by a spy)",
        "answers": {"q3_adam_first_update_pytorch": (
            "def adam_first_update_pytorch(param, grad, lr, keras_epsilon, beta_2=0.999):\n"
            "    return (-lr * grad / (grad.abs() + keras_epsilon / (1 - beta_2) ** 0.5)).detach()\n")},
        "fails": ["test_q3_adam_first_update_pytorch"],
    },
    "mistake_q5_library_clip": {
        "why": "tf.clip_by_global_norm, which the exercise forbids (observed by a spy)",
        "answers": {"q5_clip_global_norm_tensorflow": (
            "def clip_by_global_norm_tensorflow(grads, max_norm):\n"
            "    return tf.clip_by_global_norm(grads, max_norm)\n")},
        "fails": ["test_q5_clip_global_norm_tensorflow"],
    },
    "mistake_q1_softmax_before_cross_entropy": {
        "why": "F.cross_entropy applies log-softmax itself: a softmax first squashes the loss",
        "answers": {"q1_cross_entropy_pytorch": (
            "def cross_entropy_pytorch(logits, labels, reduction):\n"
            "    return torch.nn.functional.cross_entropy(torch.softmax(logits, dim=1), labels.long(), reduction=reduction)\n")},
        "fails": ["test_q1_cross_entropy_pytorch"],
    },
    "mistake_q1_int32_labels": {
        "why": "F.cross_entropy refuses int32 labels (TensorFlow's default integer type)",
        "answers": {"q1_cross_entropy_pytorch": (
            "def cross_entropy_pytorch(logits, labels, reduction):\n"
            "    return torch.nn.functional.cross_entropy(logits, labels, reduction=reduction)\n")},
        "fails": ["test_q1_cross_entropy_pytorch"],
    },
    "mistake_q1_from_logits_forgotten": {
        "why": "Keras losses expect probabilities unless from_logits=True",
        "answers": {"q1_cross_entropy_tensorflow": (
            "def cross_entropy_tensorflow(logits, labels, reduction):\n"
            "    r = {'mean': 'sum_over_batch_size', 'sum': 'sum', 'none': None}[reduction]\n"
            "    return keras.losses.SparseCategoricalCrossentropy(reduction=r)(labels, logits)\n")},
        "fails": ["test_q1_cross_entropy_tensorflow"],
    },
    "mistake_q4_zero_grad_forgotten": {
        "why": "gradients accumulate across batches",
        "answers": {"q4_loss_history_pytorch": (
            "def loss_history_pytorch(weight, bias, x, y, lr, momentum, batch_size, epochs):\n"
            "    model = torch.nn.Linear(weight.shape[1], weight.shape[0])\n"
            "    with torch.no_grad():\n"
            "        model.weight.copy_(torch.tensor(weight))\n"
            "        model.bias.copy_(torch.tensor(bias))\n"
            "    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)\n"
            "    losses = []\n"
            "    for _ in range(epochs):\n"
            "        for start in range(0, len(x), batch_size):\n"
            "            xb, yb = torch.tensor(x[start:start + batch_size]), torch.tensor(y[start:start + batch_size])\n"
            "            loss = torch.nn.functional.mse_loss(model(xb), yb)\n"
            "            loss.backward()\n"
            "            optimizer.step()\n"
            "            losses.append(loss.item())\n"
            "    return np.array(losses, dtype=np.float32)\n")},
        "fails": ["test_q4_loss_history_pytorch", "test_q4_loss_history_parity"],
    },
    "mistake_q5_squared_norm": {
        "why": "the global norm without its square root",
        "answers": {"q5_clip_global_norm_tensorflow": (
            "def clip_by_global_norm_tensorflow(grads, max_norm):\n"
            "    norm = tf.add_n([tf.reduce_sum(g ** 2) for g in grads])\n"
            "    return [g * tf.minimum(1.0, max_norm / norm) for g in grads], norm\n")},
        "fails": ["test_q5_clip_global_norm_tensorflow"],
    },
}
