"""What decides a grade, digested: a saved result is reused only when all of it is unchanged.

A result's fingerprint covers the grader's own code (this package's modules; the benchmarks live
outside it, in bench/), the ``sidebyside`` helper package (its ``assert_parity`` decides pass/fail,
its ``to_numpy`` runs in the sandbox), the installed distributions with their versions (torch,
tensorflow, keras, numpy, ipykernel, ... run the notebook), the effective limits, the sandboxed
or unsafe choice, the assignment (its source notebook and everything in its release folder: see
``template.load``) and the submission (name, bytes, what collecting it found).

The environment digested is the grading machine's, read once per process (a package installed
while a batch runs regrades on the next run); Dask workers must run the same environment (the
README says so), and each result also records the digest of the worker that ran it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import sysconfig
from pathlib import Path

from . import __version__, config
from .sandbox import HELPER_PACKAGE  # the sidebyside the sandbox mounts

PACKAGE = Path(__file__).resolve().parent

# Results whose status is a failure of the grader (or its machine), never of the submission: a
# saved one is graded again on the next run, whatever its fingerprint.
GRADER_FAULTS = frozenset({"grader_error", "kernel_failed_to_start"})


def _sources(folder: Path) -> bytes:
    h = hashlib.sha256()
    for p in sorted(folder.glob("*.py")):
        h.update(p.name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.digest()


def helper_folders() -> list[Path]:
    """The sidebyside sources: the copy the sandbox mounts and the one this process imports."""
    folders = {HELPER_PACKAGE.resolve()}
    spec = importlib.util.find_spec("sidebyside")
    if spec and spec.origin:
        folders.add(Path(spec.origin).resolve().parent)
    return sorted(folders)


def sources_digest(package: Path, helpers: list[Path]) -> str:
    """The modules of ``package`` (not its subfolders) and of each helper folder."""
    h = hashlib.sha256(__version__.encode() + _sources(package))
    for folder in helpers:
        h.update(_sources(folder))
    return h.hexdigest()[:16]


@functools.lru_cache(maxsize=None)
def grader_digest() -> str:
    """The grader's modules and the helper package's sources."""
    return sources_digest(PACKAGE, helper_folders())


def installed() -> list[str]:
    """``name==version`` of every distribution installed in this Python's environment (its site-packages,
    not whatever else happens to be on sys.path, such as a checkout's *.egg-info)."""
    where = sorted({sysconfig.get_paths()[k] for k in ("purelib", "platlib")})
    return sorted({f"{d.metadata['Name']}=={d.version}".lower() for d in importlib.metadata.distributions(path=where)
                   if d.metadata and d.metadata["Name"]})


@functools.lru_cache(maxsize=None)
def environment_digest() -> str:
    return hashlib.sha256("\n".join(installed()).encode()).hexdigest()[:16]


def of_task(task) -> str:
    """The fingerprint of one submission's grade (a ``grade.Task``)."""
    settings = {"limits": config.as_dict(task.limits, task.sandbox_limits), "sandboxed": bool(task.sandboxed)}
    h = hashlib.sha256("|".join([grader_digest(), environment_digest(), task.template.digest,
                                 json.dumps(settings, sort_keys=True), str(task.status), str(task.filename)]).encode())
    h.update(b"|" + (task.data or b""))
    return h.hexdigest()[:20]


def reusable(saved: dict | None, task) -> bool:
    """May this saved result stand for ``task``? Only if nothing that decides the grade changed and
    it is not a failure of the grader itself."""
    return bool(saved) and saved.get("fingerprint") == of_task(task) and saved.get("status") not in GRADER_FAULTS
