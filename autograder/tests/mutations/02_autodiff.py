"""Plausible submissions for 02_autodiff (see autograder/tests/mutation_suite.py)."""

CASES = {
    "alternatives_backward_and_variables": {
        "why": "backward() on a fresh copy, a tf.Variable instead of watch, clearing .grad by hand, assign",
        "answers": {
            "q1_grad_pytorch": (
                "def grad_f_pytorch(x):\n"
                "    x = x.detach().clone().requires_grad_(True)\n"
                "    (x ** 2 * torch.sin(x)).sum().backward()\n"
                "    return x.grad\n"),
            "q1_grad_tensorflow": (
                "def grad_f_tensorflow(x):\n"
                "    v = tf.Variable(x)\n"
                "    with tf.GradientTape() as tape:\n"
                "        f = tf.reduce_sum(v ** 2 * tf.sin(v))\n"
                "    return tape.gradient(f, v)\n"),
            "q2_mse_grads_pytorch": (
                "def mse_grads_pytorch(params, t_u, t_c):\n"
                "    params.grad = None\n"
                "    ((params[0] * t_u + params[1] - t_c) ** 2).mean().backward()\n"
                "    return params.grad.detach().clone()\n"),
            "q5_gd_step_pytorch": (
                "def gd_step_pytorch(params, t_u, t_c, lr):\n"
                "    params.grad = None\n"
                "    ((params[0] * t_u + params[1] - t_c) ** 2).mean().backward()\n"
                "    with torch.no_grad():\n"
                "        params.sub_(lr * params.grad)\n"
                "    params.grad = None\n"
                "    return params\n"),
            "q5_gd_step_tensorflow": (
                "def gd_step_tensorflow(params, t_u, t_c, lr):\n"
                "    with tf.GradientTape() as tape:\n"
                "        loss = keras.ops.mean(keras.ops.square(params[0] * t_u + params[1] - t_c))\n"
                "    params.assign(params - lr * tape.gradient(loss, params))\n"
                "    return params\n"),
        },
    },
    "alternatives_loops_and_torch_func": {
        "why": "a Python loop of per-row Jacobians, the full Jacobian's diagonal blocks, torch.func.grad twice",
        "answers": {
            "q3_batch_jacobian_pytorch": (
                "def batch_jacobian_pytorch(x, A):\n"
                "    rows = [torch.autograd.functional.jacobian(lambda r: torch.tanh(r @ A), row) for row in x]\n"
                "    return torch.stack(rows).detach()\n"),
            "q3_batch_jacobian_tensorflow": (
                "def batch_jacobian_tensorflow(x, A):\n"
                "    with tf.GradientTape() as tape:\n"
                "        tape.watch(x)\n"
                "        y = tf.tanh(x @ A)\n"
                "    full = tape.jacobian(y, x)                      # (N, n_out, N, n_in)\n"
                "    return tf.transpose(tf.linalg.diag_part(tf.transpose(full, [1, 3, 0, 2])), [2, 0, 1])\n"),
            "q4_second_derivative_pytorch": (
                "def second_derivative_pytorch(x):\n"
                "    f = lambda v: v ** 3 * torch.exp(-v)\n"
                "    return torch.func.vmap(torch.func.grad(torch.func.grad(f)))(x.detach())\n"),
        },
    },
    "mistake_q1_tape_does_not_watch_a_constant": {
        "why": "a tape records only what it watches: the gradient is None",
        "answers": {"q1_grad_tensorflow": (
            "def grad_f_tensorflow(x):\n"
            "    with tf.GradientTape() as tape:\n"
            "        f = tf.reduce_sum(x ** 2 * tf.sin(x))\n"
            "    return tape.gradient(f, x)\n")},
        "fails": ["test_q1_grad_tensorflow"],
    },
    "mistake_q2_stale_grad_accumulates": {
        "why": "backward() adds to an old .grad: zero_grad forgotten",
        "answers": {"q2_mse_grads_pytorch": (
            "def mse_grads_pytorch(params, t_u, t_c):\n"
            "    ((params[0] * t_u + params[1] - t_c) ** 2).mean().backward()\n"
            "    return params.grad.detach().clone()\n")},
        "fails": ["test_q2_mse_grads_pytorch"],
    },
    "mistake_q4_outer_tape_not_watching": {
        "why": "the outer tape does not watch x, so f'' is None",
        "answers": {"q4_second_derivative_tensorflow": (
            "def second_derivative_tensorflow(x):\n"
            "    with tf.GradientTape() as outer:\n"
            "        with tf.GradientTape() as inner:\n"
            "            inner.watch(x)\n"
            "            f = x ** 3 * tf.exp(-x)\n"
            "        df = inner.gradient(f, x)\n"
            "    return outer.gradient(df, x)\n")},
        "fails": ["test_q4_second_derivative_tensorflow"],
    },
    "mistake_q5_new_variable_each_step": {
        "why": "rebinding a new tf.Variable instead of assign_sub: the caller's variable never moves",
        "answers": {"q5_gd_step_tensorflow": (
            "def gd_step_tensorflow(params, t_u, t_c, lr):\n"
            "    with tf.GradientTape() as tape:\n"
            "        loss = tf.reduce_mean((params[0] * t_u + params[1] - t_c) ** 2)\n"
            "    return tf.Variable(params - lr * tape.gradient(loss, params))\n")},
        "fails": ["test_q5_gd_step_tensorflow"],
    },
    "mistake_q5_zero_grad_forgotten": {
        "why": "the step uses params.grad after backward() without clearing it: stale gradients leak in",
        "answers": {"q5_gd_step_pytorch": (
            "def gd_step_pytorch(params, t_u, t_c, lr):\n"
            "    ((params[0] * t_u + params[1] - t_c) ** 2).mean().backward()\n"
            "    with torch.no_grad():\n"
            "        params -= lr * params.grad\n"
            "    return params\n")},
        "fails": ["test_q5_gd_step_pytorch", "test_q5_gd_step_parity"],
    },
}
