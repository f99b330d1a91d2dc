"""The grader's configuration, the nbgrader way: one traitlets ``Configurable``, ``Autograder``.

Every limit lives here, and only here. It is read from the course's ``nbgrader_config.py`` (the
file nbgrader itself reads, in the course root)::

    c.Autograder.cell_timeout = 60
    c.Autograder.memory_bytes = 2 * 2**30

and each trait can be overridden on the command line, the way nbgrader's own options are::

    python -m autograder grade 01_tensors ... --Autograder.cell_timeout=30

Precedence: command line, then ``c.Autograder.*``, then nbgrader's ``c.Execute.timeout`` (used as
the cell timeout when no ``Autograder.cell_timeout`` is set), then the defaults below.
``RunLimits`` (the kernel's clocks and caps) and ``SandboxLimits`` (the sandbox's rlimits) are
plain value holders built from it and shipped to the workers; submissions and the reference
solution run under the same ones.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from traitlets import Bool, Float, Int
from traitlets.config import Config, Configurable

from . import nbgrader_course

CONFIG_FILE = "nbgrader_config.py"
MiB, GiB = 2**20, 2**30


class ConfigError(ValueError):
    """An option that does not exist, or a value it cannot take."""


class Autograder(Configurable):
    """Limits and settings of ``python -m autograder``."""

    cell_timeout = Float(120.0, min=0.1, help="Seconds one cell may run before its kernel is killed "
                         "(an interrupt can be ignored). Default: nbgrader's Execute.timeout when set.").tag(config=True)
    notebook_timeout = Float(600.0, min=0.1, help="Seconds a whole notebook may run (wall clock).").tag(config=True)
    startup_timeout = Float(120.0, min=0.1, help="Seconds a kernel may take to start.").tag(config=True)
    memory_bytes = Int(3 * GiB, min=MiB, help="RLIMIT_DATA of a kernel: the memory it may allocate "
                       "(a kernel with both frameworks needs about 1 GiB).").tag(config=True)
    file_bytes = Int(64 * MiB, min=0, help="RLIMIT_FSIZE: the largest file a kernel may write.").tag(config=True)
    open_files = Int(512, min=16, help="RLIMIT_NOFILE: files a kernel may hold open.").tag(config=True)
    processes = Int(512, min=16, help="RLIMIT_NPROC: processes and threads of a kernel's uid "
                    "(TensorFlow starts many threads).").tag(config=True)
    cpu_seconds = Int(900, min=1, help="RLIMIT_CPU: CPU seconds of a kernel, a backstop behind the "
                      "wall clocks.").tag(config=True)
    threads = Int(1, min=1, help="Threads of each framework's and BLAS's pools in a kernel.").tag(config=True)
    cell_output_bytes = Int(200_000, min=0, help="Output kept per cell (more is cut, marked "
                            "truncated).").tag(config=True)
    notebook_output_bytes = Int(2_000_000, min=0, help="Output kept per notebook.").tag(config=True)
    message_bytes = Int(8 * MiB, min=64 * 1024, help="Largest message the grader accepts from a kernel "
                        "on any channel (IOPub, shell, control, stdin); a larger one cuts the link "
                        "and is a recorded status.").tag(config=True)
    handback_bytes = Int(64 * MiB, min=1024, help="Data all checks of a notebook may hand back, in "
                         "total; checks past it are dropped (and fail).").tag(config=True)
    workers = Int(0, min=0, help="Local worker processes; 0: one per CPU. Does not decide a "
                  "grade.").tag(config=True)
    fast_start = Bool(True, help="Fork each kernel from a pre-started process (one for the local workers, "
                      "one per Dask worker) that has imported what the assignment's read-only cells import (the "
                      "frameworks are paid once, not per student), in the same sandbox (with or without root), and falls back to a "
                      "fresh kernel when it cannot start. Does not decide a grade.").tag(config=True)
    course_conventions = Bool(True, help="Also enforce this course's assignment conventions "
                              "(test_qN_ ids, PyTorch and TensorFlow graded apart, a parity exercise, "
                              "hidden tests, four exercises); the grading rules always apply.").tag(config=True)

    def run_limits(self) -> RunLimits:
        return RunLimits(self.cell_timeout, self.notebook_timeout, self.startup_timeout, self.cell_output_bytes,
                         self.notebook_output_bytes, self.message_bytes, self.handback_bytes)

    def sandbox_limits(self) -> SandboxLimits:
        return SandboxLimits(self.memory_bytes, self.file_bytes, self.open_files, self.processes,
                             self.cpu_seconds, self.threads)

    def effective(self) -> dict:
        """Every setting's value, as grading uses it (for the fingerprint and the report)."""
        return {name: getattr(self, name) for name in sorted(self.class_trait_names(config=True))}


@dataclass(frozen=True)
class RunLimits:
    """The kernel's clocks and caps (see ``Autograder``; build with ``Autograder().run_limits()``)."""
    cell_timeout_s: float
    notebook_timeout_s: float
    startup_timeout_s: float
    cell_output_bytes: int
    notebook_output_bytes: int
    message_bytes: int
    handback_bytes: int


@dataclass(frozen=True)
class SandboxLimits:
    """The sandbox's rlimits and thread caps (see ``Autograder``)."""
    memory_bytes: int       # RLIMIT_DATA (unlike RLIMIT_AS it lets the frameworks reserve address space)
    file_bytes: int         # RLIMIT_FSIZE
    open_files: int         # RLIMIT_NOFILE
    processes: int          # RLIMIT_NPROC (threads count too; counted per uid)
    cpu_seconds: int        # RLIMIT_CPU
    threads: int            # OMP/MKL/TF thread pools


def defaults() -> Autograder:
    return Autograder()


def as_dict(*holders) -> dict:
    """The fields of RunLimits/SandboxLimits values, merged (what the fingerprint hashes)."""
    out = {}
    for h in holders:
        out.update(dataclasses.asdict(h))
    return out


OVERRIDE = re.compile(r"^--Autograder\.([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.S)


def parse_overrides(args: list[str]) -> Config:
    """``--Autograder.name=value`` arguments as a traitlets Config; anything else is refused."""
    cfg = Config()
    traits = Autograder.class_traits(config=True)
    for arg in args:
        match = OVERRIDE.match(arg)
        if not match:
            raise ConfigError(f"unrecognized argument {arg!r} (options of the grader look like "
                              "--Autograder.cell_timeout=30)")
        name, text = match.groups()
        if name not in traits:
            raise ConfigError(f"--Autograder.{name}: no such option; the options are: {', '.join(sorted(traits))}")
        try:
            cfg.Autograder[name] = traits[name].from_string(text)
        except Exception as e:  # noqa: BLE001 - traitlets raises several kinds
            raise ConfigError(f"--Autograder.{name}={text}: {e}") from None
    return cfg


def load(course: Path, overrides: list[str] | Config = ()) -> Autograder:
    """The configuration for grading in ``course``: its nbgrader_config.py, then ``overrides``."""
    cfg = nbgrader_course.load_config(course)
    section = cfg.get("Autograder", {})
    execute_timeout = cfg.get("Execute", {}).get("timeout")
    if "cell_timeout" not in section and isinstance(execute_timeout, (int, float)) and execute_timeout > 0:
        cfg.Autograder.cell_timeout = float(execute_timeout)
    cfg.merge(overrides if isinstance(overrides, Config) else parse_overrides(list(overrides)))
    unknown = set(cfg.get("Autograder", {})) - set(Autograder.class_trait_names(config=True))
    if unknown:
        raise ConfigError(f"{CONFIG_FILE}: c.Autograder.{sorted(unknown)[0]} is not an option of the grader")
    try:
        return Autograder(config=cfg)
    except Exception as e:  # noqa: BLE001 - a value out of range (TraitError)
        raise ConfigError(f"{CONFIG_FILE}: {e}") from None


def options_table() -> str:
    """The README's table of options (name, default, meaning)."""
    rows = ["| option | default | meaning |", "|---|---|---|"]
    for name, trait in sorted(Autograder.class_traits(config=True).items()):
        value = trait.default_value
        shown = f"{value:g} s" if isinstance(value, float) else repr(value)
        if name.endswith("_bytes") and value >= MiB and value % MiB == 0:
            shown = f"{value // GiB} GiB" if value % GiB == 0 else f"{value // MiB} MiB"
        rows.append(f"| `{name}` | {shown} | {trait.help} |")
    return "\n".join(rows)
