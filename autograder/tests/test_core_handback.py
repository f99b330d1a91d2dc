"""Unit tests of the hand-back protocol (autograder/handback.py): what the prelude encodes decodes
to the same array, and anything malformed is refused with a reason (never another exception)."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from autograder import handback
from autograder.handback import HandbackError, decode_payload, decode_value


def handed_back(*values):
    """Run the prelude's function in this process and capture the message it would publish."""
    import IPython.display

    sent = []
    namespace = {}
    exec(handback.PRELUDE, namespace)  # noqa: S102 - the grader's own prelude
    original = IPython.display.publish_display_data
    IPython.display.publish_display_data = sent.append
    try:
        namespace[handback.FUNCTION]("a check", *values)
    finally:
        IPython.display.publish_display_data = original
    (message,) = sent
    return message[handback.MIME]


@pytest.mark.parametrize("value", [
    np.arange(6, dtype=np.float32).reshape(2, 3), np.int64(7), 2.5, True, [1, 2, 3], np.array([1 + 2j]),
    "torch.float32", np.array(["a", "bc"]), np.zeros((0, 3)),
])
def test_what_the_prelude_encodes_decodes_to_the_same_array(value):
    payload = handed_back(value)
    assert payload["name"] == "a check"
    (decoded,) = decode_payload(payload["values"], 1)
    expected = np.asarray(value)
    assert decoded.shape == expected.shape and decoded.dtype == expected.dtype
    assert np.array_equal(decoded, expected)


def test_objects_that_are_not_data_are_marked_unsupported():
    payload = handed_back(object())
    with pytest.raises(HandbackError, match="not data: object"):
        decode_payload(payload["values"], 1)


def packed(dtype="<f8", shape=(2,), data=b"\0" * 16, **extra):
    return {"dtype": dtype, "shape": list(shape), "b64": base64.b64encode(data).decode(), **extra}


MALFORMED = {
    "not a dict": ([1, 2], "not data"),
    "unsupported": ({"unsupported": "Eq"}, "not data: Eq"),
    "garbage dtype (np.dtype raises TypeError)": (packed(dtype="garbage!!"), "bad dtype"),
    "dtype that is a list": (packed(dtype=[["a", "<f8"]]), "bad dtype"),
    "object dtype": (packed(dtype="O", data=b"\0" * 16), "not allowed"),
    "void dtype": (packed(dtype="V8"), "not allowed"),
    "structured dtype": (packed(dtype="i8,i8", data=b"\0" * 32), "not allowed"),
    "subarray dtype": (packed(dtype="(2,)f8", shape=(1,)), "not allowed"),
    "text dtype smuggled as numbers": (packed(dtype="<U2"), "not allowed"),
    "NaN in shape": (packed(shape=(float("nan"),)), "bad shape"),
    "float in shape": (packed(shape=(2.0,)), "bad shape"),
    "bool in shape": (packed(shape=(True,)), "bad shape"),
    "negative size": (packed(shape=(-2,)), "bad shape"),
    "shape not a list": ({"dtype": "<f8", "shape": "2", "b64": ""}, "bad shape"),
    "too many dimensions": (packed(shape=(1,) * 9, data=b"\0" * 8), "bad shape"),
    "huge shape": (packed(shape=(2**40, 2**40)), "over the limit"),
    "wrong byte count": (packed(shape=(3,)), "bad data"),
    "not base64": ({"dtype": "<f8", "shape": [1], "b64": "!!!!"}, "not base64"),
    "b64 not a string": ({"dtype": "<f8", "shape": [1], "b64": 12}, "b64 must be a string"),
    "text items not strings": ({"dtype": "str", "shape": [2], "items": ["a", 2]}, "bad text"),
    "text items miscounted": ({"dtype": "str", "shape": [3], "items": ["a", "b"]}, "2 items for shape"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_values_are_refused_with_a_reason(case):
    value, reason = MALFORMED[case]
    with pytest.raises(HandbackError, match=reason):
        decode_value(value)


@pytest.mark.parametrize("values, reason", [
    ("a string", "values must be a list"), ({"0": 1}, "values must be a list"), (None, "values must be a list"),
    ([packed()] * 3, "3 values handed back, expected 1"), ([], "0 values handed back"),
])
def test_malformed_payloads_are_refused_with_a_reason(values, reason):
    with pytest.raises(HandbackError, match=reason):
        decode_payload(values, 1)


def test_payload_names():
    assert handback.payload_name({"name": "q1", "values": []}) == "q1"
    assert handback.payload_name({"name": 3}) is None and handback.payload_name("q1") is None


def test_one_module_owns_the_protocol():
    """checks.py rewrites calls into the function handback.py defines; kernel.py runs its prelude."""
    from autograder import checks, kernel

    assert checks.HANDBACK == handback.FUNCTION and f"def {handback.FUNCTION}(" in handback.PRELUDE
    assert kernel.run_cells.__kwdefaults__["prelude"] == handback.PRELUDE
    assert handback.MIME in handback.PRELUDE
