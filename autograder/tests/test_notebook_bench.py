"""`make bench` measures a real kernel and fills the README's table."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench import notebook_bench
from conftest import ROOT


def test_bench_measures_a_notebook_in_a_real_kernel(tmp_path):
    out = tmp_path / "bench.json"
    r = subprocess.run([sys.executable, "-m", "bench.notebook_bench", "course/00_start_here.ipynb", "--no-lab",
                        "--json", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    result = json.loads(out.read_text())
    (row,) = result["notebooks"]
    assert row["notebook"] == "course/00_start_here.ipynb"
    # The start page imports both frameworks: that alone takes hundreds of MB and over a second.
    assert 0.2 < row["peak_rss_gib"] < 4 and 0.5 < row["wall_s"] < 300
    assert result["install_gib"] > 1
    assert "| `course/00_start_here.ipynb` |" in r.stdout


def test_bench_table_replaces_only_its_block(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n")
    rows = [{"notebook": "course/01_x.ipynb", "wall_s": 100.0, "peak_rss_gib": 0.5}]
    notebook_bench.write_readme(readme, notebook_bench.table(rows, 2.5))
    text = readme.read_text()
    assert text.startswith("intro\n<!-- bench:start -->\nMeasured") and text.endswith("<!-- bench:end -->\noutro\n")
    assert "| `course/01_x.ipynb` | 100.0 s | 0.50 GiB | ✗ over budget |" in text and "old" not in text
    readme.write_text("no block")
    with pytest.raises(SystemExit):
        notebook_bench.write_readme(readme, "x")
