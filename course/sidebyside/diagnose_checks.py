"""The checks ``sbs.diagnose`` runs at the first divergent pair of layers, one function per kind of
layer, and the names of the bugs they report. Each check compares the two layers' settings and
weights and, where it can, re-runs the layer with a candidate fix on the recorded input: a suspect is
``confirmed`` when that made the outputs match. See ``sidebyside/diagnose.py`` for the API."""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass

import numpy as np

from .parity import to_numpy

# The names ``Suspect.bug`` takes (tests and notebooks compare against these).
MOMENTUM = "BatchNorm momentum m vs 1 - m"
BN_EPSILON = "BatchNorm epsilon"
LN_EPSILON = "LayerNorm epsilon"
UNBIASED_VARIANCE = "unbiased vs biased running variance"
TRAINING_MODE = "training vs inference mode"
DROPOUT_ACTIVE = "dropout active on both sides"
FLATTEN_ORDER = "Flatten order (NCHW vs NHWC)"
CHANNEL_ORDER = "channel order"
SAME_PADDING = "asymmetric 'same' padding"
LSTM_GATE_ORDER = "LSTM gate order"
GRU_GATE_ORDER = "GRU gate order"
GRU_RESET_AFTER = "GRU reset_after"
BATCH_FIRST = "batch_first"
TRANSPOSED_KERNEL = "transposed kernel"
MISSING_BIAS = "missing bias"
GELU_APPROXIMATION = "GELU exact vs tanh approximation"
ACTIVATION = "different activation"
ATTENTION_LAYOUT = "attention weight layout"
ATTENTION_MASK = "attention mask meaning (attend vs mask out)"
WEIGHTS_DIFFER = "weights differ"
INPUTS_DIFFER = "inputs differ"
UNEXPLAINED = "unexplained"


@dataclass
class Suspect:
    """A named bug with the evidence for it and the fix."""

    bug: str
    evidence: str
    fix: str = ""
    confirmed: bool = False  # re-running the layer with the fix made the outputs match

    def __str__(self) -> str:
        mark = "confirmed" if self.confirmed else "suspected"
        text = f"{self.bug} ({mark}): {self.evidence}"
        return text + (f"\n      fix: {self.fix}" if self.fix else "")


def _sig2(value: float | None) -> str:
    if value is None:
        return "-"
    if not np.isfinite(value):
        return "shapes differ" if value == np.inf else "nan"
    return f"{value:.2g}"


def _first_tensor(value):
    while isinstance(value, (tuple, list)) and value:
        value = value[0]
    return value


# --- comparing outputs across layouts ---------------------------------------------------------------

def _layouts(t: np.ndarray, k: np.ndarray, chw):
    """(name, t converted to Keras's layout) for every conversion that makes the shapes agree."""
    out = []
    if t.shape == k.shape:
        out.append(("same layout", t))
    if t.ndim >= 3:
        moved = np.moveaxis(t, 1, -1)
        if moved.shape == k.shape and t.ndim >= 3:
            out.append(("channels last" if t.ndim >= 4 else "channels last (NCL->NLC)", moved))
    if t.ndim == 3 and np.swapaxes(t, 0, 1).shape == k.shape:
        out.append(("time-major -> batch-first", np.swapaxes(t, 0, 1)))
    if t.ndim == 2 and chw is not None and t.shape == k.shape and int(np.prod(chw)) == t.shape[1]:
        c, h, w = chw
        out.append(("flattened C,H,W -> H,W,C", t.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(t.shape[0], -1)))
    if t.ndim == 3 and k.ndim == 2:
        if t[:, -1].shape == k.shape:
            out.append(("last time step", t[:, -1]))
        if t[-1].shape == k.shape:
            out.append(("last time step (time-major)", t[-1]))
    return out


def _error(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return np.inf
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64)), initial=0.0))


def _close(a, b, rtol, atol) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _compare(t, k, chw, rtol, atol):
    """(error, matches, layout name, t in Keras's layout or None)."""
    t, k = np.asarray(t, np.float64), np.asarray(k, np.float64)
    best = (np.inf, False, f"shapes {t.shape} vs {k.shape}", None)
    for name, conv in _layouts(t, k, chw):
        err, ok = _error(conv, k), _close(conv, k, rtol, atol)
        if (ok, -err) > (best[1], -best[0]):
            best = (err, ok, name, conv)
    return best


def _np(value):
    value = _first_tensor(value)
    return None if value is None else to_numpy(value)


# --- the checks at the first divergent layer ----------------------------------------------------------

@dataclass
class _Context:
    """Everything recorded about the first divergent pair (``t``, ``k``: ``diagnose._Call`` records)."""

    t: object
    k: object
    x_t: np.ndarray | None
    x_k: np.ndarray | None
    y_t: np.ndarray
    y_k: np.ndarray
    to_keras: object        # function: a PyTorch-layout output -> Keras layout
    inputs_match: bool
    input_layout: str
    chw: tuple | None       # (C, H, W) of the last 4-D PyTorch output before this layer
    rtol: float
    atol: float
    training: bool
    state_before: dict      # PyTorch buffers / Keras variables of this pair before the pass
    checked: list

    def matches(self, candidate_keras_layout, target=None) -> bool:
        target = self.y_k if target is None else target
        return _close(candidate_keras_layout, target, self.rtol, self.atol)

    def matches_torch(self, candidate_keras_layout) -> bool:
        return _close(candidate_keras_layout, self.to_keras(self.y_t), self.rtol, self.atol)


def _keras_mode(call, training: bool) -> bool:
    mode = call.kwargs.get("training", training)
    return bool(mode) and bool(getattr(call.obj, "trainable", True))


def _mode_suspect(ctx: _Context):
    import torch

    t_mode, k_mode = bool(ctx.t.obj.training), _keras_mode(ctx.k, ctx.training)
    ctx.checked.append(f"mode: PyTorch {ctx.t.kind}.training={t_mode}, Keras training={k_mode}")
    if t_mode == k_mode:
        return None
    twin = copy.deepcopy(ctx.t.obj).train(k_mode)
    with torch.no_grad():
        for name, value in ctx.t.buffers.items():       # the statistics it had before this pass
            getattr(twin, name).copy_(value)
        again = to_numpy(_first_tensor(twin(torch.as_tensor(ctx.x_t))))
    confirmed = ctx.matches(ctx.to_keras(again))
    side = "PyTorch" if t_mode else "Keras"
    return Suspect(
        TRAINING_MODE,
        f"{ctx.t.kind} runs in {'training' if t_mode else 'inference'} mode in PyTorch "
        f"(module.training={t_mode}) but Keras called it with training={k_mode}; re-running the PyTorch layer "
        f"in {'training' if k_mode else 'inference'} mode {'matches' if confirmed else 'does not match'} Keras",
        f"call model.eval() in PyTorch and keep Keras's training=False (or train both): the {side} side is "
        "the odd one out", confirmed)


def _check_batchnorm(ctx: _Context) -> list[Suspect]:
    bn, kl = ctx.t.obj, ctx.k.obj
    found = []
    mode = _mode_suspect(ctx)
    if mode:
        found.append(mode)
    ctx.checked.append("configuration: eps vs epsilon, momentum vs 1 - momentum")
    t_mode = bool(bn.training)
    if not np.isclose(bn.eps, kl.epsilon, rtol=1e-6, atol=0):
        # Keras's formula with PyTorch's epsilon, on Keras's input and Keras's statistics
        axes = tuple(range(ctx.x_k.ndim - 1))
        if _keras_mode(ctx.k, ctx.training):
            mean, var = ctx.x_k.mean(axis=axes), ctx.x_k.var(axis=axes)
        else:
            mean, var = ctx.state_before["moving_mean"], ctx.state_before["moving_variance"]
        found.append(_epsilon_suspect(ctx, BN_EPSILON, "BatchNormalization", bn.eps, mean, var))
    if bn.momentum is not None and not np.isclose(bn.momentum, 1 - kl.momentum, atol=1e-9):
        mean_gap = _error(to_numpy(bn.running_mean), to_numpy(kl.moving_mean))
        found.append(Suspect(
            MOMENTUM,
            f"PyTorch momentum={bn.momentum:g} is the share of the new batch, Keras momentum={kl.momentum:g} "
            f"the share of the old value: the Keras twin of momentum={bn.momentum:g} is momentum="
            f"{1 - bn.momentum:g}; running_mean vs moving_mean differ by up to {_sig2(mean_gap)}",
            f"keras.layers.BatchNormalization(momentum={1 - bn.momentum:g})",
            confirmed=mean_gap > ctx.atol))
    ctx.checked.append("state: running_mean/var vs moving_mean/variance after the pass")
    mean_ok = _close(to_numpy(bn.running_mean), to_numpy(kl.moving_mean), ctx.rtol, ctx.atol)
    var_ok = _close(to_numpy(bn.running_var), to_numpy(kl.moving_variance), ctx.rtol, ctx.atol)
    if t_mode and _keras_mode(ctx.k, ctx.training) and mean_ok and not var_ok and not found:
        axes = tuple(range(ctx.x_k.ndim - 1))
        n = int(np.prod([ctx.x_k.shape[a] for a in axes]))
        m = 1 - kl.momentum
        unbiased = (1 - m) * ctx.state_before["moving_variance"] + m * ctx.x_k.var(axis=axes, ddof=1)
        confirmed = _close(unbiased, to_numpy(bn.running_var), ctx.rtol, ctx.atol)
        ctx.checked.append("candidate: Keras's variance update re-run with the unbiased batch variance")
        found.append(Suspect(
            UNBIASED_VARIANCE,
            f"running means agree but variances do not; Keras's update with the unbiased batch variance "
            f"(n/(n-1), n={n}) {'gives' if confirmed else 'does not give'} PyTorch's running_var: PyTorch "
            "stores the unbiased batch variance, Keras the biased one (both normalize with the biased one)",
            "nothing to port: compare running variances up to n/(n-1), or copy the statistics after training",
            confirmed))
    t_var, k_var = to_numpy(bn.running_var), to_numpy(kl.moving_variance)
    if not found and mean_ok and not var_ok and np.all(t_var >= k_var) and int(bn.num_batches_tracked) > 0:
        ctx.checked.append("state: running means agree, PyTorch's running variances are the larger ones")
        found.append(Suspect(
            UNBIASED_VARIANCE,
            f"the running means agree and only the variances differ, PyTorch's larger, after "
            f"{int(bn.num_batches_tracked)} training-mode batches in PyTorch: PyTorch's updates mix in the "
            "unbiased batch variance (n/(n-1)), Keras's the biased one (diagnose one training step with "
            "training=True to confirm it)",
            "nothing to port: a tolerance for n/(n-1), or copy the statistics after training"))
    if not found and (not mean_ok or not var_ok):
        found.append(Suspect(WEIGHTS_DIFFER, "the running statistics differ and the settings agree: "
                             "were they copied (sbs.batchnorm_to_keras)?", "sbs.batchnorm_to_keras(bn, keras_bn)"))
    if not found:
        found.extend(_weights_suspect(ctx, [("weight", to_numpy(bn.weight), to_numpy(kl.gamma)),
                                            ("bias", to_numpy(bn.bias), to_numpy(kl.beta))]))
    return found


def _epsilon_suspect(ctx: _Context, name: str, layer: str, eps: float, mean, var) -> Suspect:
    """Keras's normalization formula re-run with PyTorch's ``eps`` on Keras's input and statistics
    (``mean``, ``var``): confirmed when PyTorch's output then matches."""
    kl = ctx.k.obj
    confirmed = ctx.matches_torch(_keras_normalization(kl, ctx.x_k, mean, var, eps))
    ctx.checked.append(f"candidate: Keras's {layer} re-run with PyTorch's eps")
    return Suspect(name, f"PyTorch eps={eps:g}, Keras epsilon={kl.epsilon:g}; re-running Keras's formula with "
                         f"eps={eps:g} {'matches' if confirmed else 'does not match'} PyTorch",
                   f"keras.layers.{layer}(epsilon={eps:g})", confirmed)


def _keras_normalization(kl, x, mean, var, eps):
    """A Keras BatchNormalization's or LayerNormalization's formula, re-run on x with another eps."""
    gamma = to_numpy(kl.gamma) if kl.scale else 1.0
    beta = to_numpy(kl.beta) if kl.center else 0.0
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def _weights_suspect(ctx, triples) -> list[Suspect]:
    bad = [name for name, a, b in triples if not _close(a, b, ctx.rtol, ctx.atol)]
    ctx.checked.append("weights: " + ", ".join(name for name, _, _ in triples))
    return [Suspect(WEIGHTS_DIFFER, f"{', '.join(bad)} differ between the two layers",
                    "copy the weights (sbs.*_to_keras)")] if bad else []


def _check_layernorm(ctx: _Context) -> list[Suspect]:
    ln, kl = ctx.t.obj, ctx.k.obj
    ctx.checked.append("configuration: eps vs epsilon")
    found = []
    if not np.isclose(ln.eps, kl.epsilon, rtol=1e-6, atol=0):
        axes = tuple(range(ctx.x_k.ndim - len(ln.normalized_shape), ctx.x_k.ndim))
        mean, var = ctx.x_k.mean(axis=axes, keepdims=True), ctx.x_k.var(axis=axes, keepdims=True)
        found.append(_epsilon_suspect(ctx, LN_EPSILON, "LayerNormalization", ln.eps, mean, var))
    if not found and ln.elementwise_affine:
        found = _weights_suspect(ctx, [("weight", to_numpy(ln.weight), to_numpy(kl.gamma)),
                                       ("bias", to_numpy(ln.bias), to_numpy(kl.beta))])
    return found


def _bias_suspect(ctx, torch_bias, kl) -> list[Suspect]:
    """A bias that one side has and the other lacks (or was never copied)."""
    t_bias = None if torch_bias is None else to_numpy(torch_bias)
    k_bias = to_numpy(kl.bias) if getattr(kl, "use_bias", True) and getattr(kl, "bias", None) is not None else None
    ctx.checked.append("bias: use_bias and values")
    if t_bias is not None and np.any(t_bias != 0) and (k_bias is None or not np.any(k_bias)):
        where = "Keras's layer has use_bias=False" if k_bias is None else "Keras's bias is all zeros (not copied)"
        gap = ctx.to_keras(ctx.y_t) - ctx.y_k                      # channels last in Keras's layout
        confirmed = gap.shape[-1] == t_bias.shape[-1] and _close(gap, np.broadcast_to(t_bias, gap.shape),
                                                                  ctx.rtol, ctx.atol)
        return [Suspect(MISSING_BIAS, f"PyTorch's {ctx.t.kind} has a bias and {where}; the outputs "
                        f"{'differ by exactly that bias' if confirmed else 'differ'}",
                        "give the Keras layer use_bias=True and copy the bias", confirmed)]
    if k_bias is not None and np.any(k_bias != 0) and t_bias is None:
        return [Suspect(MISSING_BIAS, f"Keras's {ctx.k.kind} has a bias, PyTorch's {ctx.t.kind} has bias=False",
                        "make both layers agree on the bias")]
    return []


def _check_linear(ctx: _Context) -> list[Suspect]:
    lin, kl = ctx.t.obj, ctx.k.obj
    w, kernel = to_numpy(lin.weight), to_numpy(kl.kernel)
    kb = to_numpy(kl.bias) if getattr(kl, "bias", None) is not None else 0.0
    found = []
    ctx.checked.append("weights: Dense.kernel vs Linear.weight.T and Linear.weight")
    if ctx.chw is not None and ctx.input_layout.startswith("flattened") and _close(kernel, w.T, ctx.rtol, ctx.atol):
        c, h, wd = ctx.chw
        x_chw = ctx.x_k.reshape(-1, h, wd, c).transpose(0, 3, 1, 2).reshape(ctx.x_k.shape[0], -1)
        confirmed = ctx.matches_torch(x_chw @ kernel + kb)
        ctx.checked.append("candidate: Dense re-run with its kernel rows in (C, H, W) order")
        found.append(Suspect(
            FLATTEN_ORDER,
            f"the {ctx.t.kind}'s input is a (C, H, W)=({c}, {h}, {wd}) map flattened channel-first, Keras's "
            f"Flatten gives (H, W, C) order, and the kernel rows are still in PyTorch's order; re-running "
            f"the Dense with its rows reordered {'matches' if confirmed else 'does not match'} PyTorch",
            "reorder the kernel rows: weight.reshape(out, C, H, W).transpose(0, 2, 3, 1).reshape(out, -1).T "
            "(or permute to NHWC before flattening in PyTorch)", confirmed))
        return found
    transposed = _close(kernel, w, ctx.rtol, ctx.atol) and not _close(kernel, w.T, ctx.rtol, ctx.atol)
    if kernel.shape == w.shape and transposed:
        confirmed = ctx.matches_torch(ctx.x_k @ kernel.T + kb)
        ctx.checked.append("candidate: Dense re-run with the transposed kernel")
        found.append(Suspect(
            TRANSPOSED_KERNEL,
            f"Keras's kernel equals PyTorch's weight (out, in) instead of its transpose; re-running the "
            f"Dense with kernel.T {'matches' if confirmed else 'does not match'} PyTorch",
            "dense.kernel.assign(linear.weight.T) (sbs.linear_to_dense)", confirmed))
        return found
    if not _close(kernel, w.T, ctx.rtol, ctx.atol):
        found.append(Suspect(WEIGHTS_DIFFER, "Dense.kernel is neither Linear.weight.T nor Linear.weight",
                             "sbs.linear_to_dense(linear, dense)"))
    found.extend(_bias_suspect(ctx, lin.bias, kl))
    if not found and lin.bias is not None:
        found.extend(_weights_suspect(ctx, [("bias", to_numpy(lin.bias), kb)]))
    return found


def _tf_same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    effective = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _check_conv(ctx: _Context) -> list[Suspect]:
    import torch
    import torch.nn.functional as F

    conv, kl = ctx.t.obj, ctx.k.obj
    w, kernel = to_numpy(conv.weight), to_numpy(kl.kernel)
    spatial = w.ndim - 2
    right = tuple(range(2, w.ndim)) + (1, 0)           # OIHW -> HWIO
    found = []
    ctx.checked.append("weights: Conv kernel vs every axis order of the PyTorch weight")
    if not _close(kernel, w.transpose(right), ctx.rtol, ctx.atol):
        hits = [p for p in itertools.permutations(range(w.ndim))
                if w.transpose(p).shape == kernel.shape and _close(w.transpose(p), kernel, ctx.rtol, ctx.atol)]
        reshaped = w.size == kernel.size and _close(w.reshape(kernel.shape), kernel, ctx.rtol, ctx.atol)
        if hits or reshaped:
            how = f"weight.transpose{hits[0]}" if hits else "weight.reshape(kernel.shape)"
            kb = to_numpy(kl.bias) if getattr(kl, "bias", None) is not None else None
            again = _keras_conv(kl, ctx.x_k, w.transpose(right), kb)
            confirmed = again is not None and ctx.matches_torch(again)
            found.append(Suspect(
                CHANNEL_ORDER,
                f"Keras's kernel is {how}, not weight.transpose{right} (OIHW -> HWIO): channels or axes are "
                f"mixed up; re-running the Keras convolution with the right kernel "
                f"{'matches' if confirmed else 'does not match'} PyTorch", "sbs.conv2d_to_keras(conv, keras_conv)",
                confirmed))
            return found
        found.append(Suspect(WEIGHTS_DIFFER, "the Conv kernel is no axis order of the PyTorch weight",
                             "sbs.conv2d_to_keras(conv, keras_conv)"))
        return found
    ctx.checked.append("configuration: padding vs TensorFlow's 'same' split")
    if kl.padding == "same" and ctx.x_t is not None and isinstance(conv.padding, tuple):
        sizes = ctx.x_t.shape[2:]
        pads = [_tf_same_pads(s, k, st, d) for s, k, st, d in
                zip(sizes, conv.kernel_size, conv.stride, conv.dilation)]
        if any(before != after for before, after in pads) and all(p == conv.padding[0] for p in conv.padding):
            flat = [v for before_after in reversed(pads) for v in before_after]
            with torch.no_grad():
                again = getattr(F, f"conv{spatial}d")(F.pad(torch.as_tensor(ctx.x_t), flat), conv.weight,
                                                      conv.bias, conv.stride, 0, conv.dilation, conv.groups)
            confirmed = ctx.matches(ctx.to_keras(to_numpy(again)))
            ctx.checked.append("candidate: PyTorch's convolution re-run with F.pad to TensorFlow's split")
            found.append(Suspect(
                SAME_PADDING,
                f"PyTorch pads {conv.padding} on both sides; TensorFlow's 'same' with stride {conv.stride} "
                f"pads (before, after) = {pads} here; re-running PyTorch with F.pad to that split "
                f"{'matches' if confirmed else 'does not match'} Keras",
                f"padding=0 and F.pad(x, {flat}) before the PyTorch conv (or padding='valid' after "
                "keras.layers.ZeroPadding2D in Keras)", confirmed))
            return found
    found.extend(_bias_suspect(ctx, conv.bias, kl))
    return found


def _keras_conv(kl, x, kernel, bias):
    try:
        import keras

        y = keras.ops.conv(x.astype(np.float32), kernel.astype(np.float32), strides=kl.strides, padding=kl.padding,
                           dilation_rate=kl.dilation_rate)
        y = to_numpy(y)
        return y + bias if bias is not None else y
    except Exception:  # noqa: BLE001 - a candidate that cannot run is simply not confirmed
        return None


_GATES = {"LSTM": ["i", "f", "g", "o"], "GRU": ["r", "z", "n"], "RNN": ["h"]}
# The PyTorch gate each Keras block holds in a correct port: LSTM i,f,c,o = i,f,g,o; GRU z,r,h = z,r,n.
_KERAS_ORDER = {"LSTM": [0, 1, 2, 3], "GRU": [1, 0, 2], "RNN": [0]}
_KERAS_NAMES = {"LSTM": ["i", "f", "c", "o"], "GRU": ["z", "r", "h"], "RNN": ["h"]}


def _blocks(a: np.ndarray, n: int, axis: int) -> list[np.ndarray]:
    return np.split(a, n, axis=axis)


def _run_twin(kl, x_k, weights, **config):
    """The output on ``x_k`` of a fresh Keras layer like ``kl`` (with ``config`` changes) holding ``weights``."""
    try:
        cfg = dict(kl.get_config(), **config)
        cfg.pop("name", None)
        twin = type(kl).from_config(cfg)
        twin.build(x_k.shape)
        twin.set_weights([np.asarray(v, np.float32) for v in weights])
        return to_numpy(_first_tensor(twin(x_k.astype(np.float32))))
    except Exception:  # noqa: BLE001 - a candidate that cannot run is simply not confirmed
        return None


def _check_recurrent(ctx: _Context) -> list[Suspect]:
    import torch

    rnn, kl = ctx.t.obj, ctx.k.obj
    kind = ctx.t.kind
    found = []
    ctx.checked.append("configuration: batch_first vs the input layout")
    if not rnn.batch_first and ctx.input_layout == "same layout" and ctx.x_t.ndim == 3:
        twin = copy.deepcopy(rnn)
        twin.batch_first = True
        with torch.no_grad():
            again = to_numpy(_first_tensor(twin(torch.as_tensor(ctx.x_t))))
        converted = _compare(again, ctx.y_k, None, ctx.rtol, ctx.atol)
        found.append(Suspect(
            BATCH_FIRST,
            f"nn.{kind}(batch_first=False) reads (T, N, F) but got the same (N, T, F) array as Keras; re-running "
            f"it with batch_first=True {'matches' if converted[1] else 'does not match'} Keras",
            f"nn.{kind}(..., batch_first=True), or transpose the input to (T, N, F)", converted[1]))
        return found
    if kind not in _GATES or rnn.num_layers != 1 or rnn.bidirectional:
        ctx.checked.append("gate order: not checked (one unidirectional layer only)")
        return found
    g = len(_GATES[kind])
    w_ih, w_hh = to_numpy(rnn.weight_ih_l0).T, to_numpy(rnn.weight_hh_l0).T      # (in, gH), (H, gH)
    b_ih = to_numpy(rnn.bias_ih_l0) if rnn.bias else np.zeros(w_ih.shape[1], np.float32)
    b_hh = to_numpy(rnn.bias_hh_l0) if rnn.bias else np.zeros(w_ih.shape[1], np.float32)
    weights = [to_numpy(v) for v in kl.weights]          # kernel, recurrent_kernel[, bias]
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if len(weights) > 2 else None
    order = _KERAS_ORDER[kind]

    def reorder(a, axis=-1):
        parts = _blocks(a, g, axis)
        return np.concatenate([parts[i] for i in order], axis=axis)

    # which PyTorch gate each Keras block holds
    t_k, t_r = _blocks(w_ih, g, 1), _blocks(w_hh, g, 1)
    k_k, k_r = _blocks(kernel, g, 1), _blocks(recurrent, g, 1)
    held = []
    for kk, kr in zip(k_k, k_r):
        hit = [i for i in range(g) if _close(kk, t_k[i], ctx.rtol, ctx.atol) and _close(kr, t_r[i], ctx.rtol, ctx.atol)]
        held.append(hit[0] if hit else None)
    names = _GATES[kind]
    ctx.checked.append(f"gate order: each Keras kernel block ({', '.join(_KERAS_NAMES[kind])}) matched to "
                       f"PyTorch's gates ({', '.join(names)})")
    if None not in held and held != order:
        inverse = [held.index(i) for i in order]  # Keras block that holds the gate Keras wants at each slot
        fixed = [np.concatenate([_blocks(a, g, -1)[j] for j in inverse], axis=-1) for a in weights]
        again = _run_twin(kl, ctx.x_k, fixed)
        confirmed = again is not None and ctx.matches_torch(again)
        ctx.checked.append("candidate: the Keras layer re-run with its gate blocks reordered")
        found.append(Suspect(
            LSTM_GATE_ORDER if kind == "LSTM" else GRU_GATE_ORDER,
            f"Keras's blocks ({', '.join(_KERAS_NAMES[kind])}) hold PyTorch's gates "
            f"({', '.join(names[i] for i in held)}) where a port needs ({', '.join(names[i] for i in order)}); "
            f"re-running Keras with the blocks reordered {'matches' if confirmed else 'does not match'} PyTorch",
            "reorder the gate blocks of kernel, recurrent_kernel and bias: Keras's order is "
            f"{', '.join(_KERAS_NAMES[kind])} = PyTorch's {', '.join(names[i] for i in order)}", confirmed))
        return found
    if None in held:
        found.append(Suspect(WEIGHTS_DIFFER, f"Keras's {kind} kernel blocks are not PyTorch's gate weights "
                             "(transposed? from another layer?)", "copy weight_ih.T / weight_hh.T block by block"))
        return found
    if kind == "GRU":
        ctx.checked.append("configuration: reset_after")
        if not kl.reset_after:
            ported = [reorder(w_ih), reorder(w_hh), np.stack([reorder(b_ih), reorder(b_hh)])]
            again = _run_twin(kl, ctx.x_k, ported, reset_after=True)
            confirmed = again is not None and ctx.matches_torch(again)
            ctx.checked.append("candidate: a Keras GRU(reset_after=True) with PyTorch's weights and two biases")
            found.append(Suspect(
                GRU_RESET_AFTER,
                "Keras GRU(reset_after=False) applies the reset gate before the recurrent matmul and has one bias; "
                "PyTorch's nn.GRU applies it after (r * (W_hn h + b_hn)), which is reset_after=True; a "
                f"reset_after=True twin with PyTorch's weights {'matches' if confirmed else 'does not match'} PyTorch",
                "keras.layers.GRU(..., reset_after=True) with bias = stack([bias_ih, bias_hh]) reordered to z, r, h",
                confirmed))
            return found
        want_bias = np.stack([reorder(b_ih), reorder(b_hh)])
    else:
        want_bias = reorder(b_ih + b_hh)
    ctx.checked.append("bias: " + ("[bias_ih, bias_hh] rows" if kind == "GRU" else "bias_ih + bias_hh summed"))
    if want_bias.any() and (bias is None or not _close(bias, want_bias, ctx.rtol, ctx.atol)):
        if bias is None or not bias.any():
            detail = "Keras's layer has no bias" if bias is None else "Keras's bias is all zeros"
        elif kind != "GRU" and (_close(bias, reorder(b_ih), ctx.rtol, ctx.atol)
                                  or _close(bias, reorder(b_hh), ctx.rtol, ctx.atol)):
            detail = "Keras's bias is only one of PyTorch's two biases (bias_ih + bias_hh must be summed)"  # LSTM, RNN
        else:
            detail = "Keras's bias is not PyTorch's biases"
        fixed = [kernel, recurrent, want_bias]
        again = _run_twin(kl, ctx.x_k, fixed, use_bias=True)
        confirmed = again is not None and ctx.matches_torch(again)
        ctx.checked.append("candidate: the Keras layer re-run with PyTorch's biases")
        found.append(Suspect(MISSING_BIAS, f"{detail}; re-running Keras with them "
                             f"{'matches' if confirmed else 'does not match'} PyTorch",
                             "LSTM, RNN: bias = bias_ih + bias_hh; GRU (reset_after=True): bias = [bias_ih, bias_hh]",
                             confirmed))
    return found


_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "gelu (exact)": lambda x: 0.5 * x * (1 + np.vectorize(math.erf)(x / math.sqrt(2))),
    "gelu (tanh approximation)": lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "softplus": lambda x: np.logaddexp(0, x),
    "leaky_relu(0.01)": lambda x: np.where(x > 0, x, 0.01 * x),
    "leaky_relu(0.2)": lambda x: np.where(x > 0, x, 0.2 * x),
}


def _which_activation(x, y, rtol, atol) -> list[str]:
    if x is None or x.shape != y.shape:
        return []
    return [name for name, f in _ACTIVATIONS.items() if _close(f(x.astype(np.float64)), y, rtol, atol)]


def _check_activation(ctx: _Context) -> list[Suspect]:
    t_is = _which_activation(ctx.x_t, ctx.y_t, ctx.rtol, ctx.atol)
    k_is = _which_activation(ctx.x_k, ctx.y_k, ctx.rtol, ctx.atol)
    ctx.checked.append("each side's output vs " + ", ".join(_ACTIVATIONS) + " of its input")
    approximate = getattr(ctx.t.obj, "approximate", None)
    if approximate is not None:
        ctx.checked.append(f"configuration: nn.GELU(approximate={approximate!r})")
    gelus = {"gelu (exact)", "gelu (tanh approximation)"}
    if (set(t_is) & gelus) and (set(k_is) & gelus) and not set(t_is) & set(k_is):
        t_form, k_form = (set(t_is) & gelus).pop(), (set(k_is) & gelus).pop()
        keras_fix = "approximate=True" if "tanh" in t_form else "approximate=False"
        return [Suspect(
            GELU_APPROXIMATION,
            f"PyTorch computes {t_form} (approximate={approximate!r}); Keras's output is the {k_form} of its input",
            f"nn.GELU(approximate={'none' if 'exact' in k_form else 'tanh'!r}) in PyTorch, or "
            f"keras.activations.gelu(x, {keras_fix}) in Keras (keras.ops.gelu defaults to approximate=True)",
            confirmed=True)]
    if t_is and k_is and not set(t_is) & set(k_is):
        return [Suspect(ACTIVATION, f"PyTorch computes {t_is[0]}, Keras {k_is[0]}", "use the same activation",
                        confirmed=True)]
    return []


def _check_dropout(ctx: _Context) -> list[Suspect]:
    mode = _mode_suspect(ctx)
    if mode:
        return [mode]
    if ctx.t.obj.training:
        return [Suspect(DROPOUT_ACTIVE, "dropout runs in training mode on both sides: each framework draws its own "
                        "random mask, so the outputs can never match", "diagnose in inference mode "
                        "(model.eval(), training=False), or share a fixed mask (chapter 04)")]
    return []


def _mask_suspects(ctx: _Context) -> list[Suspect]:
    """PyTorch's boolean masks say True = do NOT attend; Keras's attention_mask says True (1) = attend."""
    t_args, k_args = ctx.t.arguments, ctx.k.kwargs
    ctx.checked.append("masks: attn_mask / key_padding_mask vs attention_mask; is_causal vs use_causal_mask")
    found = []
    if bool(t_args.get("is_causal")) != bool(k_args.get("use_causal_mask")):
        found.append(Suspect(ATTENTION_MASK, f"PyTorch is_causal={bool(t_args.get('is_causal'))}, Keras "
                             f"use_causal_mask={bool(k_args.get('use_causal_mask'))}",
                             "use a causal mask on both sides (nn.MultiheadAttention needs attn_mask with is_causal)"))
    k_mask = k_args.get("attention_mask")
    if k_mask is None:
        return found
    k_mask = to_numpy(k_mask).astype(bool)
    t_keep = np.ones(k_mask.shape, bool)
    seen = False
    for name in ("attn_mask", "key_padding_mask"):
        m = t_args.get(name)
        if m is None:
            continue
        m = to_numpy(m)
        if m.dtype != bool:
            continue                      # a float mask is added to the scores: not a yes/no mask
        seen = True
        if name == "key_padding_mask":
            m = m[:, None, :]
        try:
            t_keep &= ~np.broadcast_to(m, k_mask.shape)
        except ValueError:
            return found
    if seen and not np.array_equal(t_keep, k_mask) and np.array_equal(~t_keep, k_mask):
        try:
            again = to_numpy(_first_tensor(ctx.k.obj(*ctx.k.inputs, **dict(k_args, attention_mask=t_keep))))
            confirmed = ctx.matches_torch(again)
        except Exception:  # noqa: BLE001 - a candidate that cannot run is simply not confirmed
            confirmed = False
        found.append(Suspect(ATTENTION_MASK, "Keras's attention_mask is PyTorch's boolean mask as is: PyTorch's "
                             "True means 'do not attend', Keras's True means 'attend'; re-running Keras with the "
                             f"mask negated {'matches' if confirmed else 'does not match'} PyTorch",
                             "attention_mask = ~torch_mask (logical not)", confirmed))
    return found


def _check_attention(ctx: _Context) -> list[Suspect]:
    mha, kl = ctx.t.obj, ctx.k.obj
    found = []
    ctx.checked.append("configuration: batch_first vs the input layout")
    if not mha.batch_first and ctx.input_layout == "same layout":
        found.append(Suspect(BATCH_FIRST, "nn.MultiheadAttention(batch_first=False) reads (L, N, E) but got the "
                             "same (N, L, E) array as Keras", "nn.MultiheadAttention(..., batch_first=True)"))
        return found
    found.extend(_mask_suspects(ctx))
    if found or getattr(mha, "in_proj_weight", None) is None:
        return found
    w_blocks = np.split(to_numpy(mha.in_proj_weight), 3, axis=0)
    b_blocks = np.split(to_numpy(mha.in_proj_bias), 3) if mha.in_proj_bias is not None else [None] * 3
    parts = ("query", "key", "value")
    ctx.checked.append("weights: in_proj_weight's q, k, v blocks (and in_proj_bias) vs Keras's query/key/value "
                       "kernels and biases; out_proj vs Keras's output kernel")
    fixes = []                                   # (Keras variable, the value a correct port holds)
    for i, part in enumerate(parts):
        dense = getattr(kl, f"_{part}_dense", None)
        if dense is None or getattr(dense, "kernel", None) is None:
            continue
        k, t = to_numpy(dense.kernel), w_blocks[i]
        if k.size != t.size:
            found.append(Suspect(WEIGHTS_DIFFER, f"Keras's {part} kernel has {k.size} numbers, the block {t.size}: "
                                 "num_heads * key_dim must equal embed_dim"))
            return found
        want = t.T.reshape(k.shape)
        if not _close(k, want, ctx.rtol, ctx.atol):
            flat = k.reshape(t.shape[1], -1)
            if _close(flat, t, ctx.rtol, ctx.atol):
                why = "is the block itself, not its transpose"
            else:
                other = [parts[j] for j in range(3) if j != i and _close(flat, w_blocks[j].T, ctx.rtol, ctx.atol)]
                why = f"holds the {other[0]} block" if other else "is no block of in_proj_weight"
            found.append(Suspect(ATTENTION_LAYOUT, f"Keras's {part} kernel {why}: in_proj_weight packs [q; k; v] "
                                 "as (3E, E) blocks of (out, in); Keras's kernel is (E, heads, head_dim) = block.T "
                                 "reshaped", "kernel = in_proj_weight[i*E:(i+1)*E].T.reshape(E, heads, head_dim)"))
            fixes.append((dense.kernel, want))
        bias = getattr(dense, "bias", None)
        if b_blocks[i] is not None and bias is not None:
            want_b = b_blocks[i].reshape(bias.shape)
            if not _close(to_numpy(bias), want_b, ctx.rtol, ctx.atol):
                zero = not to_numpy(bias).any()
                found.append(Suspect(MISSING_BIAS if zero else WEIGHTS_DIFFER,
                                     f"Keras's {part} bias {'is all zeros' if zero else 'differs'}: it is "
                                     f"in_proj_bias[{i}*E:{i + 1}*E] reshaped to (heads, head_dim)",
                                     "bias = in_proj_bias[i*E:(i+1)*E].reshape(heads, head_dim)"))
                fixes.append((bias, want_b))
    out_dense = getattr(kl, "_output_dense", None)
    if out_dense is not None and getattr(out_dense, "kernel", None) is not None:
        want = to_numpy(mha.out_proj.weight).T.reshape(out_dense.kernel.shape)
        if not _close(to_numpy(out_dense.kernel), want, ctx.rtol, ctx.atol):
            found.append(Suspect(ATTENTION_LAYOUT, "Keras's output kernel is not out_proj.weight.T reshaped to "
                                 "(heads, head_dim, E)",
                                 "output kernel = out_proj.weight.T.reshape(heads, head_dim, E)"))
            fixes.append((out_dense.kernel, want))
    if fixes:
        confirmed = _rerun_with(ctx, fixes)
        ctx.checked.append("candidate: the Keras layer re-run with PyTorch's blocks in its layout")
        for suspect in found:
            suspect.confirmed = confirmed
            suspect.evidence += (f"; re-running Keras with PyTorch's blocks in Keras's layout "
                                 f"{'matches' if confirmed else 'does not match'} PyTorch")
    return found


def _rerun_with(ctx: _Context, fixes) -> bool:
    """Assign the candidate values, re-run the Keras layer on its recorded inputs, put the values back."""
    saved = [(v, np.array(to_numpy(v))) for v, _ in fixes]
    try:
        for v, value in fixes:
            v.assign(np.asarray(value, np.float32))
        again = to_numpy(_first_tensor(ctx.k.obj(*ctx.k.inputs, **ctx.k.kwargs)))
        return ctx.matches_torch(again)
    except Exception:  # noqa: BLE001 - a candidate that cannot run is simply not confirmed
        return False
    finally:
        for v, value in saved:
            v.assign(value)


def _checks_for(ctx: _Context) -> list[Suspect]:
    import torch.nn as nn

    t = ctx.t.obj
    if isinstance(t, nn.modules.batchnorm._BatchNorm) and hasattr(ctx.k.obj, "moving_mean"):
        return _check_batchnorm(ctx)
    if isinstance(t, nn.LayerNorm) and hasattr(ctx.k.obj, "epsilon"):
        return _check_layernorm(ctx)
    if isinstance(t, nn.Linear) and getattr(ctx.k.obj, "kernel", None) is not None and ctx.k.activation is None:
        return _check_linear(ctx)
    if isinstance(t, nn.modules.conv._ConvNd) and getattr(ctx.k.obj, "kernel", None) is not None:
        return _check_conv(ctx)
    if isinstance(t, nn.RNNBase):
        return _check_recurrent(ctx)
    if isinstance(t, nn.MultiheadAttention):
        return _check_attention(ctx)
    if isinstance(t, nn.modules.dropout._DropoutNd):
        return _check_dropout(ctx)
    if not any(True for _ in t.parameters()):
        return _check_activation(ctx)
    return []


def _inputs_differ(ctx: _Context, model_inputs: bool) -> list[Suspect]:
    found = []
    if ctx.x_t is not None and ctx.x_k is not None and ctx.x_t.ndim == 4 and ctx.x_k.ndim == 4:
        n, c, h, w = ctx.x_t.shape
        ctx.checked.append("inputs: Keras's input vs PyTorch's reshaped (not transposed) to NHWC")
        if ctx.x_k.shape == (n, h, w, c) and _close(ctx.x_t.reshape(n, h, w, c), ctx.x_k, ctx.rtol, ctx.atol):
            found.append(Suspect(CHANNEL_ORDER, "Keras's input is PyTorch's NCHW array reshaped to (N, H, W, C), "
                                 "which scrambles pixels and channels", "x.transpose(0, 2, 3, 1), not x.reshape",
                                 confirmed=True))
    where = "the model inputs" if model_inputs else "the inputs of this pair (something between the layers, such as " \
                                                   "a function call in forward, differs)"
    found.append(Suspect(INPUTS_DIFFER, f"{where} already differ in every layout tried", ""))
    return found
