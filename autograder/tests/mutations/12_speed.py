"""Plausible submissions for 12_speed (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_other_ways_to_compile_once": {
        "why": "mark_dynamic before each call; a signature with no fixed dimension; a logging lambda with .numpy()",
        "answers": {
            "q1_one_graph_pytorch": (
                "def compile_for_any_batch_pytorch(fn, backend):\n"
                "    compiled = torch.compile(fn, backend=backend)\n"
                "    def call(x):\n"
                "        torch._dynamo.mark_dynamic(x, 0)\n"
                "        return compiled(x)\n"
                "    return call\n"),
            "q1_one_trace_tensorflow": (
                "def trace_once_for_any_batch_tensorflow(fn, features):\n"
                "    return tf.function(fn, input_signature=(tf.TensorSpec(shape=(None, None), dtype=tf.float32),))\n"),
            "q2_log_calls_tensorflow": (
                "def logged_tensorflow(fn, log):\n"
                "    graph = tf.function(fn, reduce_retracing=True)\n"
                "    return lambda x: (lambda r: (log.append(r.numpy().item()), r)[1])(graph(x))\n"),
        },
    },
    "alternatives_other_precision_apis": {
        "why": "explicit bfloat16 casts instead of autocast; a per-layer dtype policy; GradScaler; LossScaleOptimizer",
        "answers": {
            "q3_mixed_forward_pytorch": (
                "def mixed_forward_pytorch(w1, b1, w2, b2, x, labels):\n"
                "    w1t, b1t = torch.tensor(w1, requires_grad=True), torch.tensor(b1, requires_grad=True)\n"
                "    w2t, b2t = torch.tensor(w2, requires_grad=True), torch.tensor(b2, requires_grad=True)\n"
                "    bf = torch.bfloat16\n"
                "    hidden = torch.relu(torch.nn.functional.linear(torch.tensor(x).to(bf), w1t.to(bf), b1t.to(bf)))\n"
                "    logits = torch.nn.functional.linear(hidden, w2t.to(bf), b2t.to(bf))\n"
                "    loss = torch.nn.functional.cross_entropy(logits.float(), torch.tensor(labels))\n"
                "    loss.backward()\n"
                "    names = [str(t.dtype).split('.')[-1] for t in (hidden, logits, loss, w1t.grad)]\n"
                "    return logits.float().detach().numpy(), float(loss), dict(zip(['hidden', 'logits', 'loss', 'weight_grad'], names))\n"),
            "q3_mixed_forward_tensorflow": (
                "def mixed_forward_tensorflow(w1, b1, w2, b2, x, labels):\n"
                "    first = keras.layers.Dense(w1.shape[0], dtype='mixed_bfloat16')\n"
                "    second = keras.layers.Dense(w2.shape[0], dtype='mixed_bfloat16')\n"
                "    first.build((None, w1.shape[1])); second.build((None, w2.shape[1]))\n"
                "    first.kernel.assign(w1.T); first.bias.assign(b1)\n"
                "    second.kernel.assign(w2.T); second.bias.assign(b2)\n"
                "    with tf.GradientTape() as tape:\n"
                "        hidden = tf.nn.relu(first(tf.constant(x)))\n"
                "        logits = second(hidden)\n"
                "        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(tf.constant(labels, tf.int32), logits)\n"
                "    grad = tape.gradient(loss, first.kernel)\n"
                "    names = {'hidden': hidden.dtype.name, 'logits': logits.dtype.name, 'loss': loss.dtype.name, 'weight_grad': grad.dtype.name}\n"
                "    return tf.cast(logits, tf.float32).numpy(), loss.numpy().item(), names\n"),
            "q4_loss_scaling_pytorch": (
                "def scaled_sgd_step_pytorch(layer, x, loss_weight, scale, lr):\n"
                "    scaler = torch.amp.GradScaler('cpu', init_scale=scale)\n"
                "    optimizer = torch.optim.SGD(layer.parameters(), lr=lr)\n"
                "    with torch.autocast('cpu', dtype=torch.float16):\n"
                "        out = layer(x)\n"
                "    scaler.scale(loss_weight * out.float().sum()).backward()\n"
                "    scaler.step(optimizer)\n"
                "    scaler.update()\n"
                "    return scaler.get_scale() == scale, scaler.get_scale()\n"),
            "q4_loss_scaling_tensorflow": (
                "def scaled_sgd_step_tensorflow(layer, x, loss_weight, scale, lr):\n"
                "    optimizer = keras.mixed_precision.LossScaleOptimizer(keras.optimizers.SGD(lr), initial_scale=scale)\n"
                "    with tf.GradientTape() as tape:\n"
                "        loss = optimizer.scale_loss(loss_weight * tf.reduce_sum(tf.cast(layer(x), tf.float32)))\n"
                "    optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables))\n"
                "    new_scale = float(optimizer.dynamic_scale)\n"
                "    return new_scale == scale, new_scale\n"),
        },
    },
    "alternatives_other_pipelines": {
        "why": "a RandomSampler that owns the generator (another order than DataLoader(generator=)); zipped datasets",
        "answers": {
            "q5_pipeline_pytorch": (
                "def make_loader_pytorch(x, y, batch_size, seed):\n"
                "    data = torch.utils.data.TensorDataset(x, y)\n"
                "    g = torch.Generator()\n"
                "    g.manual_seed(seed)\n"
                "    sampler = torch.utils.data.RandomSampler(data, generator=g)\n"
                "    return torch.utils.data.DataLoader(data, batch_size=batch_size, sampler=sampler, drop_last=False)\n"),
            "q5_pipeline_tensorflow": (
                "def make_dataset_tensorflow(x, y, batch_size, seed):\n"
                "    ds = tf.data.Dataset.zip((tf.data.Dataset.from_tensor_slices(x), tf.data.Dataset.from_tensor_slices(y)))\n"
                "    ds = ds.shuffle(buffer_size=x.shape[0], seed=seed)\n"
                "    ds = ds.batch(batch_size, drop_remainder=False)\n"
                "    return ds.prefetch(buffer_size=tf.data.AUTOTUNE)\n"),
        },
    },
    "mistake_q1_default_compile": {
        "why": "torch.compile's default recompiles once when the batch size first changes (then goes dynamic)",
        "answers": {"q1_one_graph_pytorch": (
            "def compile_for_any_batch_pytorch(fn, backend):\n"
            "    return torch.compile(fn, backend=backend)\n")},
        "fails": ["test_q1_one_graph_pytorch"],
    },
    "mistake_q1_reduce_retracing": {
        "why": "reduce_retracing traces twice (the second trace generalizes); only a signature traces once",
        "answers": {"q1_one_trace_tensorflow": (
            "def trace_once_for_any_batch_tensorflow(fn, features):\n"
            "    return tf.function(fn, reduce_retracing=True)\n")},
        "fails": ["test_q1_one_trace_tensorflow"],
    },
    "mistake_q2_append_inside_tf_function": {
        "why": "the Python append inside the tf.function runs once, at trace time, and logs a symbolic tensor",
        "answers": {"q2_log_calls_tensorflow": (
            "def logged_tensorflow(fn, log):\n"
            "    @tf.function\n"
            "    def call(x):\n"
            "        result = fn(x)\n"
            "        log.append(result)\n"
            "        return result\n"
            "    return call\n")},
        "fails": ["test_q2_log_calls_tensorflow"],
    },
    "mistake_q2_append_inside_compiled_function": {
        "why": "inside torch.compile the append is replayed, but the graph breaks and is compiled again as the list grows",
        "answers": {"q2_log_calls_pytorch": (
            "def logged_pytorch(fn, log, backend):\n"
            "    def call(x):\n"
            "        result = fn(x)\n"
            "        log.append(float(result))\n"
            "        return result\n"
            "    return torch.compile(call, backend=backend)\n")},
        "fails": ["test_q2_log_calls_pytorch"],
    },
    "mistake_q3_policy_set_after_the_layers": {
        "why": "a dtype policy applies to layers made after it: these layers stay float32",
        "answers": {"q3_mixed_forward_tensorflow": (
            "def mixed_forward_tensorflow(w1, b1, w2, b2, x, labels):\n"
            "    first = keras.layers.Dense(w1.shape[0], activation='relu')\n"
            "    second = keras.layers.Dense(w2.shape[0])\n"
            "    keras.mixed_precision.set_dtype_policy('mixed_bfloat16')\n"
            "    try:\n"
            "        first.build((None, w1.shape[1])); second.build((None, w2.shape[1]))\n"
            "        first.set_weights([w1.T, b1]); second.set_weights([w2.T, b2])\n"
            "        with tf.GradientTape() as tape:\n"
            "            hidden = first(x)\n"
            "            logits = second(hidden)\n"
            "            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)\n"
            "        grad = tape.gradient(loss, first.kernel)\n"
            "    finally:\n"
            "        keras.mixed_precision.set_dtype_policy('float32')\n"
            "    names = {'hidden': hidden.dtype.name, 'logits': logits.dtype.name, 'loss': loss.dtype.name, 'weight_grad': grad.dtype.name}\n"
            "    return tf.cast(logits, tf.float32).numpy(), float(loss), names\n")},
        "fails": ["test_q3_mixed_forward_tensorflow"],
    },
    "mistake_q3_policy_left_on": {
        "why": "the global mixed_bfloat16 policy is never set back: every later layer computes in bfloat16",
        "answers": {"q3_mixed_forward_tensorflow": (
            "def mixed_forward_tensorflow(w1, b1, w2, b2, x, labels):\n"
            "    keras.mixed_precision.set_dtype_policy('mixed_bfloat16')\n"
            "    first = keras.layers.Dense(w1.shape[0], activation='relu')\n"
            "    second = keras.layers.Dense(w2.shape[0])\n"
            "    first.build((None, w1.shape[1])); second.build((None, w2.shape[1]))\n"
            "    first.set_weights([w1.T, b1]); second.set_weights([w2.T, b2])\n"
            "    with tf.GradientTape() as tape:\n"
            "        hidden = first(x)\n"
            "        logits = second(hidden)\n"
            "        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)\n"
            "    grad = tape.gradient(loss, first.kernel)\n"
            "    names = {'hidden': hidden.dtype.name, 'logits': logits.dtype.name, 'loss': loss.dtype.name, 'weight_grad': grad.dtype.name}\n"
            "    return tf.cast(logits, tf.float32).numpy(), float(loss), names\n")},
        "fails": ["test_q3_mixed_forward_tensorflow"],
    },
    "mistake_q3_whole_model_in_bfloat16": {
        "why": "model.to(bfloat16) is not mixed precision: the weights, their gradients and the loss become bfloat16",
        "answers": {"q3_mixed_forward_pytorch": (
            "def mixed_forward_pytorch(w1, b1, w2, b2, x, labels):\n"
            "    first, second = torch.nn.Linear(w1.shape[1], w1.shape[0]), torch.nn.Linear(w2.shape[1], w2.shape[0])\n"
            "    with torch.no_grad():\n"
            "        first.weight.copy_(torch.from_numpy(w1)); first.bias.copy_(torch.from_numpy(b1))\n"
            "        second.weight.copy_(torch.from_numpy(w2)); second.bias.copy_(torch.from_numpy(b2))\n"
            "    first, second = first.to(torch.bfloat16), second.to(torch.bfloat16)\n"
            "    hidden = torch.relu(first(torch.from_numpy(x).to(torch.bfloat16)))\n"
            "    logits = second(hidden)\n"
            "    loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(labels))\n"
            "    loss.backward()\n"
            "    name = lambda t: str(t.dtype).removeprefix('torch.')\n"
            "    dtypes = {'hidden': name(hidden), 'logits': name(logits), 'loss': name(loss), 'weight_grad': name(first.weight.grad)}\n"
            "    return logits.detach().float().numpy(), loss.item(), dtypes\n")},
        "fails": ["test_q3_mixed_forward_pytorch"],
    },
    "mistake_q4_gradients_not_unscaled": {
        "why": "the update uses the scaled gradients: every step is `scale` times too large",
        "answers": {"q4_loss_scaling_pytorch": (
            "def scaled_sgd_step_pytorch(layer, x, loss_weight, scale, lr):\n"
            "    with torch.autocast('cpu', dtype=torch.float16):\n"
            "        out = layer(x)\n"
            "    (loss_weight * out.float().sum() * scale).backward()\n"
            "    if not all(torch.isfinite(p.grad).all() for p in layer.parameters()):\n"
            "        return False, scale / 2\n"
            "    with torch.no_grad():\n"
            "        for p in layer.parameters():\n"
            "            p -= lr * p.grad\n"
            "    return True, scale\n")},
        "fails": ["test_q4_loss_scaling_pytorch", "test_q4_loss_scaling_parity"],
    },
    "mistake_q4_overflow_not_skipped": {
        "why": "an inf gradient is applied: the parameters become inf or nan instead of staying as they were",
        "answers": {"q4_loss_scaling_tensorflow": (
            "def scaled_sgd_step_tensorflow(layer, x, loss_weight, scale, lr):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = loss_weight * tf.reduce_sum(tf.cast(layer(x), tf.float32)) * scale\n"
            "    grads = [g / scale for g in tape.gradient(loss, layer.trainable_variables)]\n"
            "    finite = all(bool(tf.reduce_all(tf.math.is_finite(g))) for g in grads)\n"
            "    for v, g in zip(layer.trainable_variables, grads):\n"
            "        v.assign_sub(lr * g)\n"
            "    return (True, scale) if finite else (False, scale / 2)\n")},
        "fails": ["test_q4_loss_scaling_tensorflow"],
    },
    "mistake_q5_batch_before_shuffle": {
        "why": "shuffling after batching moves whole batches: each batch keeps consecutive samples",
        "answers": {"q5_pipeline_tensorflow": (
            "def make_dataset_tensorflow(x, y, batch_size, seed):\n"
            "    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)\n"
            "    return ds.shuffle(len(x), seed=seed).prefetch(tf.data.AUTOTUNE)\n")},
        "fails": ["test_q5_pipeline_tensorflow"],
    },
    "mistake_q5_global_seed_instead_of_a_generator": {
        "why": "torch.manual_seed at build time: the order then follows whatever reseeds the global generator later",
        "answers": {"q5_pipeline_pytorch": (
            "def make_loader_pytorch(x, y, batch_size, seed):\n"
            "    torch.manual_seed(seed)\n"
            "    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=batch_size, shuffle=True)\n")},
        "fails": ["test_q5_pipeline_pytorch"],
    },
}
