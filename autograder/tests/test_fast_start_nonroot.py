"""The fast start when the grader is not root (the README's recommended setup: the grader runs as the
instructor). The security tests of test_fast_start.py, and the grading of the example submissions
forked and fresh (test_fast_start_examples.py), run again as a real, freshly created Unix user.

There, the zygote is exactly a fresh non-root kernel's sandbox (a user namespace, no capability) and
each child creates its own user namespace inside it, mapping the one uid there is: a child keeps the
grader's uid, as a fresh non-root kernel does, and is kept from the zygote and its siblings by its own
PID, mount, network, IPC and UTS namespaces and by holding no capability (see zygote.py).
"""

from __future__ import annotations

import os
import subprocess

from conftest import ROOT, VENV_BIN, tool, unix_users, user_command

USER = "sxs-fastgrader"
ENV = {"PYTHONPATH": f"{ROOT / 'course'}:{ROOT}", "TF_ENABLE_ONEDNN_OPTS": "0", "CUDA_VISIBLE_DEVICES": "",
       "JUPYTER_PLATFORM_DIRS": "1", "PYTHONDONTWRITEBYTECODE": "1"}


def test_the_fast_start_tests_pass_as_a_non_root_grader():
    tool("bwrap")
    tests = ["test_fast_start.py", "test_fast_start_examples.py"]
    with unix_users(USER):
        r = subprocess.run(user_command(USER, str(VENV_BIN / "python"), "-m", "pytest", "-p", "no:cacheprovider",
                                        "-q", "-rA", "-n", "0", "--basetemp", f"/home/{USER}/pytest-tmp", *tests,
                                        env=ENV),  # not /tmp/pytest-of-USER: a user made again gets another uid
                           cwd=ROOT / "autograder" / "tests", capture_output=True, text=True, timeout=1500)
    summary = r.stdout[-6000:] + r.stderr[-2000:]
    assert r.returncode == 0, summary
    assert " skipped" not in r.stdout.splitlines()[-1] and "passed" in r.stdout.splitlines()[-1], summary
    assert os.geteuid() == 0  # unix_users skips otherwise: the run above was really another user's


TWO_GRADERS = """
import sys
from autograder import config, fast_start
settings = config.Autograder(memory_bytes=2**30)
limits, run = settings.sandbox_limits(), settings.run_limits()
for i in range(3):
    k, why = fast_start.start_kernel(("sidebyside", "numpy"), limits, None, run.message_bytes, 60)
    assert k, why
    k.kc.execute_interactive(f"open('/home/student/marker', 'w').write('{sys.argv[1]}{i}')", timeout=30, output_hook=print)
    print("found", open(f"/proc/{k.init_pid}/root/home/student/marker").read(), flush=True)
    k.stop()
"""


def test_two_graders_of_one_uid_each_find_and_stop_their_own_children():
    """Not root, every zygote and child of the instructor has one uid: the grader finds a child by the
    pid its zygote reports, under that zygote only, and stops it by its PID namespace."""
    tool("bwrap")
    with unix_users(USER):
        procs = [subprocess.Popen(user_command(USER, str(VENV_BIN / "python"), "-c", TWO_GRADERS, tag, env=ENV),
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for tag in ("a", "b")]
        outs = [p.communicate(timeout=300) for p in procs]
    for tag, (out, err) in zip("ab", outs, strict=True):
        assert [line for line in out.splitlines() if line.startswith("found")] == [f"found {tag}{i}" for i in range(3)], \
            out + err
