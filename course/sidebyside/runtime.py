"""Make both frameworks quiet and polite before they are imported.

TensorFlow writes C++ log lines to stderr when it loads. In a notebook they land in the cell's
output: nbval then sees a changed output, and nbgrader gives a test cell that wrote to stderr
zero points. Both frameworks also size their thread pools by the host's cores, not by the CPU
quota of a container (Binder gives 1 CPU while showing every core), and slow down badly.

Environment variables are read when a framework loads, so this runs when ``sidebyside`` is
imported: import it first, before ``torch`` and ``tensorflow``.
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path

# Set before TensorFlow loads (setdefault: a value the user chose wins).
TF_QUIET = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # no C++ INFO/WARNING/ERROR lines on stderr
    # oneDNN picks kernels by CPU instruction set, so results change with the processor
    # (TensorFlow says so itself when it starts). Without it, TF's numbers depend only on the wheel.
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


def cpu_quota(cgroup_root: str | os.PathLike = "/sys/fs/cgroup") -> int:
    """The number of CPUs this process may really use: the cgroup quota when one is set,
    else the CPUs it is allowed to run on. Always at least 1."""
    root = Path(cgroup_root)
    quota = None
    try:  # cgroup v2: "max 100000" or "100000 100000"
        q, period = (root / "cpu.max").read_text().split()[:2]
        if q != "max":
            quota = int(q) / int(period)
    except (OSError, ValueError):
        try:  # cgroup v1
            q = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
            period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
            if q > 0 and period > 0:
                quota = q / period
        except (OSError, ValueError):
            pass
    try:
        allowed = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # macOS has no sched_getaffinity
        allowed = os.cpu_count() or 1
    if quota is None:
        return max(1, allowed)
    return max(1, min(allowed, math.ceil(quota)))


def thread_env(n: int) -> dict[str, str]:
    """Environment variables that cap PyTorch's, TensorFlow's and BLAS's thread pools to n."""
    return {
        "OMP_NUM_THREADS": str(n),
        "MKL_NUM_THREADS": str(n),
        "OPENBLAS_NUM_THREADS": str(n),
        "TF_NUM_INTRAOP_THREADS": str(n),
        "TF_NUM_INTEROP_THREADS": str(n),
        # torch.compile compiles in the kernel itself, not in a pool of worker processes (about 0.3 GiB each)
        "TORCHINDUCTOR_COMPILE_THREADS": "1",
    }


def prepare(threads: int | None = None) -> int:
    """Quiet TensorFlow and cap thread pools; returns the thread count in force.

    The count is ``threads``, else ``OMP_NUM_THREADS`` when the user set it, else the CPU quota.

    Warns (on stderr, once) if a framework was imported first, because then it is too late."""
    late = [m for m in ("tensorflow", "torch") if m in sys.modules]
    user_choice = os.environ.get("OMP_NUM_THREADS", "")
    n = threads or (int(user_choice) if user_choice.isdigit() and int(user_choice) > 0 else cpu_quota())
    for key, value in {**TF_QUIET, **thread_env(n)}.items():
        os.environ.setdefault(key, value)
    if late:
        print(
            f"sidebyside: import sidebyside before {' and '.join(late)}, "
            "or its logs and thread counts cannot be set.",
            file=sys.stderr,
        )
    torch = sys.modules.get("torch")
    if torch is not None:  # torch honours this at any time
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    return int(os.environ["OMP_NUM_THREADS"])
