"""Plausible submissions for 09_capstone (see autograder/tests/mutation_suite.py)."""

STEP_PT = (
    "def train_step_pytorch(model, optimizer, images, labels):\n"
    "{mode}"
    "    optimizer.zero_grad()\n"
    "    loss = {loss}\n"
    "    loss.backward()\n"
    "    optimizer.step()\n"
    "    return loss.item()\n")

CASES = {
    "alternatives_other_apis": {
        "why": "nn.CrossEntropyLoss, train(True), keras.ops cross-entropy with optimizer.apply, "
               "a functional Keras model, an identity-indexed confusion matrix",
        "answers": {
            "q3_step_pytorch": STEP_PT.format(mode="    model.train(True)\n",
                                              loss="nn.CrossEntropyLoss()(model(images), labels)"),
            "q3_step_tensorflow": (
                "def train_step_tensorflow(model, optimizer, images, labels):\n"
                "    with tf.GradientTape() as tape:\n"
                "        logits = model(images, training=True)\n"
                "        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))\n"
                "    optimizer.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)\n"
                "    return float(loss)\n"),
            "q5_evaluate_pytorch": (
                "def evaluate_pytorch(model, images, labels, num_classes):\n"
                "    model.eval()\n"
                "    with torch.no_grad():\n"
                "        predicted = model(images).argmax(1)\n"
                "    matrix = torch.zeros(num_classes, num_classes, dtype=torch.int64)\n"
                "    for t, p in zip(labels.tolist(), predicted.tolist()):\n"
                "        matrix[t, p] += 1\n"
                "    return matrix, float((predicted == labels).float().mean())\n"),
        },
    },
    "alternatives_fit_and_loops": {
        "why": "the Keras training loop as compile + one train_on_batch per batch",
        "answers": {
            "q4_train_tensorflow": (
                "def train_tensorflow(model, images, labels, orders, batch_size, lr, momentum):\n"
                "    model.compile(optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=momentum),\n"
                "                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))\n"
                "    x = np.asarray(images, np.float32)[..., None]\n"
                "    y = np.asarray(labels).astype(np.int64)\n"
                "    losses = []\n"
                "    for order in orders:\n"
                "        for idx in data.batch_indices(order, batch_size):\n"
                "            logs = model.train_on_batch(x[idx], y[idx], return_dict=True)   # the loss before the step\n"
                "            losses.append(float(logs['loss']))\n"
                "    return np.array(losses, dtype=np.float32)\n"),
        },
    },
    "mistake_q1_relu_forgotten": {
        "why": "no ReLU after the convolution",
        "answers": {"q1_build_pytorch": (
            "def build_cnn_pytorch(filters=8, num_classes=10):\n"
            "    return nn.Sequential(nn.Conv2d(1, filters, 3, padding=1), nn.Identity(), nn.MaxPool2d(2), nn.Flatten(),\n"
            "                         nn.Linear(filters * 4 * 4, num_classes))\n")},
        "fails": ["test_q1_build_pytorch"],
    },
    "mistake_q2_flatten_order_ignored": {
        "why": "a plain transpose of the Linear weight (NCHW vs NHWC flatten order)",
        "answers": {"q2_port_tensorflow": (
            "def port_pytorch_to_keras(torch_model, keras_model):\n"
            "    conv, dense = keras_model.get_layer('conv'), keras_model.get_layer('logits')\n"
            "    conv.kernel.assign(sbs.to_numpy(torch_model[0].weight).transpose(2, 3, 1, 0))\n"
            "    conv.bias.assign(sbs.to_numpy(torch_model[0].bias))\n"
            "    dense.kernel.assign(sbs.to_numpy(torch_model[4].weight).T)\n"
            "    dense.bias.assign(sbs.to_numpy(torch_model[4].bias))\n"
            "    return keras_model\n")},
        "fails": ["test_q2_port_tensorflow"],
    },
    "mistake_q3_model_left_in_eval_mode": {
        "why": "no model.train(): a BatchNorm model handed over in eval mode trains on running statistics",
        "answers": {"q3_step_pytorch": STEP_PT.format(mode="", loss="nn.functional.cross_entropy(model(images), labels)")},
        "fails": ["test_q3_step_pytorch"],
    },
    "mistake_q3_training_flag_missing": {
        "why": "model(images) without training=True: BatchNormalization runs in inference mode",
        "answers": {"q3_step_tensorflow": (
            "def train_step_tensorflow(model, optimizer, images, labels):\n"
            "    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = loss_fn(labels, model(images))\n"
            "    grads = tape.gradient(loss, model.trainable_variables)\n"
            "    optimizer.apply_gradients(zip(grads, model.trainable_variables))\n"
            "    return float(loss)\n")},
        "fails": ["test_q3_step_tensorflow"],
    },
    "mistake_q3_softmax_before_the_loss": {
        "why": "softmax, then a loss that applies log-softmax again",
        "answers": {"q3_step_pytorch": STEP_PT.format(
            mode="    model.train()\n", loss="nn.functional.cross_entropy(torch.softmax(model(images), dim=1), labels)")},
        "fails": ["test_q3_step_pytorch"],
    },
    "mistake_q4_eval_mode_training_loop": {
        "why": "a training loop that never calls model.train()",
        "answers": {"q4_train_pytorch": (
            "def train_pytorch(model, images, labels, orders, batch_size, lr, momentum):\n"
            "    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)\n"
            "    x = torch.from_numpy(np.asarray(images, dtype=np.float32)).unsqueeze(1)\n"
            "    y = torch.from_numpy(np.asarray(labels).astype(np.int64))\n"
            "    losses = []\n"
            "    for order in orders:\n"
            "        for idx in data.batch_indices(order, batch_size):\n"
            "            optimizer.zero_grad()\n"
            "            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])\n"
            "            loss.backward()\n"
            "            optimizer.step()\n"
            "            losses.append(loss.item())\n"
            "    return np.array(losses, dtype=np.float32)\n")},
        "fails": ["test_q4_train_pytorch"],
    },
}
