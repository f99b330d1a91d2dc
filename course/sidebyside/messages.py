"""Show a warning as text in a cell's output, instead of letting it reach stderr.

Some of the course's claims are warnings: Keras's optimizers *warn* when a gradient is ``None``,
TensorFlow's tape *logs* a warning for an integer tensor, PyTorch *warns* that ``x.T`` is
deprecated on tensors that are not 2-D. A notebook cell must not write to stderr (nbval compares
it, nbgrader zeroes a test cell that writes it), and a claim must be computed, not written. So a
chapter catches the message and prints it::

    with sbs.captured_warnings() as caught:
        optimizer.apply_gradients(...)
    print(caught)          # ['Gradients do not exist for variables ...']

Both sources are caught: Python's ``warnings`` (every time, not only the first) and the
``tensorflow`` logger (what ``tf.get_logger()`` writes). ``sbs.seed_everything`` sets that logger
to ERROR, so that TensorFlow's Python-side warnings never reach stderr; inside the block it is
opened to ``level`` (WARNING, TensorFlow's default), so the warning TensorFlow *would* log shows.
Introduced in ``course/01_tensors.ipynb``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

LOGGERS = ("tensorflow",)


class _Collect(logging.Handler):
    def __init__(self, into: list[str]):
        super().__init__(level=logging.NOTSET)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@contextmanager
def captured_warnings(loggers=LOGGERS, level: int = logging.WARNING) -> Iterator[list[str]]:
    """Collect, as a list of strings in the order they happened, the Python warnings and the
    records of ``loggers`` at ``level`` or above emitted inside the block; nothing of theirs
    reaches stderr. Each logger gets its handlers, propagation and level back afterwards."""
    caught: list[str] = []
    collect = _Collect(caught)
    saved = []
    for name in loggers:
        logger = logging.getLogger(name)
        saved.append((logger, logger.handlers[:], logger.propagate, logger.level))
        logger.handlers = [collect]
        logger.propagate = False
        logger.setLevel(level)
    original_showwarning = warnings.showwarning
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            warnings.showwarning = lambda message, *args, **kwargs: caught.append(str(message))
            yield caught
    finally:
        warnings.showwarning = original_showwarning
        for logger, handlers, propagate, old_level in saved:
            logger.handlers = handlers
            logger.propagate = propagate
            logger.setLevel(old_level)
