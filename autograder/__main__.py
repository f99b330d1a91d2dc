"""python -m autograder grade ASSIGNMENT [--submissions DIR|ZIP] [--out OUT] [--workers N] [--scheduler ADDRESS] [--db URL]
[--Autograder.<option>=VALUE ...]

Every limit is an option of ``config.Autograder``: set it in the course's nbgrader_config.py
(``c.Autograder.cell_timeout = 60``) or here (``--Autograder.cell_timeout=60``); see the README."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
from pathlib import Path

from . import batch, config, sandbox, template


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder", description="Grade a class's submissions safely.")
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade every submission of an assignment",
                       epilog="Limits: --Autograder.NAME=VALUE (e.g. --Autograder.cell_timeout=30) overrides "
                              "c.Autograder.NAME in the course's nbgrader_config.py. Options: "
                              + ", ".join(sorted(config.Autograder.class_trait_names(config=True))))
    g.add_argument("assignment", help="an assignment in source/, e.g. 01_tensors")
    g.add_argument("--submissions", type=Path, default=None,
                   help="DIR/<student_id>/<assignment>/<notebook>.ipynb, or an LMS .zip download "
                        "(default: the course's submitted/ folder, where nbgrader collect puts them)")
    g.add_argument("--out", type=Path, default=None,
                   help="where grades.csv, results/, feedback/ and report/ go (default: autograder/graded/ASSIGNMENT)")
    g.add_argument("--workers", type=int, default=None,
                   help="local worker processes (default: Autograder.workers, else one per CPU)")
    g.add_argument("--scheduler", default=None, help="a Dask scheduler, e.g. tcp://host:8786, instead of local workers")
    g.add_argument("--db", default=None,
                   help="gradebook SQLAlchemy URL (default: the course's, CourseDirectory.db_url in nbgrader_config.py)")
    g.add_argument("--unsafe-no-sandbox", action="store_true",
                   help="run student code without a sandbox (only for code you trust)")
    g.add_argument("--course", type=Path, default=template.ROOT,
                   help="the course folder holding source/, release/ and nbgrader_config.py (default: this project)")
    g.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    args, rest = parser.parse_known_args(argv)
    root = args.course.resolve()
    try:
        overrides = config.parse_overrides(rest)
    except config.ConfigError as e:
        parser.error(str(e))
    try:
        settings = config.load(root, overrides)
    except config.ConfigError as e:
        print(f"autograder: bad configuration: {e}", file=sys.stderr)
        return 4
    try:
        batch.grade_assignment(args.assignment, args.submissions, args.out, args.workers, args.scheduler, args.db,
                               args.unsafe_no_sandbox, root=root, settings=settings, quiet=args.quiet)
    except sandbox.SandboxUnavailable as e:
        print(f"autograder: refusing to run student code: {e}", file=sys.stderr)
        return 2
    except template.InstructorError as e:
        print(f"autograder: the assignment cannot be graded: {e}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    code = main()
    # Everything is written and closed by now. Run what a normal exit runs, then leave without the
    # interpreter's teardown of nbgrader's many modules (about half a second per batch).
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
