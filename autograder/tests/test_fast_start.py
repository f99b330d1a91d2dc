"""The fast start (fast_start.py, zygote.py), run for real: a zygote in the bubblewrap sandbox,
kernels forked from it as leased uids. Each test proves one guarantee of the security argument:

- a child can neither signal nor trace the zygote or a sibling, and cannot even see them;
- a child has no network (its own loopback only: not the host's);
- a child cannot see another child's files (scratch, /tmp, /dev/shm) or objects;
- what a child changes (modules, environment, random state, files) never reaches the next child;
- a child that kills itself, its parent or everything it can, or forks without end, is contained;
- a child starts as a fresh kernel does: same uid kind, capabilities, rlimits, environment, paths,
  default random streams, thread count, and the zygote had one thread when it forked;
- when the zygote cannot start, grading falls back to the fresh kernel.

The equality of grades on the example submissions, forked or fresh, is in test_fast_start_examples.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder import config, fast_start, kernel, sandbox
from conftest import tool

SETTINGS = config.Autograder(cell_timeout=30, notebook_timeout=120, memory_bytes=2**30)
LIMITS, RUN = SETTINGS.sandbox_limits(), SETTINGS.run_limits()
LIGHT = ("sidebyside", "numpy")  # a zygote that imports little: quick to start for these tests
ROOT = os.geteuid() == 0  # these tests run as root and, from test_fast_start_nonroot.py, as a real other user


def test_the_zygote_imports_what_the_read_only_cells_import_in_their_order():
    codes = ["import sidebyside as sbs  # first\nimport numpy as np\nimport torch, tensorflow as tf\n",
             "from keras import layers\nfrom . import local\nimport numpy\nx = 1\n", "def (broken", "if x:\n    import os"]
    assert fast_start.imports_of(codes) == ["sidebyside", "numpy", "torch", "tensorflow", "keras"]
    assert fast_start.preload_for(["import torch"]) == ("torch", "torch._dynamo", "numpy", "sidebyside")
    assert fast_start.preload_for([]) == ("numpy", "sidebyside")


@pytest.fixture(scope="module")
def zygote():
    tool("bwrap")
    fast_start.close_all()
    z = fast_start.zygote_for(LIGHT, LIMITS, 120)
    yield z
    fast_start.close_all()


def forked(files=None) -> fast_start.ForkedKernel:
    k, why = fast_start.start_kernel(LIGHT, LIMITS, files, RUN.message_bytes, 60)
    assert k, why
    return k


def run(k, code: str, timeout: float = 60) -> str:
    """What ``code`` prints in kernel ``k`` (stdout, stderr and errors)."""
    out = []

    def hook(msg):
        c = msg["content"]
        if msg["msg_type"] == "stream":
            out.append(c["text"])
        elif msg["msg_type"] == "error":
            out.append(f"{c['ename']}: {c['evalue']}")
    k.kc.execute_interactive(code, timeout=timeout, output_hook=hook)
    return "".join(out)


def zygote_pid(z: fast_start.Zygote) -> int:
    """The zygote's Python process, as this machine numbers it (bwrap runs it under its own init)."""
    for pid in sandbox.processes_of(os.getuid()):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if len(cmd) > 4 and cmd[1] == b"-c" and cmd[4] == str(z.base).encode():
            return pid
    raise AssertionError("the zygote's process was not found")


def kernel_pid(k: fast_start.ForkedKernel) -> int:
    """C, the kernel process: PID 2 of the child's namespace."""
    return next(p for p in sandbox.processes_of(k.uid) if fast_start._status(p).get("NSpid", "").split()[-1] == "2")


def test_the_zygote_forked_with_one_thread_and_holds_no_child_pipe(zygote):
    assert zygote.ready["threads"] == 1
    assert zygote.ready["fds"] == [0, 1, 2, 3], zygote.ready  # the pipes, the log, and listdir's own fd
    pid = zygote_pid(zygote)
    assert fast_start._status(pid)["Uid"].split()[0] == str(os.getuid())  # root, or the grader's own uid


def test_a_child_cannot_see_signal_or_trace_the_zygote_or_a_sibling(zygote):
    first, second = forked(), forked()
    try:
        if ROOT:
            assert first.uid != second.uid and {first.uid, second.uid} <= set(sandbox.SANDBOX_UIDS)
        else:  # one uid for all, as fresh non-root kernels: only the namespaces keep them apart
            assert first.uid == second.uid == os.getuid() and first.namespace != second.namespace
        targets = [zygote_pid(zygote), first.init_pid, kernel_pid(first)]
        seen = run(second, (
            "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            f"for pid in {targets}:\n"
            "    try:\n        os.kill(pid, 0)\n        print(pid, 'SIGNALLED')\n"
            "    except OSError as e:\n        print(pid, 'kill', e.errno)\n"
            "    print(pid, 'ptrace', libc.ptrace(16, pid, 0, 0), ctypes.get_errno())\n"
            "print('visible', sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))\n"))
        for pid in targets:  # ESRCH: those processes do not exist in the child's PID namespace
            assert f"{pid} kill 3" in seen and f"{pid} ptrace -1 3" in seen, seen
        assert "visible [1, 2" in seen and "SIGNALLED" not in seen, seen
        # as root, the uid alone forbids it too: a process of the second child's uid, outside any namespace
        probe = None if not ROOT else subprocess.run([sys.executable, "-c", (
            "import os, sys\nfor pid in map(int, sys.argv[1:]):\n    try:\n        os.kill(pid, 0)\n"
            "        print(pid, 'SIGNALLED')\n    except OSError as e:\n        print(pid, e.errno)")]
            + [str(p) for p in targets], user=second.uid, group=second.uid, capture_output=True, text=True)
        assert not probe or all(f"{p} 1" in probe.stdout for p in targets), probe.stdout + probe.stderr  # EPERM
        # the second child kills every process it may signal: only itself and its own go
        second.kc.execute("import subprocess, sys, time\nsubprocess.run([sys.executable, '-c', "
                          "'import os, signal; os.kill(-1, signal.SIGKILL)'])\ntime.sleep(30)")
        deadline = time.monotonic() + 20
        while second.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not second.alive(), "kill(-1) should have killed the second child's own kernel"
        assert zygote.alive() and first.alive() and run(first, "print(6 * 7)") == "42\n"
    finally:
        first.stop()
        second.stop()


def test_a_child_has_no_network_but_its_own_loopback(zygote):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        k = forked()
        try:
            seen = run(k, (
                "import socket\n"
                f"for host, port in [('1.1.1.1', 53), ('127.0.0.1', {port})]:\n"
                "    try:\n        socket.create_connection((host, port), timeout=3)\n        print(host, 'OPEN')\n"
                "    except OSError as e:\n        print(host, e.strerror)\n"
                "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
                "socket.create_connection(s.getsockname(), timeout=3); print('own loopback works')\n"
                "print(sorted(i[1] for i in socket.if_nameindex()))"))
        finally:
            k.stop()
    assert "1.1.1.1 Network is unreachable" in seen and "127.0.0.1 Connection refused" in seen, seen
    assert "own loopback works" in seen and "['lo']" in seen and "OPEN" not in seen, seen


def test_a_child_cannot_see_another_childs_files_or_objects(zygote):
    first = forked(files={"data/given.txt": b"given"})
    second = forked()
    try:
        where = run(first, (
            "import os\nsecret_object = 'first child secret'\n"
            "for p in ['/home/student/mine.txt', '/tmp/mine.txt', '/dev/shm/mine.txt']:\n"
            "    open(p, 'w').write('first child secret')\n"
            "print(open('data/given.txt').read())\n"
            "print(os.path.realpath('/proc/self/cwd'))"))
        assert "given" in where
        host_scratch = first.workdir / "scratch"
        assert (host_scratch / "mine.txt").read_text() == "first child secret"
        seen = run(second, (
            "import os, glob, gc\n"
            "print('listing', os.listdir('/home/student'), os.listdir('/tmp'), os.listdir('/dev/shm'))\n"
            f"for p in ['{host_scratch}/mine.txt', '{first.workdir}', '{zygote.base}']:\n"
            "    print(p, os.path.exists(p))\n"
            "print(sorted(glob.glob('/tmp/**/mine.txt', recursive=True)))\n"
            "print('secret_object' in globals(), any(o == 'first child secret' for o in gc.get_objects()"
            " if isinstance(o, str)))"))
    finally:
        first.stop()
        second.stop()
    assert "listing [] [" in seen and "mine.txt" not in seen.split("listing")[1].split("\n")[0], seen
    assert f"{host_scratch}/mine.txt False" in seen and f"{first.workdir} False" in seen, seen
    assert "[]\nFalse False" in seen, seen


def test_what_a_child_changes_never_reaches_the_next_child(zygote):
    first = forked()
    try:
        before = run(first, "import random, numpy as np\nprint(random.random(), np.random.rand())")
        run(first, (
            "import numpy as np, sidebyside, sys, os, random\n"
            "np.pi = 3; sidebyside.assert_parity = None; sys.path.append('/evil'); os.environ['EVIL'] = '1'\n"
            "sys.modules['planted'] = sys\nrandom.seed(1); np.random.seed(1)\n"
            "import builtins; builtins.planted = 'first child'\n"
            "for p in [sidebyside.__file__, np.__file__, '/usr/lib/planted']:\n"
            "    try:\n        open(p, 'a').write('# planted')\n        print('WROTE', p)\n"
            "    except OSError as e:\n        print('refused', e.errno)"))
    finally:
        first.stop()
    second = forked()
    try:
        seen = run(second, (
            "import numpy as np, sidebyside, sys, os, random, builtins\n"
            "print(np.pi, sidebyside.assert_parity is not None, '/evil' in sys.path, 'EVIL' in os.environ,"
            " 'planted' in sys.modules, hasattr(builtins, 'planted'))\n"
            "print(random.random(), np.random.rand())"))
    finally:
        second.stop()
    assert seen.splitlines()[0] == "3.141592653589793 True False False False False", seen
    seeded = subprocess.run([sys.executable, "-c", "import random, numpy as np; random.seed(1); np.random.seed(1); "
                             "print(random.random(), np.random.rand())"], capture_output=True, text=True).stdout
    assert seen.splitlines()[1] not in (seeded.strip(), before.strip()), (seen, seeded, before)


def test_a_child_that_kills_itself_its_parent_or_forks_without_end_is_contained(zygote):
    bomb = forked()
    try:
        seen = run(bomb, (
            "import os, time, signal, subprocess\n"
            "subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
            "for pid in (os.getppid(), 1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n"
            "    except OSError as e:\n        print('refused', e.errno)\n"
            "forked = 0\nfor _ in range(3000):\n    try:\n        pid = os.fork()\n    except OSError:\n        break\n"
            "    if pid == 0:\n        time.sleep(600)\n        os._exit(0)\n    forked += 1\n"
            "print('forks refused' if forked < 3000 else 'all forks made', forked)"), timeout=120)
        assert "forks refused" in seen and bomb.alive(), seen
        assert len(bomb.members()) > 100
    finally:
        bomb.stop()
    assert bomb.members() == [], "the fork bomb and the daemon outlived their child"
    assert not ROOT or sandbox.processes_of(bomb.uid) == []
    suicide = forked()
    try:
        suicide.kc.execute("import os\nos._exit(3)")
        deadline = time.monotonic() + 20
        while suicide.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not suicide.alive()
    finally:
        suicide.stop()
    assert zygote.alive()
    after = forked()
    try:
        assert run(after, "print('still serving')") == "still serving\n"
    finally:
        after.stop()


STATE = ("import os, sys, resource, json, numpy as np, random\n"
         "status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)\n"
         "limits = {n: resource.getrlimit(getattr(resource, n)) for n in ('RLIMIT_DATA', 'RLIMIT_FSIZE', "
         "'RLIMIT_NOFILE', 'RLIMIT_NPROC', 'RLIMIT_CPU', 'RLIMIT_CORE', 'RLIMIT_AS', 'RLIMIT_STACK')}\n"
         "print(json.dumps({'env': dict(os.environ), 'cwd': os.getcwd(), 'path': sys.path, 'pid': os.getpid(), "
         "'ids': 61000 <= os.getuid() < 65000 and os.getgid() == os.getuid() and not os.getgroups() "
         "or [os.getuid(), os.getgid(), os.getgroups()], "
         "'caps': [status[k] for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs')], "
         "'limits': limits, 'threads': len(os.listdir('/proc/self/task')), 'home': sorted(os.listdir('/home')), "
         "'tmp': sorted(p for p in os.listdir('/tmp') if not p.startswith('grade-')), "
         "'shm': os.listdir('/dev/shm'), 'executable': sys.executable, "
         "'sbs_threads': __import__('sidebyside').THREADS, 'hash': hash('x')}))")


def test_a_forked_kernel_starts_as_a_fresh_kernel_does(zygote):
    k = forked(files={"given.txt": b"x"})
    try:
        mine = json.loads(run(k, STATE))
    finally:
        k.stop()
    fresh = kernel.Kernel(True, LIMITS, {"given.txt": b"x"}, RUN.message_bytes)
    try:
        fresh.start(120)
        theirs = json.loads(run(fresh, STATE))
    finally:
        fresh.stop()
    mine["env"].pop("JPY_PARENT_PID", None), theirs["env"].pop("JPY_PARENT_PID", None)
    assert mine == theirs


@pytest.mark.parametrize("preload", [("no_such_module_at_all",)])
def test_grading_falls_back_to_a_fresh_kernel_when_the_zygote_cannot_start(preload):
    tool("bwrap")
    r = kernel.run_cells(["import numpy as np\nprint(np.arange(3).sum())"], sandboxed=True, limits=RUN,
                         sandbox_limits=LIMITS, fast_start=True, preload=preload)
    assert r.status == "completed" and r.cells[0].outputs[0]["text"] == "3\n", (r.status, r.reason)
    assert r.phases["kernel"] == "fresh" and "no_such_module_at_all" in r.phases["fallback"], r.phases
    assert r.phases["start_s"] > 0 and "cells_s" in r.phases


def test_a_zygote_with_both_frameworks_forks_kernels_that_train(tmp_path):
    """The feasibility check of issue 13, kept: PyTorch, TensorFlow and Keras imported once, no thread
    started before the fork, and each forked kernel builds a Dense layer, takes a GradientTape
    gradient and runs a PyTorch backward pass, with the same numbers as a fresh kernel."""
    tool("bwrap")
    code = ["import sidebyside as sbs\nimport numpy as np\nimport torch\nimport tensorflow as tf\nimport keras\n"
            "sbs.seed_everything(0)",
            "layer = keras.layers.Dense(2)\nx = tf.ones((1, 3))\nwith tf.GradientTape() as tape:\n"
            "    y = tf.reduce_sum(layer(x) ** 2)\ng = tape.gradient(y, layer.kernel)\n"
            "w = torch.randn(3, 2, requires_grad=True)\n(torch.ones(1, 3) @ w).pow(2).sum().backward()\n"
            "print(np.round(g.numpy(), 4).tolist(), np.round(w.grad.numpy(), 4).tolist(), "
            "__import__('tensorflow.python.framework.config', fromlist=['x']).is_op_determinism_enabled(), torch.get_num_threads(), "
            "tf.config.threading.get_intra_op_parallelism_threads())"]
    preload = fast_start.preload_for(code[:1])
    limits = config.Autograder().sandbox_limits()  # the defaults: both frameworks need about 1 GiB
    try:
        runs = [kernel.run_cells(code, sandboxed=True, limits=RUN, sandbox_limits=limits,
                                 fast_start=fast, preload=preload, prelude="") for fast in (True, True, False)]
        zygote = fast_start.zygote_for(preload, limits, 120)
        assert zygote.ready["threads"] == 1
    finally:
        fast_start.close_all()
    assert [r.phases["kernel"] for r in runs] == ["forked", "forked", "fresh"], [r.phases for r in runs]
    printed = [r.cells[1].outputs[0].get("text", r.cells[1].outputs) for r in runs]
    assert printed[0] == printed[1] == printed[2] and printed[0].endswith("True 1 0\n"), printed


def _kernel_from_the_service(socket_path: str) -> tuple[int, int, str]:
    """In a local worker: a forked kernel from the batch's zygote service; (worker, zygote sandbox, what the
    kernel sees: its pid, and whether the service's socket exists for it)."""
    k, why = fast_start.start_kernel(LIGHT, LIMITS, None, RUN.message_bytes, 60)
    assert k, why
    try:
        time.sleep(0.5)  # long enough for both workers to take a job
        seen = run(k, f"import os; print(os.getpid(), os.path.exists({socket_path!r}))").strip()
        return os.getpid(), k.zygote.sandbox_pid, seen
    finally:
        k.stop()


def test_local_workers_share_one_zygote_that_only_the_grader_can_reach():
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import AuthenticationError, get_context
    from multiprocessing.connection import Client

    from autograder import zygote_service

    tool("bwrap")
    service = zygote_service.ZygoteService(LIGHT, LIMITS, 120)
    try:
        folder = Path(service.address["socket"]).parent
        assert folder.stat().st_mode & 0o777 == 0o700 and folder.stat().st_uid == os.getuid()
        with pytest.raises((AuthenticationError, EOFError, ConnectionError)):  # no key, no zygote
            Client(service.address["socket"], family="AF_UNIX", authkey=b"a guess").send({"op": "folder", "uid": 0})
        with ProcessPoolExecutor(2, mp_context=get_context("spawn"), initializer=zygote_service.connect,
                                 initargs=(service.address,)) as pool:
            seen = list(pool.map(_kernel_from_the_service, [service.address["socket"]] * 4))
        assert os.path.exists(service.address["socket"])
        assert len({worker for worker, _, _ in seen}) == 2                       # both workers forked kernels...
        assert {sandbox_pid for _, sandbox_pid, _ in seen} == {service.zygote.sandbox_pid}  # ...from one zygote
        assert {kernel for _, _, kernel in seen} == {"2 False"}  # each in a namespace of its own, with no socket
        zygote = service.zygote
    finally:
        service.close()
    assert not zygote.alive() and not folder.exists()                            # and it leaves with the batch


def test_a_service_whose_zygote_cannot_start_leaves_each_submission_a_fresh_kernel():
    from autograder import zygote_service

    tool("bwrap")
    bad = ("numpy", "no_such_module_at_all")
    service = zygote_service.ZygoteService(bad, LIMITS, 60)
    try:
        zygote_service.connect(service.address)  # this process as a worker of the batch
        for _ in range(2):  # refused once, never retried
            r = kernel.run_cells(["print(6 * 7)"], sandboxed=True, limits=RUN, sandbox_limits=LIMITS,
                                 fast_start=True, preload=bad)
            assert r.status == "completed" and r.cells[0].outputs[0]["text"] == "42\n", (r.status, r.reason)
            assert r.phases["kernel"] == "fresh" and "no_such_module_at_all" in r.phases["fallback"], r.phases
    finally:
        zygote_service._remote = None
        service.close()


def test_without_a_socket_for_the_service_each_worker_starts_its_own_zygote(tmp_path, monkeypatch):
    import tempfile

    from autograder import batch, template

    deep = tmp_path / ("d" * 100)  # a TMPDIR too deep for a Unix socket's path
    deep.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(deep))
    tpl = template.load("01_tensors")
    assert batch.zygote_service(tpl, True, True, RUN, LIMITS, None) is None
    assert list(deep.iterdir()) == []  # nothing left behind
