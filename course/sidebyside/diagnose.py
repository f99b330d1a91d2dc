"""A parity debugger: run a PyTorch model and its Keras port layer by layer and name the bug.

When two models disagree, "max error 0.3" tells you nothing. ``diagnose`` runs both models on
the same input, records every layer's input and output, compares them pair by pair, stops at the
first pair whose outputs diverge, and names the likely convention bug from what it sees there.
Introduced in ``course/03_models.ipynb`` (Flatten order) and ``course/04_layers.ipynb`` (BatchNorm
momentum), and used again in chapters 10 (GRU gate order, ``reset_after``) and 11 (LayerNorm epsilon,
GELU's tanh approximation)::

    report = sbs.diagnose(torch_model, keras_model, x)   # x in PyTorch's layout (NCHW for images)
    print(report)                  # a row per layer pair (max error or a check mark), then the suspects
    report.first_divergence        # None when every pair matches, else the index of the first bad row
    report.layer                   # e.g. "3 (Linear) <-> logits (Dense)"
    report.max_abs_error           # at that pair
    report.suspects                # [Suspect(bug, evidence, fix, confirmed)], the confirmed ones first
    report.suspects[0].bug         # e.g. "Flatten order (NCHW vs NHWC)": one of the names below
    report.checked                 # what was checked at that pair, in words
    report.ok, report.bugs, report.rows

Signature::

    sbs.diagnose(torch_model, keras_model, x, *, keras_x=None, mapping=None, training=False,
                 rtol=1e-4, atol=1e-5) -> sbs.Diagnosis

* ``torch_model``: any ``nn.Module``. Its *leaf* calls (modules that call no other module) are
  recorded with forward hooks, in call order, with grad enabled (so that PyTorch's fused
  inference fast paths, which skip submodules, are not taken). Its mode is left as you set it
  (``train()`` / ``eval()``): a mode that differs from Keras's is one of the bugs it names.
* ``keras_model``: a built ``keras.Model`` (Sequential, functional or subclassed) or a single
  layer. Its leaf layers are recorded in call order while ``keras_model(keras_x, training=training)``
  runs (several inputs go in as a list; a single layer takes them as arguments, e.g.
  ``MultiHeadAttention(query, value)``). ``LSTM``, ``GRU``, ``SimpleRNN``, ``Bidirectional`` and
  ``MultiHeadAttention`` count as one layer each, as in PyTorch. A ``Dense``/``Conv`` with an
  ``activation`` counts as two steps, ``<name>`` and ``<name>.activation``, to line up with
  PyTorch's separate ``nn.ReLU``/``nn.GELU`` modules.
* ``x``: the PyTorch input: an array or tensor, or a tuple of them for several inputs (floats
  become float32; boolean masks and integer ids keep their type). ``keras_x`` defaults to ``x``,
  moved channels-last when it is 4-D and the Keras model's input shape (or a first convolution)
  asks for it. Give ``keras_x`` yourself for anything else (time-major sequences, masks).
* ``mapping``: ``{torch_module_name: keras_layer_name}`` pairs layers explicitly (names as in
  ``named_modules()`` and ``layer.name``, ``"<name>.activation"`` for a fused activation); only
  the mapped pairs are compared. Without it, layers pair by order; when the counts differ, pure
  reshapes (``Flatten``, ``Reshape``, ``nn.Identity``) are left out of the pairing; when they still
  differ, a ``ValueError`` lists both sides and asks for a mapping. That and unusable input are
  the only errors: a divergence never raises.
* ``training``: Keras's ``training`` argument (PyTorch's mode is the module's own flag).
* Layouts: a pair is compared as is, or after moving PyTorch's channels last (NCHW -> NHWC,
  NCL -> NLC), after swapping time-major (T, N, F) to batch-first, after reordering a flattened
  (C, H, W) vector into (H, W, C) order, or at the last time step (a Keras RNN without
  ``return_sequences``). The table's last column says which layout made them comparable.
* BatchNorm pairs are also compared on their running statistics after the pass (so a
  ``training=True`` diagnosis catches a momentum or variance-update bug). Both models are left
  as found: PyTorch buffers and Keras's non-trainable variables are restored afterwards.

What it names at the first divergent pair (``Suspect.bug``), and what it checks for it.
``confirmed=True`` means that re-running the layer with the candidate fix made the outputs match, or,
where no re-run is needed, that the values prove it (momentum: the statistics really differ; an
input that is the reshaped array; an activation whose formula was identified on each side):

============================================  ======================================================
``Suspect.bug``                               evidence
============================================  ======================================================
``BatchNorm momentum m vs 1 - m``             ``momentum`` vs ``1 - momentum``; running vs moving stats
``BatchNorm epsilon``                         ``eps`` vs ``epsilon``; Keras's formula re-run with ``eps``
``LayerNorm epsilon``                         ``eps`` vs ``epsilon``; Keras's formula re-run with ``eps``
``unbiased vs biased running variance``       means agree, variances do not; the update re-run with
                                              the unbiased batch variance (``training=True``)
``training vs inference mode``                ``module.training`` vs Keras's ``training``; the PyTorch
                                              layer re-run in the other mode (BatchNorm, Dropout)
``dropout active on both sides``              both in training mode: each framework draws its own mask
``Flatten order (NCHW vs NHWC)``              a Dense after a flattened map; re-run with its kernel
                                              rows in (C, H, W) order
``channel order``                             the Conv kernel vs every axis order of the weight and a
                                              reshape, re-run; or an input reshaped, not transposed
``asymmetric 'same' padding``                 PyTorch's symmetric padding vs TensorFlow's split;
                                              re-run with ``F.pad`` to that split
``LSTM gate order`` / ``GRU gate order``      each Keras kernel block matched to PyTorch's gates
                                              (i,f,g,o / r,z,n); Keras re-run with blocks reordered
``GRU reset_after``                           ``reset_after=False``; a ``reset_after=True`` twin re-run
``batch_first``                               ``batch_first=False`` fed the batch-first array; re-run
``transposed kernel``                         Dense kernel vs Linear weight and its transpose; re-run
``missing bias``                              ``use_bias``, a zero bias (Dense, Conv, attention), one
                                              of an LSTM's/RNN's two biases; re-run with the bias
``GELU exact vs tanh approximation``          ``nn.GELU(approximate=...)``; both formulas on the input
``different activation``                      each side's output vs relu, tanh, sigmoid, gelu, silu...
``attention weight layout``                   ``in_proj_weight``'s q, k, v blocks and ``out_proj`` vs
                                              Keras's query/key/value/output kernels; re-run with them
``attention mask meaning (attend vs mask      PyTorch's boolean ``attn_mask``/``key_padding_mask`` vs
out)``                                        ``attention_mask``; re-run with the mask negated;
                                              ``is_causal`` vs ``use_causal_mask``
``weights differ`` / ``inputs differ`` /      the weights or the pair's inputs compared directly;
``unexplained``                               nothing above explains it
============================================  ======================================================

The names are plain strings, also constants of ``sidebyside/diagnose_checks.py`` (``MOMENTUM``,
``FLATTEN_ORDER``, ...; ``sbs.diagnose`` itself is the function). For recurrent layers, norms and
attention::

    lstm_pt = nn.LSTM(3, 4, batch_first=True)
    lstm_tf = keras.layers.LSTM(4, return_sequences=True)   # built, weights ported
    sbs.diagnose(lstm_pt, lstm_tf, x).suspects[0].bug        # "LSTM gate order" if blocks are mixed up
    sbs.diagnose(gru_pt, gru_tf, x)                          # "GRU gate order", "GRU reset_after"
    sbs.diagnose(nn.LayerNorm(8), keras.layers.LayerNormalization(), x)   # "LayerNorm epsilon"
    sbs.diagnose(block_pt, block_tf, (x, mask), keras_x=(x, keep))        # attention with masks

The text of a report is stable across machines: matching pairs print a check mark, never a
rounding-noise number; diverging ones print their error to two significant digits.

The per-layer checks live in ``sidebyside/diagnose_checks.py``; this module records the layers,
pairs them, compares them across layouts and builds the report.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .diagnose_checks import (  # noqa: F401  (the bug names are re-exported: sidebyside.diagnose.MOMENTUM, ...)
    ACTIVATION, ATTENTION_LAYOUT, ATTENTION_MASK, BATCH_FIRST, BN_EPSILON, CHANNEL_ORDER, DROPOUT_ACTIVE,
    FLATTEN_ORDER, GELU_APPROXIMATION, GRU_GATE_ORDER, GRU_RESET_AFTER, INPUTS_DIFFER, LN_EPSILON, LSTM_GATE_ORDER,
    MISSING_BIAS, MOMENTUM, SAME_PADDING, TRAINING_MODE, TRANSPOSED_KERNEL, UNBIASED_VARIANCE, UNEXPLAINED,
    WEIGHTS_DIFFER, Suspect, _checks_for, _close, _compare, _Context, _error, _first_tensor, _inputs_differ,
    _layouts, _np, _sig2,
)
from .parity import to_numpy


@dataclass
class LayerRow:
    """One compared pair of layers."""

    torch_name: str
    torch_type: str
    keras_name: str
    keras_type: str
    max_abs_error: float
    matches: bool
    layout: str
    note: str = ""

    def cells(self) -> list[str]:
        error = "✓" if self.matches else f"✗ {_sig2(self.max_abs_error)}"
        return [f"{self.torch_name} ({self.torch_type})", f"{self.keras_name} ({self.keras_type})", error,
                self.layout + (f"; {self.note}" if self.note else "")]


@dataclass
class Diagnosis:
    """What ``diagnose`` found: a row per layer pair, the first divergence and its suspects."""

    rows: list[LayerRow]
    first_divergence: int | None
    layer: str | None
    max_abs_error: float | None
    suspects: list[Suspect] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    rtol: float = 1e-4
    atol: float = 1e-5
    pairing: str = "by order"

    @property
    def ok(self) -> bool:
        return self.first_divergence is None

    @property
    def bugs(self) -> list[str]:
        return [s.bug for s in self.suspects]

    def __str__(self) -> str:
        head = ["#", "PyTorch", "Keras", "max |error|", "compared as"]
        body = [[str(i)] + r.cells() for i, r in enumerate(self.rows)]
        widths = [max(len(row[j]) for row in [head, *body]) for j in range(len(head))]
        line = lambda row: "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()  # noqa: E731
        out = [f"diagnose: {len(self.rows)} layer pairs ({self.pairing}), rtol={self.rtol:g}, atol={self.atol:g}",
               line(head), line(["-" * w for w in widths]), *map(line, body)]
        if self.ok:
            out.append("✓ every layer matches: no divergence")
            return "\n".join(out)
        out.append(f"✗ first divergence at #{self.first_divergence}: {self.layer}, "
                   f"max abs error {_sig2(self.max_abs_error)}")
        out.append("  checked: " + "; ".join(self.checked))
        out.append("  suspects:" if self.suspects else "  no suspect")
        out.extend(f"  - {s}" for s in self.suspects)
        return "\n".join(out)

    __repr__ = __str__


# --- recording the layers -------------------------------------------------------------------------

@dataclass
class _Call:
    name: str
    obj: object            # the module or layer (None for a Keras fused activation)
    kind: str              # class name, or the activation's name
    inputs: tuple
    output: object = None
    kwargs: dict = field(default_factory=dict)
    has_child: bool = False
    activation: object = None   # a Keras fused activation function
    buffers: dict = field(default_factory=dict)  # a PyTorch module's own buffers before the call
    arguments: dict = field(default_factory=dict)  # a PyTorch call's arguments by name (masks, flags)
    parent: object = None       # the Keras layer a fused activation belongs to


def _snapshot(value):
    """A NumPy copy of the first tensor in ``value`` (an in-place op such as ``nn.ReLU(inplace=True)``
    would otherwise rewrite a recorded output), as a 1-tuple for inputs."""
    first = _first_tensor(value)
    copied = None if first is None or not hasattr(first, "detach") else to_numpy(first).copy()
    return (copied,) if isinstance(value, tuple) else copied


def _bound(module, args, kwargs) -> dict:
    import inspect

    try:
        return dict(inspect.signature(module.forward).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return dict(kwargs)


def _torch_calls(model, inputs) -> list[_Call]:
    import torch

    names = {m: n for n, m in model.named_modules()}
    stack, done, handles = [], [], []
    seen: dict[str, int] = {}

    def pre(module, args, kwargs):
        name = names.get(module, type(module).__name__) or "model"
        seen[name] = seen.get(name, 0) + 1
        name = name if seen[name] == 1 else f"{name}#{seen[name]}"
        if stack:
            stack[-1].has_child = True
        stack.append(_Call(name, module, type(module).__name__, _snapshot(tuple(args) + tuple(kwargs.values())),
                           buffers={n: b.detach().clone() for n, b in module.named_buffers(recurse=False)},
                           arguments=_bound(module, args, kwargs)))

    def post(module, args, kwargs, output):
        call = stack.pop()
        call.output = _snapshot(output)
        done.append(call)

    for m in model.modules():
        handles.append(m.register_forward_pre_hook(pre, with_kwargs=True))
        handles.append(m.register_forward_hook(post, with_kwargs=True))
    try:
        with torch.enable_grad():   # grad on: PyTorch's fused inference fast paths (attention, transformer
            model(*inputs)          # layers) would otherwise skip the submodules
    finally:
        for h in handles:
            h.remove()
    leaves = [c for c in done if not c.has_child and c.obj is not model]
    return leaves or [c for c in done if c.obj is model]


def _keras_atomic(layer) -> bool:
    import keras

    return isinstance(layer, (keras.layers.RNN, keras.layers.MultiHeadAttention, keras.layers.Bidirectional))


def _fused_activation(layer):
    """The activation of a Dense/Conv layer when it is not the identity (else None)."""
    import keras

    act = getattr(layer, "activation", None)
    kernel_layer = isinstance(layer, (keras.layers.Dense, keras.layers.EinsumDense)) or any(
        cls.__name__.startswith(("BaseConv", "BaseDepthwiseConv", "BaseSeparableConv")) for cls in type(layer).__mro__)
    if act is None or not kernel_layer:
        return None
    if act is keras.activations.linear or getattr(act, "__name__", "") == "linear":
        return None
    return act


def _keras_calls(model, inputs, training: bool) -> list[_Call]:
    import keras

    stack, done, wrapped = [], [], []

    def wrap(layer):
        original = layer.call
        act = _fused_activation(layer)

        def call(*args, **kwargs):
            if any(isinstance(a, keras.KerasTensor) for a in args):
                return original(*args, **kwargs)       # a symbolic call while Keras builds the model
            record = _Call(layer.name, layer, type(layer).__name__, tuple(args), kwargs=dict(kwargs))
            if stack:
                stack[-1].has_child = True
            stack.append(record)
            try:
                if act is None:
                    out = original(*args, **kwargs)
                else:
                    layer.activation = keras.activations.linear
                    try:
                        out = original(*args, **kwargs)
                    finally:
                        layer.activation = act
            finally:
                stack.pop()
            record.output = out
            done.append(record)
            if act is not None:
                out = act(out)
                name = getattr(act, "__name__", type(act).__name__)
                done.append(_Call(f"{layer.name}.activation", None, name, (record.output,), out,
                                  activation=act, parent=layer))
            return out

        object.__setattr__(layer, "call", call)
        wrapped.append(layer)

    def walk(layer):
        for sub in layer._flatten_layers(include_self=False, recursive=False):
            if isinstance(sub, keras.layers.InputLayer):
                continue
            wrap(sub)
            if not _keras_atomic(sub):
                walk(sub)

    single = not isinstance(model, keras.Model)
    if single:
        wrap(model)
        if not _keras_atomic(model):
            walk(model)
    else:
        walk(model)
    try:
        if len(inputs) > 1 and not single:
            model(list(inputs), training=training)     # a model with several inputs takes a list
        else:
            model(*inputs, training=training)          # a layer takes them as arguments (MHA: query, value)
    finally:
        for layer in wrapped:
            object.__delattr__(layer, "call")
    return [c for c in done if not c.has_child]


_RESHAPES_TORCH = {"Flatten", "Unflatten", "Identity"}
_RESHAPES_KERAS = {"Flatten", "Reshape", "Permute", "Identity"}


def _pair(t_calls, k_calls, mapping):
    if mapping:
        by_t = {c.name: c for c in t_calls}
        by_k = {}
        for c in k_calls:
            by_k.setdefault(c.name, c)
        pairs = []
        for t_name, k_name in mapping.items():
            if t_name not in by_t:
                raise ValueError(f"mapping: no PyTorch module {t_name!r} was called; called: {list(by_t)}")
            if k_name not in by_k:
                raise ValueError(f"mapping: no Keras layer {k_name!r} was called; called: {list(by_k)}")
            pairs.append((by_t[t_name], by_k[k_name]))
        order = {c.name: i for i, c in enumerate(t_calls)}
        return sorted(pairs, key=lambda p: order[p[0].name]), "by mapping"
    if len(t_calls) == len(k_calls):
        return list(zip(t_calls, k_calls)), "by order"
    t2 = [c for c in t_calls if c.kind not in _RESHAPES_TORCH]
    k2 = [c for c in k_calls if c.kind not in _RESHAPES_KERAS]
    if len(t2) == len(k2):
        return list(zip(t2, k2)), "by order, reshapes left out"
    raise ValueError(
        f"cannot pair the layers by order: PyTorch called {len(t_calls)} leaf modules "
        f"{[f'{c.name} ({c.kind})' for c in t_calls]}, Keras {len(k_calls)} layers "
        f"{[f'{c.name} ({c.kind})' for c in k_calls]}. Pass mapping={{torch_name: keras_layer_name}}.")


# --- the entry point ----------------------------------------------------------------------------------

def _as_input(value) -> np.ndarray:
    """NumPy, floats as float32; booleans and integers (masks, token ids) keep their type."""
    a = np.asarray(to_numpy(value))
    return a.astype(np.float32) if a.dtype.kind == "f" else a


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _keras_layout(x_t: tuple, torch_calls, keras_model):
    shape = None
    try:
        shape = tuple(keras_model.inputs[0].shape[1:])
    except Exception:  # noqa: BLE001 - subclassed or unbuilt models have no symbolic inputs
        pass
    first = x_t[0]
    if first.ndim == 4 and len(x_t) == 1:
        moved = np.ascontiguousarray(first.transpose(0, 2, 3, 1))
        if shape is not None and None not in shape:
            return (moved,) if tuple(moved.shape[1:]) == shape and tuple(first.shape[1:]) != shape else x_t
        if torch_calls and torch_calls[0].kind.startswith("Conv"):
            return (moved,)
    return x_t


def _state(torch_model, keras_model):
    buffers = {n: b.detach().clone() for n, b in torch_model.named_buffers()}
    variables = [(v, np.array(v.numpy())) for v in keras_model.non_trainable_variables]
    return buffers, variables


def _restore(torch_model, saved):
    import torch

    buffers, variables = saved
    with torch.no_grad():
        for n, b in torch_model.named_buffers():
            b.copy_(buffers[n])
    for v, value in variables:
        v.assign(value)


def diagnose(torch_model, keras_model, x, *, keras_x=None, mapping: dict | None = None, training: bool = False,
             rtol: float = 1e-4, atol: float = 1e-5) -> Diagnosis:
    """Run both models layer by layer on the same input and name the first divergence's likely bug.

    See the module's docstring for the pairing, the layouts and the bugs it names."""
    import torch

    x_t = tuple(_as_input(v) for v in _as_tuple(x))
    saved = _state(torch_model, keras_model)
    try:
        t_calls = _torch_calls(torch_model, tuple(torch.as_tensor(v) for v in x_t))
        x_k = tuple(_as_input(v) for v in _as_tuple(keras_x)) if keras_x is not None \
            else _keras_layout(x_t, t_calls, keras_model)
        # the state each BatchNorm had before the pass (for the candidate re-runs)
        before = {id(layer): {"moving_mean": to_numpy(layer.moving_mean).copy(),
                              "moving_variance": to_numpy(layer.moving_variance).copy()}
                  for layer in _keras_layers(keras_model) if hasattr(layer, "moving_mean")}
        k_calls = _keras_calls(keras_model, x_k, training)
        if not t_calls or not k_calls:
            raise ValueError("no layer was called on one side (is it a model with layers?)")
        pairs, how = _pair(t_calls, k_calls, mapping)
        return _walk(pairs, how, x_t, x_k, training, before, rtol, atol)
    finally:
        _restore(torch_model, saved)


def _keras_layers(model):
    try:
        return list(model._flatten_layers(include_self=True, recursive=True))
    except Exception:  # noqa: BLE001
        return [model]


def _walk(pairs, how, x_t, x_k, training, before, rtol, atol) -> Diagnosis:
    rows, first, ctx, chw = [], None, None, None
    for i, (t, k) in enumerate(pairs):
        y_t, y_k = _np(t.output), _np(k.output)
        if y_t is None or y_k is None:
            raise ValueError(f"pair #{i}: {t.name} ({t.kind}) or {k.name} ({k.kind}) returned no tensor to compare; "
                             "leave it out with a mapping")
        err, ok, layout, _ = _compare(y_t, y_k, chw, rtol, atol)
        note = ""
        if hasattr(t.obj, "running_mean") and t.obj.running_mean is not None and hasattr(k.obj, "moving_mean"):
            state_ok = (_close(to_numpy(t.obj.running_mean), to_numpy(k.obj.moving_mean), rtol, atol)
                        and _close(to_numpy(t.obj.running_var), to_numpy(k.obj.moving_variance), rtol, atol))
            if not state_ok:
                ok, note = False, "running statistics differ"
                err = max(err if np.isfinite(err) else 0.0,
                          _error(to_numpy(t.obj.running_mean), to_numpy(k.obj.moving_mean)),
                          _error(to_numpy(t.obj.running_var), to_numpy(k.obj.moving_variance)))
        rows.append(LayerRow(t.name, t.kind, k.name, k.kind, err, ok, layout, note))
        if not ok and first is None:
            first = i
            xt_i, xk_i = _np(t.inputs), _np(k.inputs)
            in_err, in_ok, in_layout, _ = _compare(xt_i, xk_i, chw, rtol, atol) if xt_i is not None and \
                xk_i is not None else (np.inf, False, "", None)
            ctx = _Context(t, k, xt_i, xk_i, y_t, y_k, _to_keras_fn(y_t, y_k, chw), in_ok, in_layout, chw, rtol,
                           atol, training, before.get(id(k.obj), {}), [])
        if y_t is not None and y_t.ndim == 4:
            chw = tuple(y_t.shape[1:])
    if first is None:
        return Diagnosis(rows, None, None, None, rtol=rtol, atol=atol, pairing=how)
    row = rows[first]
    try:
        if ctx.inputs_match:
            suspects = _checks_for(ctx)
        else:
            suspects = _inputs_differ(ctx, model_inputs=first == 0 and how != "by mapping")
            ctx.checked.insert(0, "inputs of the pair: they differ")
    except Exception as error:  # noqa: BLE001 - a divergence is reported, never raised
        suspects = [Suspect(UNEXPLAINED, f"a check could not run on this pair ({type(error).__name__}: {error})")]
    if not suspects:
        suspects = [Suspect(UNEXPLAINED, "none of the checks explains the difference: compare this layer's "
                            "weights and settings by hand", "")]
    suspects.sort(key=lambda s: not s.confirmed)
    layer = f"{row.torch_name} ({row.torch_type}) <-> {row.keras_name} ({row.keras_type})"
    return Diagnosis(rows, first, layer, row.max_abs_error, suspects, ctx.checked, rtol, atol, how)


def _to_keras_fn(y_t, y_k, chw):
    """The conversion of a PyTorch-layout output to Keras's that fits best (same layout if none fits)."""
    choices = _layouts(np.asarray(y_t, np.float64), np.asarray(y_k, np.float64), chw)
    if not choices:
        return lambda a: np.asarray(a)
    name = min(choices, key=lambda c: _error(c[1], y_k))[0]
    return lambda a: dict(_layouts(np.asarray(a, np.float64), np.asarray(y_k, np.float64), chw)).get(name, a)
