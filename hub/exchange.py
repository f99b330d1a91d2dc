"""Where nbgrader's exchange is, and the permissions it needs.

The exchange is where the instructor releases assignments and students submit them. It lives outside the
course directory, at a system path every user of the machine can reach:

- ``NBGRADER_EXCHANGE`` in the environment, when set (the hub sets it for every user's server);
- else nbgrader's default, ``/usr/local/share/nbgrader/exchange``, when it exists (``make hub-users``
  creates it, as root);
- else, on a single-user laptop without root, a per-user exchange, ``~/.local/share/nbgrader/exchange``:
  the instructor and the student are the same person, so release, fetch, submit and collect still work.

Standard library only: nbgrader's config files and the hub's config load this file.
``python hub/exchange.py`` (what ``make lab-instructor`` runs) creates the exchange and prints where it is.
"""

from __future__ import annotations

import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

SYSTEM_EXCHANGE = "/usr/local/share/nbgrader/exchange"
ENV = "NBGRADER_EXCHANGE"

# nbgrader's release refuses (or, as the owner, rewrites) a root whose permission bits are not exactly 0777;
# the sticky bit on top stops anyone deleting or renaming what another user created there.
ROOT_MODE = 0o1777


def per_user_exchange(environ=os.environ) -> Path:
    data = environ.get("XDG_DATA_HOME") or os.path.join(environ.get("HOME") or os.path.expanduser("~"), ".local", "share")
    return Path(data) / "nbgrader" / "exchange"


def exchange_root(environ=os.environ, system: str = SYSTEM_EXCHANGE) -> Path:
    """The exchange this process's nbgrader uses (see the module's docstring for the order)."""
    if environ.get(ENV):
        return Path(environ[ENV])
    if os.path.isdir(system):
        return Path(system)
    return per_user_exchange(environ)


@dataclass(frozen=True)
class Entry:
    """One directory of a course's exchange: where, its permission bits, and who owns it."""

    path: Path
    mode: int
    owner: str  # "instructor" or "root"
    why: str


def course_layout(root: Path, course_id: str) -> list[Entry]:
    """The directories of one course in the exchange, as a class server sets them up before nbgrader runs.

    nbgrader creates the same directories itself on the first release, owned by whoever releases, with the
    course's directory world-readable. Created in advance instead, the course's directory belongs to the
    instructor and to the class's group (mode 0750), so only the class reaches the released assignments and
    the inbox; and a student cannot claim the course's name first in the world-writable root."""
    course = root / course_id
    return [
        Entry(root, ROOT_MODE, "root", "world-writable and sticky: nbgrader requires 0777 on the root"),
        Entry(course, 0o2750, "instructor", "the class's group may enter; nobody else"),
        Entry(course / "outbound", 0o755, "instructor", "released assignments: the class reads them"),
        Entry(course / "inbound", 0o3733, "instructor",
              "submissions: students may add, cannot list, cannot delete another's (sticky)"),
        Entry(course / "feedback", 0o711, "instructor",
              "released feedback: each file is named by a secret only its student holds; cannot be listed"),
    ]


def unreachable(path: Path) -> Path | None:
    """The first directory on the way to ``path`` (or to where its symlinks lead) that other users cannot
    enter (no o+x), or the file itself when they cannot read it; None when every user can read it."""
    for p in dict.fromkeys([Path(os.path.abspath(path)), Path(os.path.realpath(path))]):
        for parent in reversed(p.parents):
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return parent
    return None if os.stat(path).st_mode & stat.S_IROTH else Path(os.path.realpath(path))


def ensure_personal(root: Path) -> None:
    """A per-user exchange: world-writable as nbgrader requires, inside a folder only its owner can enter."""
    root.parent.mkdir(parents=True, exist_ok=True)
    root.parent.chmod(0o700)
    root.mkdir(exist_ok=True)
    root.chmod(ROOT_MODE)


def main(environ=os.environ, system: str = SYSTEM_EXCHANGE, is_root: bool | None = None) -> int:
    """Make sure this user's exchange exists and say where it is (``make lab-instructor``)."""
    is_root = os.geteuid() == 0 if is_root is None else is_root
    if environ.get(ENV) or os.path.isdir(system) or is_root:
        # A shared exchange: the one named, the machine's, or the machine's created by root.
        root = Path(environ.get(ENV) or system)
        if not root.is_dir():
            try:
                root.mkdir(parents=True)
                root.chmod(ROOT_MODE)
            except PermissionError:
                print(f"nbgrader's exchange {root} does not exist and you may not create it: ask an administrator\n"
                      f"  to run `sudo make hub-users` (it creates it), or unset {ENV} to use a per-user one.",
                      file=sys.stderr)
                return 1
            print(f"nbgrader's exchange: {root} (created, mode {oct(ROOT_MODE)})")
        else:
            print(f"nbgrader's exchange: {root}")
        return 0
    root = per_user_exchange(environ)
    ensure_personal(root)
    print(f"nbgrader's exchange: {root}\n  (per-user: {system} does not exist and only root may create it;"
          f" a class server needs the\n  shared one: see README, 'Running a class on one server')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
