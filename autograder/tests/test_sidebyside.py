"""Unit tests of the helper package every notebook imports."""

from __future__ import annotations

import os
import subprocess
import sys

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

import sidebyside as sbs  # noqa: E402  (before the frameworks, as in the notebooks)
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from sidebyside import plotting, runtime  # noqa: E402


# --- runtime: quiet logs, thread caps ------------------------------------------------------------

def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize("cpu_max, expected", [("100000 100000", 1), ("150000 100000", 2), ("50000 100000", 1)])
def test_cpu_quota_reads_cgroup_v2(tmp_path, cpu_max, expected):
    write(tmp_path / "cpu.max", cpu_max + "\n")
    assert runtime.cpu_quota(tmp_path) == min(expected, len(os.sched_getaffinity(0)))


def test_cpu_quota_reads_cgroup_v1(tmp_path):
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "100000\n")
    write(tmp_path / "cpu" / "cpu.cfs_period_us", "100000\n")
    assert runtime.cpu_quota(tmp_path) == 1


def test_cpu_quota_without_limit_is_the_allowed_cpus(tmp_path):
    write(tmp_path / "cpu.max", "max 100000\n")
    assert runtime.cpu_quota(tmp_path) == len(os.sched_getaffinity(0))
    assert runtime.cpu_quota(tmp_path / "missing") == len(os.sched_getaffinity(0))


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "OMP_", "MKL_", "OPENBLAS_"))}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**clean, **env})


def test_importing_sidebyside_first_silences_tensorflow_and_caps_threads():
    # Without the helper, TensorFlow prints C++ log lines on stderr when it starts (checked below).
    code = "import tensorflow as tf; tf.constant(1.0) + 1"
    loud = run_python(code)
    assert loud.returncode == 0 and loud.stderr.strip(), "expected TensorFlow to log when not quieted"
    quiet = run_python("import sidebyside, torch; " + code + "; print(torch.get_num_threads())",
                       OMP_NUM_THREADS="1")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.split() == ["1"]  # the user's choice wins over the quota


def test_importing_a_framework_first_is_reported():
    late = run_python("import torch, sidebyside")
    assert "import sidebyside before torch" in late.stderr


# --- seeding -------------------------------------------------------------------------------------

def draws():
    return (np.random.rand(3), torch.rand(3).numpy(), tf.random.uniform((3,)).numpy(),
            keras.random.uniform((3,)).numpy())


def test_seed_everything_repeats_every_generator():
    sbs.seed_everything(7)
    first = draws()
    sbs.seed_everything(7)
    again = draws()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    sbs.seed_everything(8)
    assert not np.array_equal(first[1], draws()[1])
    assert torch.are_deterministic_algorithms_enabled()


def test_seed_everything_turns_on_every_determinism_switch():
    from tensorflow.python.framework import config as tf_config

    sbs.seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled() and not torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] in (":4096:8", ":16:8")
    assert tf_config.is_op_determinism_enabled()


# --- to_numpy and parity ------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    lambda: torch.tensor([[1.0, 2.0]], requires_grad=True) * 1,
    lambda: tf.constant([[1.0, 2.0]]),
    lambda: tf.Variable([[1.0, 2.0]]),
    lambda: keras.Variable(np.array([[1.0, 2.0]], np.float32)),
    lambda: np.array([[1.0, 2.0]], np.float32),
])
def test_to_numpy_converts_every_kind_of_tensor(value):
    out = sbs.to_numpy(value())
    assert isinstance(out, np.ndarray)
    np.testing.assert_array_equal(out, [[1.0, 2.0]])


def test_to_numpy_resolves_lazy_conjugates_and_negations():
    z = torch.tensor([1 + 2j]).conj()
    assert sbs.to_numpy(z)[0] == 1 - 2j


def test_parity_passes_within_tolerance_and_reports_stably():
    report = sbs.assert_parity(torch.tensor([1.0, 2.0]), tf.constant([1.0, 2.0 + 1e-7]), name="y")
    assert str(report) == "✓ y match: shape (2,), float32, within rtol=1e-05, atol=1e-06"


def test_parity_fails_loudly_with_the_worst_element():
    with pytest.raises(sbs.ParityError) as e:
        sbs.assert_parity(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.5, 3.0]), name="logits")
    msg = str(e.value)
    assert "logits: no parity" in msg and "1 of 3 elements" in msg
    assert "worst at index (1,): actual 2.0 vs expected 2.5" in msg


def test_parity_rejects_broadcastable_shapes_and_other_dtypes():
    with pytest.raises(sbs.ParityError, match=r"shapes differ: \(3,\) vs \(3, 1\)"):
        sbs.assert_parity(np.zeros(3), np.zeros((3, 1)))
    with pytest.raises(sbs.ParityError, match="dtypes differ: int64 vs int32"):
        sbs.assert_parity(torch.tensor([1, 2]), tf.constant([1, 2]))
    assert sbs.assert_parity(torch.tensor([1, 2]), tf.constant([1, 2]), check_dtype=False)


def test_parity_nan_handling():
    assert sbs.assert_parity(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]))
    with pytest.raises(sbs.ParityError, match="worst at index \\(0,\\)"):
        sbs.assert_parity(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))


def test_parity_of_text_and_booleans_is_exact():
    assert sbs.assert_parity(str(torch.float32), "torch.float32", name="dtype name")
    with pytest.raises(sbs.ParityError, match="values differ: 'torch.float64' vs 'torch.float32'"):
        sbs.assert_parity(str(torch.float64), "torch.float32")
    assert sbs.assert_parity(True, True)
    with pytest.raises(sbs.ParityError):
        sbs.assert_parity(False, True)


def test_parity_of_scalars():
    assert "shape ()" in str(sbs.assert_parity(torch.tensor(3.0), tf.constant(3.0)))


# --- porting -------------------------------------------------------------------------------------

def test_linear_and_dense_round_trip():
    torch.manual_seed(0)
    linear = torch.nn.Linear(3, 2)
    dense = keras.layers.Dense(2)
    dense.build((None, 3))
    sbs.linear_to_dense(linear, dense)
    x = np.random.default_rng(0).random((4, 3), dtype=np.float32)
    sbs.assert_parity(linear(torch.from_numpy(x)), dense(x))
    back = torch.nn.Linear(3, 2)
    sbs.dense_to_linear(dense, back)
    sbs.assert_parity(back.weight, linear.weight)
    sbs.assert_parity(back.bias, linear.bias)


def test_porting_refuses_mismatched_layers():
    dense = keras.layers.Dense(2)
    with pytest.raises(ValueError, match="build the Dense layer first"):
        sbs.linear_to_dense(torch.nn.Linear(3, 2), dense)
    dense.build((None, 4))
    with pytest.raises(ValueError, match=r"shape \(3, 2\) does not fit \(4, 2\)"):
        sbs.linear_to_dense(torch.nn.Linear(3, 2), dense)
    no_bias = keras.layers.Dense(2, use_bias=False)
    no_bias.build((None, 3))
    with pytest.raises(ValueError, match="bias"):
        sbs.dense_to_linear(no_bias, torch.nn.Linear(3, 2))


def test_conv2d_round_trip_matches_in_nhwc():
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    kconv = keras.layers.Conv2D(4, 3, padding="same")
    kconv.build((None, 6, 6, 3))
    sbs.conv2d_to_keras(conv, kconv)
    x = np.random.default_rng(1).random((2, 6, 6, 3), dtype=np.float32)
    out_pt = conv(torch.from_numpy(x).permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    sbs.assert_parity(out_pt, kconv(x), atol=1e-5)
    back = torch.nn.Conv2d(3, 4, 3, padding=1)
    sbs.conv2d_to_torch(kconv, back)
    sbs.assert_parity(back.weight, conv.weight)


def test_batchnorm_round_trip_and_config_checks():
    bn = torch.nn.BatchNorm1d(3)  # eps 1e-5, momentum 0.1
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor([0.5, -1.0, 2.0]))
        bn.weight.copy_(torch.tensor([2.0, 3.0, 4.0]))
    kbn = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5)
    kbn.build((None, 3))
    sbs.batchnorm_to_keras(bn, kbn)
    x = np.random.default_rng(2).random((5, 3), dtype=np.float32)
    sbs.assert_parity(bn.eval()(torch.from_numpy(x)), kbn(x, training=False), atol=1e-5)
    back = torch.nn.BatchNorm1d(3)
    sbs.batchnorm_to_torch(kbn, back)
    sbs.assert_parity(back.running_mean, bn.running_mean)
    default_keras = keras.layers.BatchNormalization()  # epsilon 1e-3, momentum 0.99
    default_keras.build((None, 3))
    with pytest.raises(ValueError, match="epsilon differs"):
        sbs.batchnorm_to_keras(bn, default_keras)
    with pytest.raises(ValueError, match="momentum conventions"):
        sbs.batchnorm_to_keras(torch.nn.BatchNorm1d(3, eps=1e-3), default_keras)


# --- small things ----------------------------------------------------------------------------------

def test_torch_device_is_cpu_without_a_gpu():
    assert sbs.torch_device().type == ("cuda" if torch.cuda.is_available() else "cpu")


def test_versions_name_the_frameworks():
    assert sbs.versions()["torch"] == torch.__version__


def test_plotting_functions_draw(monkeypatch):
    import matplotlib.pyplot as plt

    shown = []
    monkeypatch.setattr(plt, "show", lambda: shown.append(len(plt.gcf().axes)))
    x = np.linspace(-1, 1, 5)
    plotting.compare_functions(x, {"abs": (np.abs(x), np.abs(x)), "neg": (-x, -x)}, title="t")
    plotting.show_matrices({"a": np.eye(2), "b": np.ones((1, 3))})
    plotting.plot_curves([3, 2, 1], [3, 2, 1.1])
    plotting.plot_histograms({"torch": np.zeros(10), "keras": np.ones(10)})
    assert shown == [4, 2, 1, 2]
    plt.close("all")


def test_histograms_can_share_the_x_axis(monkeypatch):
    import matplotlib.pyplot as plt

    limits = []
    monkeypatch.setattr(plt, "show", lambda: limits.append([ax.get_xlim() for ax in plt.gcf().axes]))
    narrow, wide = np.linspace(-1, 1, 100), np.linspace(-2, 2, 100)
    plotting.plot_histograms({"torch": narrow, "keras": wide}, sharex=True)
    plotting.plot_histograms({"torch": narrow, "keras": wide})
    (shared_a, shared_b), (own_a, own_b) = limits
    assert shared_a == shared_b and shared_a[0] <= -2 and shared_a[1] >= 2
    assert own_a[1] < 1.5 < own_b[1]          # without sharex each panel zooms on its own range
    plt.close("all")


def test_captured_warnings_catches_python_warnings_and_tensorflow_logs(capsys):
    import logging
    import warnings

    logger = logging.getLogger("tensorflow")
    handlers, level = logger.handlers[:], logger.level
    logger.setLevel(logging.ERROR)              # what sbs.seed_everything does
    with sbs.captured_warnings() as caught:
        warnings.warn("first")
        logger.warning("logged %d", 2)          # opened to WARNING inside the block
        logger.info("not at INFO")
        warnings.warn("first")                  # repeated warnings are caught every time
    assert caught == ["first", "logged 2", "first"]
    assert logger.level == logging.ERROR
    assert capsys.readouterr().err == ""
    assert logger.handlers == handlers          # the logger is restored
    logger.setLevel(level)
    with pytest.warns(UserWarning):             # and warnings work again afterwards
        warnings.warn("after")
