"""One call that seeds everything and asks both frameworks for deterministic kernels.

A shared seed makes each framework repeat itself run after run. It never makes PyTorch and
TensorFlow draw the same numbers: they use different random generators and different
initializer formulas. To start both from identical weights, create them once and copy them
(see ``sidebyside.porting``).
"""

from __future__ import annotations

import os
import random

import numpy as np


def seed_everything(seed: int = 0, deterministic: bool = True) -> None:
    """Seed Python's ``random``, NumPy, PyTorch and TensorFlow/Keras with ``seed``.

    With ``deterministic=True`` (the default) both frameworks also refuse nondeterministic
    kernels: ``torch.use_deterministic_algorithms`` (plus cuDNN's ``benchmark = False`` and
    ``deterministic = True``, and ``CUBLAS_WORKSPACE_CONFIG`` for cuBLAS on CUDA >= 10.2) and
    ``tf.config.experimental.enable_op_determinism``.
    Introduced in ``course/01_tensors.ipynb``.
    """
    import keras
    import tensorflow as tf
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # CPU and every CUDA device
    keras.utils.set_random_seed(seed)  # Python, NumPy and TensorFlow (not torch: TF backend)
    tf.get_logger().setLevel("ERROR")  # Python-side TF warnings would land on stderr
    if deterministic:
        # cuBLAS on CUDA >= 10.2 is deterministic only with this (read at the first CUDA call)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
        tf.config.experimental.enable_op_determinism()
