"""Unit tests of the grader's configuration (autograder/config.py): defaults, the course's
nbgrader_config.py, nbgrader's Execute.timeout, command-line overrides, refusals. No kernels."""

from __future__ import annotations

import pytest
from traitlets.config import Config

from autograder import config
from autograder.__main__ import main
from conftest import ROOT


def write_config(root, text):
    (root / "nbgrader_config.py").write_text("c = get_config()\n" + text)
    return root


def test_defaults_are_the_graders_limits():
    s = config.Autograder()
    assert s.run_limits() == config.RunLimits(cell_timeout_s=120, notebook_timeout_s=600, startup_timeout_s=120,
                                              cell_output_bytes=200_000, notebook_output_bytes=2_000_000,
                                              message_bytes=8 * 2**20, handback_bytes=64 * 2**20)
    assert s.sandbox_limits() == config.SandboxLimits(memory_bytes=3 * 2**30, file_bytes=64 * 2**20, open_files=512,
                                                      processes=512, cpu_seconds=900, threads=1)
    assert s.workers == 0 and s.course_conventions is True


def test_every_limit_is_a_trait_and_reaches_the_value_holders():
    s = config.Autograder()
    held = config.as_dict(s.run_limits(), s.sandbox_limits())
    traits = set(s.class_trait_names(config=True)) - {"workers", "course_conventions", "fast_start"}
    assert len(held) == len(traits) == 13


def test_the_courses_nbgrader_config_is_read(tmp_path):
    write_config(tmp_path, "c.Autograder.cell_timeout = 60\nc.Autograder.memory_bytes = 2 * 2**30\n")
    s = config.load(tmp_path)
    assert (s.cell_timeout, s.memory_bytes, s.notebook_timeout) == (60.0, 2 * 2**30, 600.0)
    assert s.run_limits().cell_timeout_s == 60.0 and s.sandbox_limits().memory_bytes == 2 * 2**30


def test_nbgraders_execute_timeout_is_the_cell_timeout_unless_the_grader_has_one(tmp_path):
    write_config(tmp_path, "c.Execute.timeout = 45\n")
    assert config.load(tmp_path).cell_timeout == 45.0
    write_config(tmp_path, "c.Execute.timeout = 45\nc.Autograder.cell_timeout = 30\n")
    assert config.load(tmp_path).cell_timeout == 30.0


def test_the_command_line_overrides_the_file(tmp_path):
    write_config(tmp_path, "c.Execute.timeout = 45\nc.Autograder.cell_timeout = 30\nc.Autograder.threads = 2\n")
    s = config.load(tmp_path, ["--Autograder.cell_timeout=12.5", "--Autograder.processes=64"])
    assert (s.cell_timeout, s.processes, s.threads) == (12.5, 64, 2)
    assert config.load(tmp_path, Config({"Autograder": {"threads": 3}})).threads == 3


def test_no_file_means_defaults(tmp_path):
    assert config.load(tmp_path).effective() == config.Autograder().effective()


def test_this_courses_own_config_loads():
    s = config.load(ROOT)
    assert s.cell_timeout == 120.0  # nbgrader_config.py: c.Execute.timeout = 120


@pytest.mark.parametrize("args, message", [
    (["--Autograder.nope=1"], "no such option"),
    (["--Autograder.cell_timeout=soon"], "cell_timeout"),
    (["--cell_timeout=3"], "unrecognized argument"),
    (["extra"], "unrecognized argument"),
])
def test_bad_command_line_options_are_refused(args, message):
    with pytest.raises(config.ConfigError, match=message):
        config.parse_overrides(args)


def test_bad_values_in_the_file_are_refused(tmp_path):
    write_config(tmp_path, "c.Autograder.cell_timout = 3\n")
    with pytest.raises(config.ConfigError, match="cell_timout"):
        config.load(tmp_path)
    write_config(tmp_path, "c.Autograder.threads = 0\n")
    with pytest.raises(config.ConfigError, match="threads"):
        config.load(tmp_path)


def test_the_cli_refuses_an_unknown_option_before_grading(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["grade", "99_x", "--submissions", str(tmp_path), "--out", str(tmp_path / "out"),
              "--Autograder.nope=1"])
    assert e.value.code == 2 and "no such option" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_readme_documents_every_option():
    readme = (ROOT / "README.md").read_text()
    assert config.options_table() in readme, "README's options table is stale: paste config.options_table()"
