"""Find each student's submitted notebook, in nbgrader's layout or in an LMS zip download.

Directory: ``DIR/<student_id>/<assignment>/<notebook>.ipynb`` (nbgrader's submitted layout).
Zip: the same layout inside (under any top folder), or the flat names LMSs use:
Canvas ``<student>_<ids...>_<file>.ipynb`` (``late`` after the name is skipped) and Moodle
``<Full Name>_<id>_assignsubmission_file_/<file>.ipynb``. A zip is read in memory: nothing is
extracted, member names never become paths, and sizes are checked before reading.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .grade import MAX_BYTES

SAFE_ID = re.compile(r"[^A-Za-z0-9._@+-]")


@dataclass
class Submission:
    student_id: str
    filename: str | None = None
    data: bytes | None = None
    flags: tuple[str, ...] = ()
    status: str | None = None      # missing | ambiguous | too_large | unreadable, when decided here
    reason: str = ""


def safe_id(raw: str) -> str:
    cleaned = SAFE_ID.sub("_", raw.strip()).strip("._") or "unnamed"
    return cleaned[:100]


def _pick(student: str, files: dict[str, callable], notebook: str) -> Submission:
    """files: name -> (size, read()) of the .ipynb files a student sent for this assignment."""
    if notebook in files:
        chosen, flags = notebook, ()
    elif len(files) == 1:
        chosen = next(iter(files))
        flags = (f"the notebook was named {chosen!r}, not {notebook!r}: graded anyway",)
    elif not files:
        return Submission(student, status="missing", reason=f"no {notebook} was submitted")
    else:
        return Submission(student, status="ambiguous",
                          reason=f"{len(files)} notebooks and none named {notebook}: {sorted(files)[:5]}")
    size, read = files[chosen]
    if size > MAX_BYTES:
        return Submission(student, chosen, status="too_large", flags=flags,
                          reason=f"the notebook is {size / 2**20:.1f} MiB, over the {MAX_BYTES // 2**20} MiB limit")
    return Submission(student, chosen, read(), flags)


def from_directory(root: Path, assignment: str, notebook: str) -> list[Submission]:
    subs = []
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        sid = safe_id(student_dir.name)
        folder = student_dir / assignment
        files, refused = {}, []
        if folder.is_dir() and not folder.is_symlink():
            for f in sorted(folder.glob("*.ipynb")):
                if f.is_symlink() or not f.is_file():
                    refused.append(f.name)
                    continue
                files[f.name] = (f.stat().st_size, f.read_bytes)
        sub = _pick(sid, files, notebook)
        if refused and sub.status == "missing":
            sub.status, sub.reason = "unreadable", f"{refused[0]} is a link or not a regular file: refused"
        if sid != student_dir.name:
            sub.flags += (f"student folder {student_dir.name!r} renamed to {sid!r}",)
        subs.append(sub)
    return subs


def _student_and_file(parts: tuple[str, ...], assignment: str) -> tuple[str | None, str]:
    """Who sent a zip member, and the file name they gave it."""
    if assignment in parts[:-1]:  # nbgrader layout: .../<student>/<assignment>/<file>
        i = parts.index(assignment)
        return (parts[i - 1] if i >= 1 else None), parts[-1]
    if len(parts) >= 2 and "_assignsubmission_" in parts[-2]:  # Moodle
        return parts[-2].split("_assignsubmission_")[0], parts[-1]
    tokens = parts[-1].split("_")  # Canvas: <student>_[late_]<ids>_<file>[-N].ipynb
    if len(tokens) < 2:
        return None, parts[-1]
    rest = tokens[1:]
    if rest[0] == "late":
        rest = rest[1:]
    while rest and rest[0].isdigit():
        rest = rest[1:]
    return tokens[0], re.sub(r"-\d+(\.ipynb)$", r"\1", "_".join(rest))


def from_zip(path: Path, assignment: str, notebook: str, max_total: int = 2 * 2**30) -> list[Submission]:
    per_student: dict[str, dict] = {}
    with zipfile.ZipFile(path) as z:
        total = 0
        for info in z.infolist():
            if info.is_dir() or not info.filename.endswith(".ipynb") or "__MACOSX" in info.filename:
                continue
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            student, name = _student_and_file(parts, assignment)
            if not student:
                continue
            total += info.file_size
            if total > max_total:
                raise ValueError(f"{path} unpacks to more than {max_total // 2**30} GiB: refused")
            reader = (lambda z=z, info=info: _read_member(z, info))
            per_student.setdefault(safe_id(student), {})[name] = (info.file_size, reader)
        return [_pick(sid, files, notebook) for sid, files in sorted(per_student.items())]


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with z.open(info) as f:
        data = f.read(MAX_BYTES + 1)
    return data
