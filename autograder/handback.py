"""The hand-back protocol: how a rewritten test cell sends data out of the sandbox, and how the
trusted grader reads it. This module owns all of it: the function's name (``checks.py`` rewrites
each ``sbs.assert_parity`` call into a call of it), the MIME type of the display message that
carries it, the prelude that defines it in the kernel, and the strict decoder.

On the wire, one check is one ``display_data`` message ``{MIME: {"name": str, "values": [packed, ...]}}``
where each packed value is ``{"dtype": "<f8", "shape": [2, 3], "b64": "..."}`` (numbers),
``{"dtype": "str", "shape": [...], "items": [...]}`` (text) or ``{"unsupported": "TypeName"}``.
Everything that arrives is student-controlled: :func:`decode_value` and :func:`decode_payload`
accept only well-formed data within size limits (no pickle, whitelisted dtypes) and raise
:class:`HandbackError`, with a reason, for anything else.
"""

from __future__ import annotations

import base64
import binascii
import math

import numpy as np

FUNCTION = "__sxs_handback__"
MIME = "application/vnd.sidebyside.check+json"
MAX_VALUE_BYTES = 64 * 2**20     # one decoded value
MAX_DIMS = 8
MAX_VALUES = 2                    # a check hands back its actual side, or both sides

# The first thing the kernel runs: it defines the function rewritten test cells call.
PRELUDE = f'''
def {FUNCTION}(name, *values):
    import base64, numpy, sidebyside
    from IPython.display import publish_display_data
    packed = []
    for value in values:
        try:
            a = numpy.asarray(sidebyside.to_numpy(value))
            if a.dtype.kind in "biufc":
                packed.append({{"dtype": a.dtype.str, "shape": list(a.shape),
                               "b64": base64.b64encode(numpy.ascontiguousarray(a).tobytes()).decode()}})
            elif a.dtype.kind == "U":
                packed.append({{"dtype": "str", "shape": list(a.shape), "items": [str(x) for x in a.ravel()]}})
            else:
                packed.append({{"unsupported": type(value).__name__}})
        except Exception as e:
            packed.append({{"unsupported": type(value).__name__ + ": " + type(e).__name__}})
    publish_display_data({{"{MIME}": {{"name": str(name), "values": packed}}}})
'''


class HandbackError(ValueError):
    """What came back is not well-formed data: the check it belongs to fails, with this reason."""


def _shape(raw) -> tuple[int, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_DIMS:
        raise HandbackError(f"bad shape: not a list of at most {MAX_DIMS} sizes")
    if not all(type(n) is int and n >= 0 for n in raw):  # bool, float, NaN, negative: refused
        raise HandbackError("bad shape: sizes must be non-negative integers")
    if math.prod(raw) > MAX_VALUE_BYTES:
        raise HandbackError(f"bad shape: {math.prod(raw)} elements is over the limit")
    return tuple(raw)


def decode_value(packed, max_bytes: int = MAX_VALUE_BYTES) -> np.ndarray:
    """One handed-back value as a NumPy array, parsed strictly; HandbackError if it is not data."""
    if not isinstance(packed, dict):
        raise HandbackError(f"not data: a {type(packed).__name__}")
    if "unsupported" in packed:
        what = packed["unsupported"]
        raise HandbackError(f"not data: {what[:200] if isinstance(what, str) else '?'} cannot be compared")
    shape = _shape(packed.get("shape"))
    count = math.prod(shape)
    dtype_text = packed.get("dtype")
    if dtype_text == "str":
        items = packed.get("items")
        if not (isinstance(items, list) and all(isinstance(i, str) for i in items)):
            raise HandbackError("bad text: items must be a list of strings")
        if len(items) != count:
            raise HandbackError(f"bad text: {len(items)} items for shape {list(shape)}")
        if sum(len(i) for i in items) > max_bytes:
            raise HandbackError("bad text: over the size limit")
        return np.array(items, dtype=str).reshape(shape)
    if not isinstance(dtype_text, str) or len(dtype_text) > 16:
        raise HandbackError("bad dtype: not a short string")
    try:
        dtype = np.dtype(dtype_text)
    except Exception:  # noqa: BLE001 - NumPy raises TypeError or ValueError for nonsense
        raise HandbackError(f"bad dtype {dtype_text[:16]!r}") from None
    if dtype.kind not in "biufc" or dtype.hasobject or dtype.fields is not None or dtype.subdtype is not None:
        raise HandbackError(f"dtype {dtype_text!r} is not allowed (numbers only)")
    b64 = packed.get("b64")
    if not isinstance(b64, str):
        raise HandbackError("bad data: b64 must be a string")
    if count * dtype.itemsize > max_bytes or len(b64) > 4 * (max_bytes // 3 + 1):
        raise HandbackError("bad data: over the size limit")
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise HandbackError("bad data: not base64") from None
    if len(raw) != count * dtype.itemsize:
        raise HandbackError(f"bad data: {len(raw)} bytes for shape {list(shape)} of {dtype}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode_payload(values, expected_count: int) -> list[np.ndarray]:
    """The values one check handed back: a list of exactly ``expected_count`` well-formed values."""
    if not isinstance(values, list):
        raise HandbackError(f"not data: values must be a list, got a {type(values).__name__}")
    if len(values) != expected_count:
        raise HandbackError(f"{len(values)} values handed back, expected {expected_count}")
    return [decode_value(v) for v in values]


def payload_name(payload) -> str | None:
    """The check a hand-back message is for, or None when the message is not one."""
    if isinstance(payload, dict) and isinstance(payload.get("name"), str):
        return payload["name"]
    return None
