"""Plausible submissions for 13_backends (see autograder/tests/mutation_suite.py)."""

# q4's layer up to its get_config, which is where the q4 cases differ
SCALED_TANH_BUT_ITS_CONFIG = (
    "@keras.saving.register_keras_serializable(package='course13')\n"
    "class ScaledTanh(keras.layers.Layer):\n"
    "    def __init__(self, units, scale=1.0, use_bias=True, **kwargs):\n"
    "        super().__init__(**kwargs)\n"
    "        self.units, self.scale, self.use_bias = units, scale, use_bias\n"
    "\n"
    "    def build(self, input_shape):\n"
    "        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer='glorot_uniform', name='kernel')\n"
    "        self.bias = self.add_weight(shape=(self.units,), initializer='zeros', name='bias') if self.use_bias else None\n"
    "\n"
    "    def call(self, x):\n"
    "        y = ops.matmul(x, self.kernel)\n"
    "        if self.use_bias:\n"
    "            y = y + self.bias\n"
    "        return self.scale * ops.tanh(y)\n"
    "\n")

CASES = {
    "alternatives_einsum_softmax_by_hand_other_weight_order": {
        "why": "einsum with an ellipsis and a hand-written, shifted softmax; the GLU's weights created gate first, "
               "with other initializers and keras.activations; get_config through config.update",
        "answers": {
            "q1_attention": (
                "def attention_weights(q, k):\n"
                "    scores = ops.einsum('...nd,...md->...nm', q, k) / float(q.shape[-1]) ** 0.5\n"
                "    scores = scores - ops.max(scores, axis=-1, keepdims=True)\n"
                "    e = ops.exp(scores)\n"
                "    return e / ops.sum(e, axis=-1, keepdims=True)\n"),
            "q2_glu_layer": (
                "class KerasGLU(keras.layers.Layer):\n"
                "    def __init__(self, units, **kwargs):\n"
                "        super().__init__(**kwargs)\n"
                "        self.units = units\n"
                "\n"
                "    def build(self, input_shape):\n"
                "        shape = (input_shape[-1], self.units)\n"
                "        self.gate_kernel = self.add_weight(shape=shape, initializer='he_normal', name='gk')\n"
                "        self.gate_bias = self.add_weight(shape=(self.units,), initializer='ones', name='gb')\n"
                "        self.value_kernel = self.add_weight(shape=shape, initializer='random_normal', name='vk')\n"
                "        self.value_bias = self.add_weight(shape=(self.units,), initializer='zeros', name='vb')\n"
                "\n"
                "    def call(self, x):\n"
                "        gate = keras.activations.sigmoid(ops.add(ops.dot(x, self.gate_kernel), self.gate_bias))\n"
                "        return ops.multiply(ops.add(ops.matmul(x, self.value_kernel), self.value_bias), gate)\n"),
            "q4_config": SCALED_TANH_BUT_ITS_CONFIG + (
                "    def get_config(self):\n"
                "        config = super().get_config()\n"
                "        config.update(units=self.units, scale=self.scale, use_bias=self.use_bias)\n"
                "        return config\n"),
        },
    },
    "alternatives_weight_lists": {
        "why": "the ports through get_weights/set_weights and state_dict lists instead of layer by layer",
        "answers": {
            "q3_port_pytorch": (
                "def keras_glu_to_torch(keras_model):\n"
                "    vk, vb = keras_model.get_layer('value').get_weights()\n"
                "    gk, gb = keras_model.get_layer('gate').get_weights()\n"
                "    module = TorchGLU(vk.shape[0], vk.shape[1])\n"
                "    module.load_state_dict({'value.weight': torch.tensor(vk.T), 'value.bias': torch.tensor(vb),\n"
                "                            'gate.weight': torch.tensor(gk.T), 'gate.bias': torch.tensor(gb)})\n"
                "    return module\n"),
            "q3_port_tensorflow": (
                "def torch_glu_to_keras(module, keras_model):\n"
                "    state = {k: v.detach().numpy() for k, v in module.state_dict().items()}\n"
                "    keras_model.get_layer('value').set_weights([state['value.weight'].T, state['value.bias']])\n"
                "    keras_model.get_layer('gate').set_weights([state['gate.weight'].T, state['gate.bias']])\n"
                "    return keras_model\n"),
        },
    },
    "mistake_q1_tf_ops": {
        "why": "tf.matmul and tf.nn.softmax instead of keras.ops: fine on the TensorFlow backend, "
               "no TensorFlow on the torch backend",
        "answers": {"q1_attention": (
            "def attention_weights(q, k):\n"
            "    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(tf.shape(q)[-1], q.dtype))\n"
            "    return tf.nn.softmax(scores, axis=-1)\n")},
        "fails": ["test_q1_attention_pytorch"],
    },
    "mistake_q1_transpose_reverses_every_axis": {
        "why": "ops.transpose(k) reverses all axes: right for a matrix, wrong for a batch of keys",
        "answers": {"q1_attention": (
            "def attention_weights(q, k):\n"
            "    scores = ops.matmul(q, ops.transpose(k)) / ops.sqrt(float(q.shape[-1]))\n"
            "    return ops.softmax(scores, axis=-1)\n")},
        "fails": ["test_q1_attention_pytorch", "test_q1_attention_tensorflow"],
    },
    "mistake_q2_tf_sigmoid": {
        "why": "tf.sigmoid in call(): the layer works on TensorFlow only",
        "answers": {"q2_glu_layer": (
            "class KerasGLU(keras.layers.Layer):\n"
            "    def __init__(self, units, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.units = units\n"
            "\n"
            "    def build(self, input_shape):\n"
            "        shape = (input_shape[-1], self.units)\n"
            "        self.value_kernel = self.add_weight(shape=shape, name='value_kernel')\n"
            "        self.value_bias = self.add_weight(shape=(self.units,), initializer='zeros', name='value_bias')\n"
            "        self.gate_kernel = self.add_weight(shape=shape, name='gate_kernel')\n"
            "        self.gate_bias = self.add_weight(shape=(self.units,), initializer='zeros', name='gate_bias')\n"
            "\n"
            "    def call(self, x):\n"
            "        value = ops.matmul(x, self.value_kernel) + self.value_bias\n"
            "        return value * tf.sigmoid(ops.matmul(x, self.gate_kernel) + self.gate_bias)\n")},
        "fails": ["test_q2_glu_layer_pytorch"],
    },
    "mistake_q3_reshape_instead_of_transpose": {
        "why": "the weight reshaped to the kernel's shape instead of transposed (silently wrong numbers)",
        "answers": {"q3_port_tensorflow": (
            "def torch_glu_to_keras(module, keras_model):\n"
            "    for linear, name in [(module.value, 'value'), (module.gate, 'gate')]:\n"
            "        dense = keras_model.get_layer(name)\n"
            "        dense.kernel.assign(linear.weight.detach().numpy().reshape(dense.kernel.shape))\n"
            "        dense.bias.assign(linear.bias.detach().numpy())\n"
            "    return keras_model\n")},
        "fails": ["test_q3_port_tensorflow", "test_q3_port_parity"],
    },
    "mistake_q3_branches_swapped": {
        "why": "the value weights copied into the gate and the other way round",
        "answers": {"q3_port_pytorch": (
            "def keras_glu_to_torch(keras_model):\n"
            "    value, gate = keras_model.get_layer('value'), keras_model.get_layer('gate')\n"
            "    d_in, units = value.kernel.shape\n"
            "    module = TorchGLU(d_in, units)\n"
            "    with torch.no_grad():\n"
            "        for linear, dense in [(module.value, gate), (module.gate, value)]:\n"
            "            linear.weight.copy_(torch.tensor(dense.kernel.numpy().T))\n"
            "            linear.bias.copy_(torch.tensor(dense.bias.numpy()))\n"
            "    return module\n")},
        "fails": ["test_q3_port_pytorch", "test_q3_port_parity"],
    },
    "mistake_q4_config_without_scale": {
        "why": "get_config forgets one constructor argument (scale): from_config and load_model fall back to 1.0",
        "answers": {"q4_config": SCALED_TANH_BUT_ITS_CONFIG + (
            "    def get_config(self):\n"
            "        return {**super().get_config(), 'units': self.units, 'use_bias': self.use_bias}\n")},
        "fails": ["test_q4_config_pytorch", "test_q4_config_tensorflow"],
    },
    "mistake_q4_config_without_base": {
        "why": "get_config returns only the layer's own arguments: the name (and dtype, trainable) are lost",
        "answers": {"q4_config": SCALED_TANH_BUT_ITS_CONFIG + (
            "    def get_config(self):\n"
            "        return {'units': self.units, 'scale': self.scale, 'use_bias': self.use_bias}\n")},
        "fails": ["test_q4_config_pytorch", "test_q4_config_tensorflow"],
    },
}
