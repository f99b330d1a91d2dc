"""Run Keras code on another backend, in a child process.

Keras 3 reads ``KERAS_BACKEND`` once, when ``keras`` is first imported, and keeps that backend for
the life of the process. A notebook whose Keras runs on TensorFlow cannot switch to the PyTorch
backend; a second Python process can. ``BackendProcess("torch")`` starts one (``KERAS_BACKEND=torch``,
the same interpreter, the same ``sidebyside``, the same working directory, seeded), keeps it
running, and runs code in it on request::

    with sbs.BackendProcess("torch") as torch_side:
        out = torch_side.run("result['y'] = keras.ops.tanh(x)", x=np.ones(3, np.float32))
    out["y"]                                   # a NumPy array, computed by torch

The code runs in one namespace that lives as long as the process (``keras``, ``ops`` = ``keras.ops``,
``np``, ``sbs`` and, on the torch backend, ``torch`` are predefined); it stores what it wants back in the dict ``result``. Values
travel both ways as plain data, never pickles: NumPy arrays (any tensor or variable is converted),
numbers, strings, booleans, ``None``, and lists, tuples and string-keyed dicts of those.

What the child prints with ``print`` is printed again in the parent, in order. What it writes to
stderr (warnings, library logs) never reaches the notebook: it is kept in ``.stderr``. An exception
in the child raises ``BackendError`` in the parent with the child's traceback.
Introduced in ``course/13_backends.ipynb``.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import io
import json
import linecache
import os
import re
import select
import subprocess
import sys
import tempfile
import textwrap
import time
import traceback
from pathlib import Path

import numpy as np

BACKENDS = ("tensorflow", "torch", "jax", "numpy")
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])  # the folder holding this sidebyside
CHILD = "from sidebyside.backends import serve; serve()"  # what the child process runs
# Imported by Keras whenever installed, for its scikit-learn wrappers (keras/src/wrappers) and its image
# gallery plots (keras/src/visualization): about 0.09 GiB a child has no use for.
UNUSED_BY_CHILD = ("sklearn", "matplotlib")


class BackendError(RuntimeError):
    """The child process failed: its code raised, it died, or it did not answer in time."""


# --- plain data across the pipe --------------------------------------------------------------------

def encode(value):
    """``value`` as JSON-able plain data: arrays (and anything array-like, e.g. a tensor or a Keras
    variable) become base64 ``.npy`` bytes; containers are encoded item by item."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError(f"only dicts with string keys can travel, got keys {list(value)[:5]}")
        return {"__dict__": {k: encode(v) for k, v in value.items()}}
    if not isinstance(value, np.ndarray):
        from .parity import to_numpy

        try:
            value = to_numpy(value)
        except Exception as e:  # noqa: BLE001 (any conversion failure means the same thing)
            raise TypeError(f"a {type(value).__name__} cannot travel between processes (plain data only)") from e
    array = np.asarray(value)
    if array.dtype.kind == "O":
        raise TypeError(f"an array of Python objects cannot travel between processes: {array!r:.80}")
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return {"__ndarray__": base64.b64encode(buffer.getvalue()).decode("ascii")}


def decode(data):
    """The inverse of :func:`encode` (tuples come back as lists)."""
    if isinstance(data, list):
        return [decode(v) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return np.load(io.BytesIO(base64.b64decode(data["__ndarray__"])), allow_pickle=False)
        return {k: decode(v) for k, v in data["__dict__"].items()}
    return data


def source_of(obj) -> str:
    """The source code of a function or class (defined in a file or a notebook cell), dedented, with
    its decorators."""
    try:
        return textwrap.dedent(inspect.getsource(obj))
    except (OSError, TypeError):
        if not inspect.isclass(obj):
            raise
    # Python 3.11 looks for a class in its module's file, and a notebook's __main__ has none. A method's
    # code knows its file (the cell, which IPython keeps in linecache): search upwards from there.
    header = re.compile(rf"^(\s*)class\s+{re.escape(obj.__name__)}\b")
    for member in vars(obj).values():
        code = getattr(getattr(member, "__func__", member), "__code__", None)
        if code is None:
            continue
        lines = linecache.getlines(code.co_filename)
        for i in range(min(code.co_firstlineno, len(lines)) - 1, -1, -1):
            match = header.match(lines[i])
            if match:
                start = i
                while start > 0 and lines[start - 1].startswith(match.group(1) + "@"):
                    start -= 1  # the class's decorators
                return textwrap.dedent("".join(lines[start:i] + inspect.getblock(lines[i:])))
    raise OSError(f"cannot find the source code of class {obj.__name__}")


# --- the child --------------------------------------------------------------------------------------

def serve() -> None:
    """The child's loop: one JSON request per line on stdin, one JSON reply per line on the original
    stdout. Runs until stdin closes."""
    for name in filter(None, os.environ.get("SIDEBYSIDE_WITHOUT", "").split(",")):
        sys.modules[name] = None  # `import name` now raises ImportError, as if it were not installed
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever a library writes to file descriptor 1 goes to stderr, not into the replies
    sys.stdout = sys.stderr
    import random

    import keras

    import sidebyside as sbs

    # keras.utils.set_random_seed would import TensorFlow (about 0.4 GiB) into a torch process: seed by hand
    seed = int(os.environ.get("SIDEBYSIDE_SEED", "0"))
    random.seed(seed)  # Keras initializers without a seed draw theirs from Python's random
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)

    namespace = {"__name__": "__backend__", "keras": keras, "ops": keras.ops, "np": np, "sbs": sbs}
    if keras.backend.backend() == "torch":
        namespace["torch"] = sys.modules["torch"]

    def reply(message: dict) -> None:
        replies.write(json.dumps(message) + "\n")
        replies.flush()

    reply({"ready": True, "backend": keras.backend.backend()})
    for line in sys.stdin:
        request = json.loads(line)
        printed = io.StringIO()
        try:
            namespace.update(decode(request["inputs"]))
            namespace["result"] = result = {}
            with contextlib.redirect_stdout(printed):
                exec(compile(request["code"], "<backend code>", "exec"), namespace)
            reply({"ok": True, "result": encode(result), "printed": printed.getvalue()})
        except BaseException:  # noqa: BLE001 (every failure goes back to the parent, which raises)
            reply({"ok": False, "error": traceback.format_exc(), "printed": printed.getvalue()})


# --- the parent -------------------------------------------------------------------------------------

class BackendProcess:
    """A Python process whose Keras runs on ``backend``; see the module's docstring.

    ``seed`` seeds Python, NumPy and the backend in the child. ``without`` names packages the child
    treats as not installed. By default a child on another backend than TensorFlow hides TensorFlow,
    as on a machine where only that backend is installed: Keras otherwise imports TensorFlow (about
    0.4 GiB) whenever it is installed, for instance to check for ``tf.TensorShape`` when it saves a
    ``.keras`` file (``keras/src/saving/serialization_lib.py``). Every child also hides
    ``UNUSED_BY_CHILD``, optional packages Keras imports at start-up for features a child has no use for. ``timeout`` (seconds) bounds the
    start and each ``run``. The child starts at once and imports Keras while the caller goes on;
    the first ``run`` waits for it. ``env`` adds environment variables for the child."""

    def __init__(self, backend: str = "torch", *, seed: int = 0, without: tuple[str, ...] | None = None,
                 timeout: float = 120.0, env: dict[str, str] | None = None):
        if backend not in BACKENDS:
            raise ValueError(f"unknown Keras backend {backend!r}; one of {BACKENDS}")
        self.backend, self.timeout = backend, timeout
        if without is None:
            without = UNUSED_BY_CHILD + (() if backend == "tensorflow" else ("tensorflow",))
        self.without = tuple(without)
        self._stderr = tempfile.TemporaryFile()
        paths = [PACKAGE_PARENT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
        child_env = {**os.environ, **(env or {}), "KERAS_BACKEND": backend, "SIDEBYSIDE_SEED": str(seed),
                     "SIDEBYSIDE_WITHOUT": ",".join(self.without),
                     "PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)), "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._stderr, env=child_env, cwd=os.getcwd())
        self._buffer, self._ready = b"", False  # it imports Keras while this process goes on

    def _wait_until_ready(self) -> None:
        if not self._ready:
            ready = self._receive()
            if ready.get("backend") != self.backend:
                self.close()
                raise BackendError(f"the child runs Keras on {ready.get('backend')!r}, not {self.backend!r}")
            self._ready = True

    # what the child wrote to stderr so far (warnings, logs): never printed, kept here
    @property
    def stderr(self) -> str:
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    @property
    def pid(self) -> int:
        return self._proc.pid

    def _receive(self) -> dict:
        deadline = time.monotonic() + self.timeout
        fd = self._proc.stdout.fileno()
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                self._proc.kill()
                self._proc.wait()
                raise BackendError(f"the {self.backend} process did not answer within {self.timeout:g} s")
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    code = self._proc.wait()
                    raise BackendError(f"the {self.backend} process exited with code {code}:\n{self.stderr[-2000:]}")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, code: str, **inputs) -> dict:
        """Run ``code`` in the child, after binding ``inputs`` (plain data) to names there. Returns
        the dict ``result`` that the code filled, decoded (tensors and variables as NumPy arrays)."""
        if self._proc.poll() is not None:
            raise BackendError(f"the {self.backend} process has ended (code {self._proc.returncode})")
        self._wait_until_ready()
        request = json.dumps({"code": textwrap.dedent(code), "inputs": encode(inputs)}) + "\n"
        self._proc.stdin.write(request.encode("utf-8"))
        self._proc.stdin.flush()
        answer = self._receive()
        if answer["printed"]:
            print(answer["printed"], end="")
        if not answer["ok"]:
            raise BackendError(f"the code failed on the {self.backend} backend:\n{answer['error']}")
        return decode(answer["result"])

    def define(self, *functions) -> None:
        """Send functions (or classes) to the child by their source code, to call them there."""
        self.run("\n\n".join(source_of(f) for f in functions))

    def peak_memory_bytes(self) -> int | None:
        """The child's peak resident memory so far (Linux's VmHWM), None where it cannot be read."""
        try:
            status = Path(f"/proc/{self._proc.pid}/status").read_text()
        except OSError:
            return None
        line = next((x for x in status.splitlines() if x.startswith("VmHWM:")), None)
        return int(line.split()[1]) * 1024 if line else None

    def close(self) -> int:
        """End the child (it stops when its stdin closes) and return its exit code (0: clean)."""
        if self._proc.poll() is None:
            with contextlib.suppress(OSError):
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        return self._proc.returncode

    def __enter__(self) -> BackendProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        with contextlib.suppress(Exception):
            self.close()


def run_on_backend(backend: str, code: str, *, functions=(), seed: int = 0, without=None, timeout: float = 120.0,
                   **inputs) -> dict:
    """Run ``code`` once in a fresh process whose Keras uses ``backend`` (after defining
    ``functions`` there by their source) and return its ``result`` dict. Raises BackendError if the
    code fails or the process does not exit cleanly (exit code 0). Options as ``BackendProcess``."""
    with BackendProcess(backend, seed=seed, without=without, timeout=timeout) as child:
        if functions:
            child.define(*functions)
        out = child.run(code, **inputs)
    code = child.close()
    if code != 0:
        raise BackendError(f"the {backend} process exited with code {code}:\n{child.stderr[-2000:]}")
    return out

