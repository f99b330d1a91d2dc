"""Plausible submissions for 11_attention (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_einsum_keras_ops_functional": {
        "why": "einsum instead of matmul, an additive -inf mask, F.scaled_dot_product_attention for the output; "
               "keras.ops instead of tf.*; float 0/1 Keras masks; torch.chunk and einsum-free ports; an Activation layer",
        "answers": {
            "q1_attention_pytorch": (
                "def attention_pytorch(q, k, v, allowed=None):\n"
                "    scores = torch.einsum('...td,...sd->...ts', q, k) * q.shape[-1] ** -0.5\n"
                "    if allowed is not None:\n"
                "        scores = scores + torch.zeros_like(scores).masked_fill(~allowed, float('-inf'))\n"
                "    weights = F.softmax(scores, dim=-1)\n"
                "    return F.scaled_dot_product_attention(q, k, v, attn_mask=allowed), weights\n"),
            "q1_attention_tensorflow": (
                "def attention_tensorflow(q, k, v, allowed=None):\n"
                "    d = keras.ops.shape(q)[-1]\n"
                "    scores = keras.ops.matmul(q, keras.ops.swapaxes(k, -1, -2)) / keras.ops.sqrt(keras.ops.cast(d, 'float32'))\n"
                "    if allowed is not None:\n"
                "        scores = keras.ops.where(allowed, scores, -1e30)\n"
                "    weights = keras.ops.softmax(scores, axis=-1)\n"
                "    return keras.ops.matmul(weights, v), weights\n"),
            "q2_masks_tensorflow": (
                "def keras_attention_mask(lengths, T, causal):\n"
                "    lengths = tf.constant(lengths)\n"
                "    keys = tf.sequence_mask(lengths, T, dtype=tf.float32)[:, None, :]\n"
                "    mask = tf.ones((len(lengths), T, T)) * keys\n"
                "    if causal:\n"
                "        mask = mask * tf.linalg.band_part(tf.ones((T, T)), -1, 0)\n"
                "    return mask\n"),
            "q3_port_pytorch": (
                "def mha_to_torch_by_hand(keras_mha):\n"
                "    q, k, v, o = (keras_mha.query_dense, keras_mha.key_dense, keras_mha.value_dense, keras_mha.output_dense)\n"
                "    e = q.kernel.shape[0]\n"
                "    mha = nn.MultiheadAttention(e, keras_mha.num_heads, batch_first=True)\n"
                "    as_t = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32)\n"
                "    wq, wk, wv = mha.in_proj_weight.chunk(3)\n"
                "    bq, bk, bv = mha.in_proj_bias.chunk(3)\n"
                "    with torch.no_grad():\n"
                "        for w, b, dense in ((wq, bq, q), (wk, bk, k), (wv, bv, v)):\n"
                "            w.copy_(as_t(dense.kernel).flatten(1).T)\n"
                "            b.copy_(as_t(dense.bias).flatten())\n"
                "        mha.out_proj.weight.copy_(as_t(o.kernel).reshape(e, e).T)\n"
                "        mha.out_proj.bias.copy_(as_t(o.bias))\n"
                "    return mha\n"),
            "q4_ffn_tensorflow": (
                "def keras_ffn_from_torch(torch_ffn):\n"
                "    norm, hidden, gelu, out = torch_ffn\n"
                "    w = lambda t: t.detach().numpy()\n"
                "    model = keras.Sequential([keras.Input((hidden.in_features,)),\n"
                "                              keras.layers.LayerNormalization(epsilon=norm.eps),\n"
                "                              keras.layers.Dense(hidden.out_features),\n"
                "                              keras.layers.Activation(lambda x: keras.ops.gelu(x, approximate=gelu.approximate == 'tanh')),\n"
                "                              keras.layers.Dense(out.out_features)])\n"
                "    model.layers[0].set_weights([w(norm.weight), w(norm.bias)])\n"
                "    model.layers[1].set_weights([w(hidden.weight).T, w(hidden.bias)])\n"
                "    model.layers[3].set_weights([w(out.weight).T, w(out.bias)])\n"
                "    return model\n"),
        },
    },
    "alternatives_modules_and_copies_by_hand": {
        "why": "masks filled in a loop; an einsum port to Keras; a hand-written nn.Module for the feed-forward twin "
               "with F.gelu; the encoder block copied sublayer by sublayer instead of with sbs.encoder_layer_to_torch",
        "answers": {
            "q2_masks_pytorch": (
                "def torch_masks(lengths, T, causal):\n"
                "    pad = torch.ones(len(lengths), T, dtype=torch.bool)\n"
                "    for b, n in enumerate(lengths):\n"
                "        pad[b, :int(n)] = False\n"
                "    return (~torch.ones(T, T, dtype=torch.bool).tril() if causal else None), pad\n"),
            "q3_port_tensorflow": (
                "def mha_to_keras_by_hand(torch_mha):\n"
                "    e, h = torch_mha.embed_dim, torch_mha.num_heads\n"
                "    layer = keras.layers.MultiHeadAttention(h, e // h)\n"
                "    layer(np.zeros((2, 3, e), np.float32), np.zeros((2, 3, e), np.float32))\n"
                "    w = torch_mha.in_proj_weight.detach().numpy().reshape(3, h, e // h, e)   # (qkv, heads, head_dim, in)\n"
                "    b = torch_mha.in_proj_bias.detach().numpy().reshape(3, h, e // h)\n"
                "    for i, dense in enumerate([layer.query_dense, layer.key_dense, layer.value_dense]):\n"
                "        dense.set_weights([np.einsum('nhe->enh', w[i]), b[i]])\n"
                "    out = torch_mha.out_proj.weight.detach().numpy().reshape(e, h, e // h)     # (out, heads, head_dim)\n"
                "    layer.output_dense.set_weights([np.einsum('onh->nho', out), torch_mha.out_proj.bias.detach().numpy()])\n"
                "    return layer\n"),
            "q4_ffn_pytorch": (
                "def torch_ffn_from_keras(keras_ffn):\n"
                "    norm, hidden, out = keras_ffn.layers\n"
                "    e, h = hidden.kernel.shape\n"
                "    class FFN(nn.Module):\n"
                "        def __init__(self):\n"
                "            super().__init__()\n"
                "            self.norm, self.fc1, self.fc2 = nn.LayerNorm(e, eps=norm.epsilon), nn.Linear(e, h), nn.Linear(h, e)\n"
                "        def forward(self, x):\n"
                "            return self.fc2(F.gelu(self.fc1(self.norm(x))))\n"
                "    model = FFN()\n"
                "    t = lambda a: torch.from_numpy(np.array(a))\n"
                "    with torch.no_grad():\n"
                "        model.norm.weight.copy_(t(norm.gamma)); model.norm.bias.copy_(t(norm.beta))\n"
                "        model.fc1.weight.copy_(t(hidden.kernel).T); model.fc1.bias.copy_(t(hidden.bias))\n"
                "        model.fc2.weight.copy_(t(out.kernel).T); model.fc2.bias.copy_(t(out.bias))\n"
                "    return model\n"),
            "q5_block_pytorch": (
                "def torch_block_from_keras(block):\n"
                "    layer = nn.TransformerEncoderLayer(block.d_model, block.nhead, block.dim_feedforward,\n"
                "                                       dropout=block.dropout_rate, activation=block.activation,\n"
                "                                       layer_norm_eps=block.layer_norm_eps, batch_first=True,\n"
                "                                       norm_first=block.norm_first)\n"
                "    sbs.mha_to_torch(block.self_attn, layer.self_attn)\n"
                "    sbs.dense_to_linear(block.linear1, layer.linear1)\n"
                "    sbs.dense_to_linear(block.linear2, layer.linear2)\n"
                "    sbs.layernorm_to_torch(block.norm1, layer.norm1)\n"
                "    sbs.layernorm_to_torch(block.norm2, layer.norm2)\n"
                "    return layer\n"),
        },
    },
    "mistake_q1_no_scale": {
        "why": "softmax(QK^T) V without the 1/sqrt(d) scale",
        "answers": {"q1_attention_pytorch": (
            "def attention_pytorch(q, k, v, allowed=None):\n"
            "    scores = q @ k.transpose(-2, -1)\n"
            "    if allowed is not None:\n"
            "        scores = scores.masked_fill(~allowed, float('-inf'))\n"
            "    weights = torch.softmax(scores, dim=-1)\n"
            "    return weights @ v, weights\n")},
        "fails": ["test_q1_attention_pytorch"],
    },
    "mistake_q1_scale_by_value_size": {
        "why": "the scale 1/sqrt(d_v) of the values instead of 1/sqrt(d) of the queries and keys",
        "answers": {"q1_attention_pytorch": (
            "def attention_pytorch(q, k, v, allowed=None):\n"
            "    scores = q @ k.transpose(-2, -1) / math.sqrt(v.shape[-1])\n"
            "    if allowed is not None:\n"
            "        scores = scores.masked_fill(~allowed, float('-inf'))\n"
            "    weights = torch.softmax(scores, dim=-1)\n"
            "    return weights @ v, weights\n")},
        "fails": ["test_q1_attention_pytorch"],
    },
    "mistake_q1_softmax_over_queries": {
        "why": "the softmax over the queries axis (-2) instead of the keys",
        "answers": {"q1_attention_tensorflow": (
            "def attention_tensorflow(q, k, v, allowed=None):\n"
            "    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(tf.shape(q)[-1], q.dtype))\n"
            "    if allowed is not None:\n"
            "        scores = tf.where(allowed, scores, float('-inf'))\n"
            "    weights = tf.nn.softmax(scores, axis=-2)\n"
            "    return tf.matmul(weights, v), weights\n")},
        "fails": ["test_q1_attention_tensorflow"],
    },
    "mistake_q1_mask_inverted": {
        "why": "True read as 'blocked' (nn.MultiheadAttention's meaning) in a function whose mask means 'attend'",
        "answers": {"q1_attention_tensorflow": (
            "def attention_tensorflow(q, k, v, allowed=None):\n"
            "    scores = tf.matmul(q, k, transpose_b=True) / tf.sqrt(tf.cast(tf.shape(q)[-1], q.dtype))\n"
            "    if allowed is not None:\n"
            "        scores = tf.where(allowed, -1e9, scores)\n"
            "    weights = tf.nn.softmax(scores, axis=-1)\n"
            "    return tf.matmul(weights, v), weights\n")},
        "fails": ["test_q1_attention_tensorflow"],
    },
    "mistake_q2_keras_meaning_in_pytorch": {
        "why": "PyTorch masks built with True = attend / True = real token (Keras's meaning)",
        "answers": {"q2_masks_pytorch": (
            "def torch_masks(lengths, T, causal):\n"
            "    positions = torch.arange(T)\n"
            "    real = positions[None, :] < torch.as_tensor(lengths)[:, None]\n"
            "    return (torch.ones(T, T, dtype=torch.bool).tril() if causal else None), real\n")},
        "fails": ["test_q2_masks_pytorch"],
    },
    "mistake_q2_pytorch_meaning_in_keras": {
        "why": "a Keras attention_mask with True = blocked (PyTorch's meaning)",
        "answers": {"q2_masks_tensorflow": (
            "def keras_attention_mask(lengths, T, causal):\n"
            "    positions = np.arange(T)\n"
            "    blocked = np.broadcast_to((positions[None, :] >= np.asarray(lengths)[:, None])[:, None, :], (len(lengths), T, T))\n"
            "    if causal:\n"
            "        blocked = blocked | (positions[None, :] > positions[:, None])[None]\n"
            "    return blocked\n")},
        "fails": ["test_q2_masks_tensorflow"],
    },
    "mistake_q3_split_order_kqv": {
        "why": "in_proj_weight split as (k, q, v) instead of (q, k, v)",
        "answers": {"q3_port_tensorflow": (
            "def mha_to_keras_by_hand(torch_mha):\n"
            "    e, heads = torch_mha.embed_dim, torch_mha.num_heads\n"
            "    layer = keras.layers.MultiHeadAttention(num_heads=heads, key_dim=e // heads)\n"
            "    layer(np.zeros((1, 2, e), np.float32), np.zeros((1, 2, e), np.float32))\n"
            "    w_k, w_q, w_v = np.split(torch_mha.in_proj_weight.detach().numpy(), 3)\n"
            "    b_k, b_q, b_v = np.split(torch_mha.in_proj_bias.detach().numpy(), 3)\n"
            "    for dense, w, b in zip([layer.query_dense, layer.key_dense, layer.value_dense], [w_q, w_k, w_v], [b_q, b_k, b_v]):\n"
            "        dense.kernel.assign(w.T.reshape(e, heads, e // heads))\n"
            "        dense.bias.assign(b.reshape(heads, e // heads))\n"
            "    layer.output_dense.kernel.assign(torch_mha.out_proj.weight.detach().numpy().T.reshape(heads, e // heads, e))\n"
            "    layer.output_dense.bias.assign(torch_mha.out_proj.bias.detach().numpy())\n"
            "    return layer\n")},
        "fails": ["test_q3_port_tensorflow", "test_q3_port_parity"],
    },
    "mistake_q3_no_transpose": {
        "why": "Keras kernels reshaped into (out, in) without the transpose: right shapes, scrambled weights",
        "answers": {"q3_port_pytorch": (
            "def mha_to_torch_by_hand(keras_mha):\n"
            "    heads, head_dim = keras_mha.num_heads, keras_mha.key_dim\n"
            "    e = heads * head_dim\n"
            "    mha = nn.MultiheadAttention(e, heads, batch_first=True)\n"
            "    dense = [keras_mha.query_dense, keras_mha.key_dense, keras_mha.value_dense]\n"
            "    with torch.no_grad():\n"
            "        mha.in_proj_weight.copy_(torch.from_numpy(np.concatenate([d.kernel.numpy().reshape(e, e) for d in dense])))\n"
            "        mha.in_proj_bias.copy_(torch.from_numpy(np.concatenate([d.bias.numpy().reshape(e) for d in dense])))\n"
            "        mha.out_proj.weight.copy_(torch.from_numpy(keras_mha.output_dense.kernel.numpy().reshape(e, e)))\n"
            "        mha.out_proj.bias.copy_(torch.from_numpy(keras_mha.output_dense.bias.numpy()))\n"
            "    return mha\n")},
        "fails": ["test_q3_port_pytorch", "test_q3_port_parity"],
    },
    "mistake_q3_uses_the_helper": {
        "why": "sbs.mha_to_torch does the exercise: forbidden, and observed",
        "answers": {"q3_port_pytorch": (
            "def mha_to_torch_by_hand(keras_mha):\n"
            "    mha = nn.MultiheadAttention(keras_mha.num_heads * keras_mha.key_dim, keras_mha.num_heads, batch_first=True)\n"
            "    sbs.mha_to_torch(keras_mha, mha)\n"
            "    return mha\n")},
        "fails": ["test_q3_port_pytorch", "test_q3_port_parity"],
    },
    "mistake_q4_layernorm_eps_left_default": {
        "why": "nn.LayerNorm's default eps 1e-5 where the Keras layer has 1e-3 (weights copied by hand)",
        "answers": {"q4_ffn_pytorch": (
            "def torch_ffn_from_keras(keras_ffn):\n"
            "    norm, hidden, out = keras_ffn.layers\n"
            "    e, h = hidden.kernel.shape\n"
            "    twin = nn.Sequential(nn.LayerNorm(e), nn.Linear(e, h), nn.GELU(), nn.Linear(h, e))\n"
            "    t = lambda a: torch.from_numpy(np.array(a))\n"
            "    with torch.no_grad():\n"
            "        twin[0].weight.copy_(t(norm.gamma)); twin[0].bias.copy_(t(norm.beta))\n"
            "        twin[1].weight.copy_(t(hidden.kernel).T); twin[1].bias.copy_(t(hidden.bias))\n"
            "        twin[3].weight.copy_(t(out.kernel).T); twin[3].bias.copy_(t(out.bias))\n"
            "    return twin\n")},
        "fails": ["test_q4_ffn_pytorch"],
    },
    "mistake_q4_gelu_approximation": {
        "why": "keras.ops.gelu, whose default is the tanh approximation, for PyTorch's exact nn.GELU()",
        "answers": {"q4_ffn_tensorflow": (
            "def keras_ffn_from_torch(torch_ffn):\n"
            "    norm, hidden, gelu, out = torch_ffn\n"
            "    model = keras.Sequential([keras.Input((hidden.in_features,)), keras.layers.LayerNormalization(epsilon=norm.eps),\n"
            "                              keras.layers.Dense(hidden.out_features, activation=keras.ops.gelu),\n"
            "                              keras.layers.Dense(out.out_features)])\n"
            "    sbs.layernorm_to_keras(norm, model.layers[0])\n"
            "    sbs.linear_to_dense(hidden, model.layers[1])\n"
            "    sbs.linear_to_dense(out, model.layers[2])\n"
            "    return model\n")},
        "fails": ["test_q4_ffn_tensorflow"],
    },
    "mistake_q5_post_norm_for_pre_norm": {
        "why": "norm_first ignored: a post-norm Keras block for a pre-norm PyTorch layer",
        "answers": {"q5_block_tensorflow": (
            "def keras_block_from_torch(layer):\n"
            "    activation = 'gelu' if layer.activation is F.gelu else 'relu'\n"
            "    block = EncoderBlock(layer.self_attn.embed_dim, layer.self_attn.num_heads, layer.linear1.out_features,\n"
            "                         dropout=layer.dropout.p, activation=activation, layer_norm_eps=layer.norm1.eps)\n"
            "    block(np.zeros((1, 2, layer.self_attn.embed_dim), np.float32))\n"
            "    sbs.encoder_layer_to_keras(layer, block)\n"
            "    return block\n")},
        "fails": ["test_q5_block_tensorflow", "test_q5_block_parity"],
    },
}
