"""The pre-started process (one per batch, or per Dask worker): imports the frameworks once, then
forks one sandboxed kernel per submission. It runs INSIDE the sandbox (``sandbox.zygote_command``): when the grader is
root, as root with five capabilities (SYS_ADMIN, SETUID, SETGID, SETPCAP, NET_ADMIN) and nothing else;
otherwise as the grader's uid with no capability at all, in the user namespace of a fresh non-root
kernel's sandbox (each child then makes its own user namespace, below). The grader starts it
with ``python -c <this file's text>``, so the grader's own package is never visible in the sandbox.
Only the standard library is used here (and the modules it is told to preload).

It never runs student code and reads nothing a child writes, except one bounded status line that
the child sends BEFORE any student code exists (below). Its protocol with the grader (the only other
party that can reach it): one JSON line per request on stdin, one JSON line per reply on stdout.

    start:   argv[1] = JSON list of modules to import, in order (the assignment's own imports)
             reply {"ready": true, "threads": 1, "seconds": 4.4, "fds": [...]} and serve,
             or {"ready": false, "reason": ...} and exit (a thread started before a fork is unsafe)
    request: {"uid": 61234, "dir": "/tmp/grade-zygote-x/3", "limits": {...}}  (not root: the zygote's own uid)
    reply:   {"ok": true, "pid": B's pid here} once the child's sandbox is set up, or {"ok": false, "reason": ...}

Each child is three processes, all forked, none exec'd:

A (the zygote's uid, this sandbox's namespaces): a new session; unshares mount, network, IPC, UTS,
  cgroup and PID namespaces, and when not root a user namespace that owns them, mapping only its own
  uid and gid (setgroups denied): A has capabilities there alone, none over the zygote's namespaces;
  forks B, reports B's pid and waits for it (the zygote reaps A).
B (PID 1 of the child's own PID namespace): mounts its own /proc, a fresh /tmp and /dev/shm, the
  submission's scratch folder at /home/student and its runtime folder (connection file, sockets) at
  its path under /tmp (other children's folders are not mounted at all); brings up its own loopback;
  sets the rlimits; drops to the leased uid for good (no groups, empty capability sets and bounding
  set, no_new_privs); not root, the uid stays, the one mapped, and the capabilities go the same way. It reports "ok" on a pipe that only the zygote reads, closes it, forks C and
  reaps orphans until C exits; then the PID namespace, and everything in it, dies.
C (the leased uid, or not root the grader's, PID 2): stdin /dev/null, stdout and stderr to runtime/kernel.log, fresh random
  states, then ipykernel on the connection file: the student's kernel.
"""

import ctypes
import importlib
import json
import os
import re
import select
import signal
import socket
import struct
import sys
import time

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWUSER = 0x00020000, 0x02000000, 0x04000000, 0x10000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
UIDS = range(61000, 65000)  # sandbox.SANDBOX_UIDS: the only uids a child may be given
STATUS_BYTES = 512

libc = ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(source, target, fstype, flags, data=None) -> None:
    enc = (lambda s: s.encode() if isinstance(s, str) else s)
    _check(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


def prctl(option: int, arg: int, arg2: int = 0) -> None:
    _check(libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(arg2), 0, 0), f"prctl {option}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def clear_capabilities() -> None:
    """Empty effective, permitted and inheritable sets (v3: two 32-bit words)."""
    header, data = _CapHeader(0x20080522, 0), (_CapData * 2)()
    _check(libc.capset(ctypes.byref(header), data), "capset")


def reply(obj) -> None:
    os.write(1, (json.dumps(obj) + "\n").encode())


def threads() -> int:
    return len(os.listdir("/proc/self/task"))


# --- the child -------------------------------------------------------------------------------------

def loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        import fcntl
        flags = struct.unpack("16sH", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH14s", b"lo", 0, b""))[:18])[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH14s", b"lo", flags | IFF_UP, b""))


def set_limits(limits: dict) -> None:
    import resource
    for name, value in (("RLIMIT_DATA", limits["memory_bytes"]), ("RLIMIT_FSIZE", limits["file_bytes"]),
                        ("RLIMIT_NOFILE", limits["open_files"]), ("RLIMIT_NPROC", limits["processes"]),
                        ("RLIMIT_CPU", limits["cpu_seconds"]), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (int(value), int(value)))


def drop_privileges(uid: int) -> None:
    """Root: the leased uid, no groups. Not root: the uid stays (the only one mapped), the groups
    too (as a fresh non-root kernel's); in both, no capability left or ever regained."""
    as_root = os.getuid() == 0
    if as_root:
        os.setgroups([])
        os.setresgid(uid, uid, uid)
    for cap in range(64):  # the bounding set: nothing can ever be regained, not even by exec
        if libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            break  # EINVAL: past the last capability this kernel knows
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    if as_root:
        os.setresuid(uid, uid, uid)
    clear_capabilities()
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    if os.getuid() != uid or os.geteuid() != uid or (as_root and (os.getgid() != uid or os.getgroups())):
        raise RuntimeError("the uid did not change")


def _read_only_mounts_under(top: str) -> list[str]:
    """The read-only mount points below ``top``, outermost first (from /proc/self/mountinfo)."""
    points = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            point, options = fields[4].replace("\\040", " "), fields[5].split(",")
            if point.startswith(top.rstrip("/") + "/") and "ro" in options:
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"))


def _make_dirs(path: str) -> None:
    done = ""
    for part in path.strip("/").split("/"):
        done += "/" + part
        if not os.path.isdir(done):
            os.mkdir(done, 0o755)


def setup_b(req: dict) -> None:
    """In B, as root, in the new namespaces: the child's own file system view, network, limits."""
    folder = req["dir"]
    runtime, scratch = f"{folder}/runtime", f"{folder}/scratch"
    runtime_fd = os.open(runtime, os.O_PATH | os.O_DIRECTORY)  # kept across the /tmp mount below
    mount(scratch, "/home/student", None, MS_BIND)
    mount(None, "/home/student", None, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV)
    # What the sandbox bound read-only under /tmp (a checkout and its .venv there) stays visible; nothing else.
    kept = {point: os.open(point, os.O_PATH | os.O_DIRECTORY) for point in _read_only_mounts_under("/tmp")
            if not point.startswith(folder.rstrip("/").rsplit("/", 1)[0] + "/")}
    mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")  # hides every other child's folder
    for point, fd in sorted(kept.items()):
        _make_dirs(point)
        mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
    _make_dirs(runtime)
    mount(f"/proc/self/fd/{runtime_fd}", runtime, None, MS_BIND)
    os.close(runtime_fd)
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)  # this PID namespace's processes only
    loopback_up()
    set_limits(req["limits"])
    drop_privileges(req["uid"])


def run_c(req: dict) -> None:
    """C: the kernel, as the student's uid. Never returns."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_DUMPABLE, 1)  # as after an exec: its own uid may inspect it (a fresh kernel is the same)
    null = os.open("/dev/null", os.O_RDWR)
    log = os.open(f"{req['dir']}/runtime/kernel.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(null, 0)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    os.chdir("/home/student")
    import random
    random.seed()  # what a fresh interpreter does: state from the OS, never the zygote's
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    import ipykernel_launcher
    sys.argv = [ipykernel_launcher.__file__, "-f", req["connection_file"]]
    if sys.path and sys.path[0] == "":  # as ipykernel_launcher does (python -c put it there)
        del sys.path[0]
    from ipykernel import kernelapp
    try:
        kernelapp.launch_new_instance(argv=["-f", req["connection_file"]])
    finally:
        os._exit(0)


def run_b(req: dict, status_w: int) -> None:
    """B: PID 1 of the child. Never returns."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    try:
        setup_b(req)
        pid = os.fork()
        if pid == 0:
            os.close(status_w)
            run_c(req)
    except BaseException as e:  # noqa: BLE001 - reported, then B exits and the namespace with it
        os.write(status_w, f"{type(e).__name__}: {e}"[:STATUS_BYTES - 1].encode())
        os._exit(121)
    os.write(status_w, b"ok")
    os.close(status_w)
    while True:  # init: reap whatever is orphaned to us; leave with C
        try:
            done, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if done == pid:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def run_a(req: dict, status_w: int, zygote: int) -> None:
    """A: the namespaces. Never returns."""
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != zygote:
            os._exit(1)
        os.setsid()
        nested = os.getuid() != 0  # not root: a user namespace of its own, owning the others
        uid, gid = os.getuid(), os.getgid()
        _check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP
                            | (CLONE_NEWUSER if nested else 0)), "unshare")
        if nested:  # the same single uid and gid mapped: nothing of the zygote's namespace can be acted on
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        mount(None, "/", None, MS_REC | MS_PRIVATE)
        pid = os.fork()
        if pid == 0:
            run_b(req, status_w)
        os.write(status_w, f"pid {pid}\n".encode())  # B, as the zygote numbers it: the grader finds it by this
    except BaseException as e:  # noqa: BLE001
        os.write(status_w, f"{type(e).__name__}: {e}"[:STATUS_BYTES - 1].encode())
        os._exit(120)
    os.close(status_w)
    _, status = os.waitpid(pid, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


# --- the zygote ------------------------------------------------------------------------------------

def valid(req, base: str) -> str:
    """Why a request is refused ('' if it is fine): the grader is trusted, but a typo must not give
    a child root or the zygote's own folder. Not root, the only uid there is is the zygote's own."""
    uids = UIDS if os.getuid() == 0 else (os.getuid(),)
    if not isinstance(req, dict) or not isinstance(req.get("uid"), int) or req["uid"] not in uids:
        return "the uid is not a sandbox uid"
    d = req.get("dir")
    if not isinstance(d, str) or os.path.dirname(d) != base or "/." in d or not os.path.isdir(d):
        return "the folder is not one of this zygote's"
    if not isinstance(req.get("limits"), dict) or not isinstance(req.get("connection_file"), str):
        return "limits or connection file missing"
    return ""


def spawn(req: dict) -> dict:
    status_r, status_w = os.pipe()
    zygote = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(status_r)
        null = os.open("/dev/null", os.O_RDWR)
        for fd in (0, 1):  # the grader's pipes stay with the zygote
            os.dup2(null, fd)
        os.close(null)
        run_a(req, status_w, zygote)
    os.close(status_w)
    text, deadline = "", time.monotonic() + 30
    try:  # "pid N" from A, then "ok" from B (or a reason); bounded, until both have closed the pipe
        while len(text) < STATUS_BYTES and time.monotonic() < deadline:
            if not select.select([status_r], [], [], max(0.0, deadline - time.monotonic()))[0]:
                break
            chunk = os.read(status_r, STATUS_BYTES - len(text)).decode(errors="replace")
            if not chunk:
                break
            text += chunk
    finally:
        os.close(status_r)
    found = re.search(r"pid (\d+)\n", text)  # A's line and B's "ok" may come in either order
    if found and text[:found.start()] + text[found.end():] == "ok":
        return {"ok": True, "pid": int(found.group(1))}
    text = text or "no answer within 30 s"
    os.kill(pid, signal.SIGKILL)
    return {"ok": False, "reason": f"the child's sandbox could not be set up: {text}"}


def serve(base: str) -> None:
    buffer = b""
    while True:
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        ready, _, _ = select.select([0], [], [], 1.0)
        if not ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:
            return  # the grader closed the pipe
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                reply({"ok": False, "reason": "not JSON"})
                continue
            problem = valid(req, base)
            reply({"ok": False, "reason": problem} if problem else spawn(req))


def main() -> None:
    preload, base = json.loads(sys.argv[1]), sys.argv[2]
    start = time.monotonic()
    try:
        for name in preload:
            importlib.import_module(name)
        import ipykernel.kernelapp  # noqa: F401 - the kernel itself, and what the hand-back prelude uses
        import ipykernel_launcher  # noqa: F401
        import IPython.display  # noqa: F401
    except BaseException as e:  # noqa: BLE001
        reply({"ready": False, "reason": f"importing failed: {type(e).__name__}: {e}"[:2000]})
        sys.exit(2)
    count = threads()
    if count != 1:  # fork copies only the calling thread: another thread's locks would stay held
        reply({"ready": False, "reason": f"{count} threads after the imports; forking is unsafe"})
        sys.exit(3)
    used = os.times()
    reply({"ready": True, "threads": count, "seconds": round(time.monotonic() - start, 3),
           "cpu_s": round(used.user + used.system, 3),
           "fds": sorted(int(f) for f in os.listdir("/proc/self/fd"))})
    serve(base)
    os._exit(0)  # the grader is done: tearing down the frameworks' interpreter state would only cost time


if __name__ == "__main__":
    main()
