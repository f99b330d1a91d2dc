"""environment.yml is the single source of truth: Binder builds it, `make install` installs its pins,
and the installed .venv must agree with it."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version

import yaml
from packaging.version import Version

from conftest import ROOT

ENV = yaml.safe_load((ROOT / "environment.yml").read_text())


def pip_section() -> list[str]:
    (pip,) = [d["pip"] for d in ENV["dependencies"] if isinstance(d, dict)]
    return pip


def pins() -> dict[str, str]:
    return dict(line.split("==") for line in pip_section() if not line.startswith("-"))


def test_every_pip_dependency_is_pinned_exactly():
    for line in pip_section():
        assert line.startswith("--extra-index-url ") or ("==" in line and line.count("==") == 1), line
    assert {"torch", "tensorflow-cpu", "keras", "nbgrader", "nbval", "jupyterlab"} <= set(pins())


def test_the_makefile_installs_exactly_these_pins():
    out = subprocess.run(["make", "-s", "--no-print-directory", "pins"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    assert sorted(out) == sorted(f"{k}=={v}" for k, v in pins().items())


def test_installed_versions_match_the_pins():
    # A local version label (torch's "+cpu") is the same release: compare public versions.
    wrong = {name: (pinned, version(name)) for name, pinned in pins().items()
             if Version(version(name)).public != Version(pinned).public}
    assert not wrong, f"installed versions differ from environment.yml: {wrong}"


def test_python_version_matches():
    (python,) = [d for d in ENV["dependencies"] if isinstance(d, str) and d.startswith("python=")]
    assert python == "python=%d.%d" % sys.version_info[:2]


def test_torch_is_the_cpu_build():
    import torch

    assert torch.version.cuda is None, "a CUDA build of torch pulls GBs the course never uses"


def test_binder_reads_the_root_environment():
    # repo2docker ignores root configuration files when a binder/ or .binder/ folder exists.
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in pip_section()
    post_build = ROOT / "postBuild"
    assert post_build.stat().st_mode & 0o111, "postBuild must be executable"
    assert "pip install --no-deps -e ." in post_build.read_text()
