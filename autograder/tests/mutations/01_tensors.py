"""Plausible submissions for 01_tensors (see autograder/tests/mutation_suite.py): answers replace the solution's cells;
`fails` lists the test cells a mistake must fail (and no other)."""

CASES = {
    "alternatives_other_apis": {
        "why": "other valid APIs: from_numpy/as_tensor, tf.cast, var_mean, keras.ops.std, advanced indexing, "
               "gather_nd, w.data, assign, torch.cdist",
        "answers": {
            "q1_dtypes_pytorch": (
                "def to_tensors_pytorch(features, labels):\n"
                "    x = torch.from_numpy(np.asarray(features)).float()\n"
                "    y = torch.as_tensor(np.asarray(labels), dtype=torch.long)\n"
                "    return x, y\n"),
            "q1_dtypes_tensorflow": (
                "def to_tensors_tensorflow(features, labels):\n"
                "    return tf.cast(features, tf.float32), tf.cast(labels, tf.int64)\n"),
            "q2_standardize_pytorch": (
                "def standardize_pytorch(x, axis=0):\n"
                "    var, mean = torch.var_mean(x, dim=axis, keepdim=True, unbiased=False)\n"
                "    return (x - mean) / var.sqrt()\n"),
            "q2_standardize_tensorflow": (
                "def standardize_tensorflow(x, axis=0):\n"
                "    mean = keras.ops.mean(x, axis=axis, keepdims=True)\n"
                "    return (x - mean) / keras.ops.std(x, axis=axis, keepdims=True)\n"),
            "q3_pick_pytorch": (
                "def pick_pytorch(x, idx):\n"
                "    return x[torch.arange(x.shape[0]), idx]\n"),
            "q3_pick_tensorflow": (
                "def pick_tensorflow(x, idx):\n"
                "    rows = tf.range(tf.shape(idx, out_type=idx.dtype)[0], dtype=idx.dtype)\n"
                "    return tf.gather_nd(x, tf.stack([rows, idx], axis=1))\n"),
            "q4_sgd_pytorch": (
                "def sgd_step_pytorch(w, grad, lr):\n"
                "    w.data.sub_(lr * grad)\n"
                "    return w\n"),
            "q4_sgd_tensorflow": (
                "def sgd_step_tensorflow(v, grad, lr):\n"
                "    v.assign(v - lr * grad)\n"
                "    return v\n"),
            "q5_pairwise_pytorch": (
                "def pairwise_sq_dists_pytorch(a, b):\n"
                "    return torch.cdist(a, b) ** 2\n"),
        },
    },
    "alternatives_loops_and_expand_dims": {
        "why": "explicit expand_dims and a manual biased variance; in-place ops written out",
        "answers": {
            "q2_standardize_pytorch": (
                "def standardize_pytorch(x, axis=0):\n"
                "    centered = x - x.mean(axis, keepdim=True)\n"
                "    return centered / centered.pow(2).mean(axis, keepdim=True).sqrt()\n"),
            "q4_sgd_pytorch": (
                "def sgd_step_pytorch(w, grad, lr):\n"
                "    with torch.no_grad():\n"
                "        w.add_(grad, alpha=-lr)\n"
                "    return w\n"),
            "q5_pairwise_tensorflow": (
                "def pairwise_sq_dists_tensorflow(a, b):\n"
                "    diff = tf.expand_dims(a, 1) - tf.expand_dims(b, 0)\n"
                "    return tf.reduce_sum(diff * diff, axis=2)\n"),
        },
    },
    "mistake_q1_labels_stay_int32": {
        "why": "tf.constant of Python ints gives int32 labels",
        "answers": {"q1_dtypes_tensorflow": (
            "def to_tensors_tensorflow(features, labels):\n"
            "    return tf.constant(features, dtype=tf.float32), tf.constant(labels)\n")},
        "fails": ["test_q1_dtypes_tensorflow"],
    },
    "mistake_q1_float64_leaks_in": {
        "why": "torch.tensor keeps NumPy's float64",
        "answers": {"q1_dtypes_pytorch": (
            "def to_tensors_pytorch(features, labels):\n"
            "    return torch.tensor(features), torch.tensor(labels)\n")},
        "fails": ["test_q1_dtypes_pytorch"],
    },
    "mistake_q2_unbiased_std": {
        "why": "torch.std divides by n - 1 by default",
        "answers": {"q2_standardize_pytorch": (
            "def standardize_pytorch(x, axis=0):\n"
            "    return (x - x.mean(dim=axis, keepdim=True)) / x.std(dim=axis, keepdim=True)\n")},
        "fails": ["test_q2_standardize_pytorch", "test_q2_standardize_parity"],
    },
    "mistake_q2_keepdims_forgotten": {
        "why": "statistics without keepdims broadcast along the wrong axis (right only for axis 0)",
        "answers": {"q2_standardize_tensorflow": (
            "def standardize_tensorflow(x, axis=0):\n"
            "    return (x - tf.reduce_mean(x, axis=axis)) / tf.math.reduce_std(x, axis=axis)\n")},
        "fails": ["test_q2_standardize_tensorflow", "test_q2_standardize_parity"],
    },
    "mistake_q3_gather_picks_rows": {
        "why": "tf.gather(x, idx) picks whole rows",
        "answers": {"q3_pick_tensorflow": (
            "def pick_tensorflow(x, idx):\n"
            "    return tf.gather(x, idx)\n")},
        "fails": ["test_q3_pick_tensorflow"],
    },
    "mistake_q4_variable_rebound": {
        "why": "a new tf.Variable instead of assign_sub: the optimizer's reference is stale",
        "answers": {"q4_sgd_tensorflow": (
            "def sgd_step_tensorflow(v, grad, lr):\n"
            "    return tf.Variable(v - lr * grad)\n")},
        "fails": ["test_q4_sgd_tensorflow"],
    },
    "mistake_q4_new_tensor": {
        "why": "w - lr * grad builds a new tensor, the parameter is unchanged",
        "answers": {"q4_sgd_pytorch": (
            "def sgd_step_pytorch(w, grad, lr):\n"
            "    return (w - lr * grad).detach().requires_grad_()\n")},
        "fails": ["test_q4_sgd_pytorch"],
    },
    "mistake_q5_wrong_axis": {
        "why": "the reduction runs over the points, not the coordinates",
        "answers": {"q5_pairwise_pytorch": (
            "def pairwise_sq_dists_pytorch(a, b):\n"
            "    return ((a[:, None, :] - b[None, :, :]) ** 2).sum(dim=1)\n")},
        "fails": ["test_q5_pairwise_pytorch", "test_q5_pairwise_parity"],
    },
}
