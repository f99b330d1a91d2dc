"""Slow data, for timing input pipelines (chapter 12).

A ``DataLoader`` worker process must find the dataset's class. On Linux workers are *forked*: they are
copies of the notebook's process and know every class the notebook defined. On macOS and Windows they
are *spawned*: fresh interpreters that import the class by its module name, and a class defined in a
notebook has none they can import. So the chapter's dataset lives here, in a module file.
"""

from __future__ import annotations

import time

import numpy as np
import torch


class SlowDataset(torch.utils.data.Dataset):
    """The rows of ``table`` (a NumPy array), each taking ``seconds`` to "read": it waits
    (``time.sleep``), as a disk or network read would, so worker processes overlap the waits even
    on one core. Items are float32 torch tensors, in the table's order.
    Introduced in ``course/12_speed.ipynb``."""

    def __init__(self, table: np.ndarray, seconds: float):
        if seconds < 0:
            raise ValueError(f"a read takes a non-negative time, got {seconds} s")
        self.table, self.seconds = np.asarray(table, dtype=np.float32), float(seconds)

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int) -> torch.Tensor:
        time.sleep(self.seconds)
        return torch.from_numpy(self.table[i])
