"""sidebyside: the small helper package of the TensorFlow <-> PyTorch course.

Import it first in every notebook, before ``torch`` and ``tensorflow``::

    import sidebyside as sbs      # quiets TensorFlow's logs, caps threads to the CPU quota
    import torch
    import tensorflow as tf
    sbs.seed_everything(0)

It holds tools, never solutions: seeding, conversion to NumPy, parity assertions, weight
porting, plots, warnings caught as text, a layer-by-layer parity debugger (``diagnose``), and Keras code run
on another backend in a child process.
"""

from __future__ import annotations

from . import runtime

THREADS = runtime.prepare()  # must run before either framework is imported

from .attention import (  # noqa: E402
    encoder_layer_to_keras, encoder_layer_to_torch, layernorm_to_keras, layernorm_to_torch, mha_to_keras,
    mha_to_torch,
)
from .backends import BackendError, BackendProcess, run_on_backend  # noqa: E402
from .diagnose import Diagnosis, Suspect, diagnose  # noqa: E402
from .messages import captured_warnings  # noqa: E402
from .parity import ParityError, ParityReport, assert_parity, to_numpy  # noqa: E402
from .porting import (  # noqa: E402
    batchnorm_to_keras, batchnorm_to_torch, conv2d_to_keras, conv2d_to_torch, dense_to_linear,
    linear_to_dense,
)
from .recurrent import reorder_gates, rnn_to_keras, rnn_to_torch  # noqa: E402
from .seeding import seed_everything  # noqa: E402


def torch_device():
    """The device PyTorch code should use: the first CUDA GPU when there is one, else the CPU.
    (TensorFlow places operations on a GPU by itself when it sees one.)"""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def versions() -> dict[str, str]:
    """Versions of the libraries a parity result depends on."""
    import keras
    import numpy
    import tensorflow
    import torch

    return {"torch": torch.__version__, "tensorflow": tensorflow.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__}


__all__ = [
    "THREADS", "BackendError", "BackendProcess", "Diagnosis", "ParityError", "Suspect", "captured_warnings",
    "diagnose", "ParityReport", "assert_parity", "batchnorm_to_keras", "batchnorm_to_torch", "conv2d_to_keras",
    "conv2d_to_torch", "dense_to_linear", "encoder_layer_to_keras", "encoder_layer_to_torch", "layernorm_to_keras",
    "layernorm_to_torch", "linear_to_dense", "mha_to_keras", "mha_to_torch", "reorder_gates", "rnn_to_keras",
    "rnn_to_torch", "run_on_backend", "seed_everything", "to_numpy", "torch_device", "versions",
]
