"""Find each student's submitted notebook, in nbgrader's layout or in an LMS zip download.

Directory: ``DIR/<student_id>/<assignment>/<notebook>.ipynb`` (nbgrader's submitted layout, with the
``timestamp.txt`` nbgrader's ``collect`` writes beside it). Zip: the same layout inside (under any top
folder), or the flat names LMSs use: Canvas ``<name>_[late_]<user id>_<submission id>_<file>.ipynb`` and
Moodle ``<Full Name>_<participant id>_assignsubmission_file_/<file>.ipynb``. A zip is read in memory:
nothing is extracted, member names never become paths, and sizes are checked before reading.

Identities are never folded: a student's id is the folder name exactly as nbgrader has it (accents,
dots, apostrophes and spaces included), or the LMS's name with the LMS's own user id (Canvas:
``leeann_12345``; Moodle: ``Ann Lee_555``), so the id can go back into the LMS gradebook and two
students who share a name never share a grade. Files named after an id use :func:`file_name`, which is
injective. A file nobody can be identified as the sender of is recorded (``unattributed``), not dropped.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from .grade import MAX_BYTES


@dataclass
class Submission:
    student_id: str
    filename: str | None = None
    data: bytes | None = None
    flags: tuple[str, ...] = ()
    status: str | None = None      # not_submitted | missing | ambiguous | too_large | unreadable | unattributed | duplicate_id
    reason: str = ""
    submitted_as: str = ""         # where it came from: the student's folder, or the zip members
    nbgrader_files: dict | None = None  # nbgrader's bookkeeping beside the notebook (NBGRADER_FILES)

    @property
    def timestamp(self) -> str | None:
        return (self.nbgrader_files or {}).get("timestamp.txt")


# What nbgrader's submit/collect keep beside a notebook: when it was submitted, and the secret that
# lets release_feedback/fetch_feedback give each student only their own feedback.
NBGRADER_FILES = ("timestamp.txt", "submission_secret.txt")


def file_name(student_id: str) -> str:
    """A file or folder name for ``student_id``: readable for ordinary ids and injective for all
    (two different ids never share a file), with no path separators and no leading dot."""
    name = quote(student_id, safe=" @+,'()=~")
    return "%2E" + name[1:] if name.startswith(".") else name


def valid_id(student_id: str) -> bool:
    """An id nbgrader can keep as a folder name under submitted/ and autograded/."""
    return (bool(student_id) and student_id not in (".", "..") and "/" not in student_id
            and not any(ord(ch) < 32 or ord(ch) == 127 for ch in student_id) and len(student_id) <= 255)


def _pick(student: str, files: dict[str, tuple], notebook: str, origin: str) -> Submission:
    """files: name -> (size, read()) of the .ipynb files a student sent for this assignment."""
    if notebook in files:
        chosen, flags = notebook, ()
    elif len(files) == 1:
        chosen = next(iter(files))
        flags = (f"the notebook was named {chosen!r}, not {notebook!r}: graded anyway",)
    elif not files:
        return Submission(student, status="missing", reason=f"no {notebook} was submitted", submitted_as=origin)
    else:
        return Submission(student, status="ambiguous", submitted_as=origin,
                          reason=f"{len(files)} notebooks and none named {notebook}: {sorted(files)[:5]}")
    size, read = files[chosen]
    if size > MAX_BYTES:
        return Submission(student, chosen, status="too_large", flags=flags, submitted_as=origin,
                          reason=f"the notebook is {size / 2**20:.1f} MiB, over the {MAX_BYTES // 2**20} MiB limit")
    return Submission(student, chosen, read(), flags, submitted_as=origin)


def _small_text(data: bytes) -> str | None:
    """The file's text exactly (nbgrader hashes the secret as it is), if it is short and not blank."""
    text = data.decode("utf-8", "replace")
    return text if text.strip() and len(text) <= 256 else None


def from_directory(root: Path, assignment: str, notebook: str) -> list[Submission]:
    subs = []
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        sid = student_dir.name
        folder = student_dir / assignment
        files, refused, kept = {}, [], {}
        if folder.is_dir() and not folder.is_symlink():
            for f in sorted(folder.glob("*.ipynb")):
                if f.is_symlink() or not f.is_file():
                    refused.append(f.name)
                    continue
                files[f.name] = (f.stat().st_size, f.read_bytes)
            for name in NBGRADER_FILES:
                f = folder / name
                if f.is_file() and not f.is_symlink() and f.stat().st_size <= 1024 and (text := _small_text(f.read_bytes())):
                    kept[name] = text
        sub = _pick(sid, files, notebook, str(folder))
        sub.nbgrader_files = kept
        if refused and sub.status == "missing":
            sub.status, sub.reason = "unreadable", f"{refused[0]} is a link or not a regular file: refused"
        if not folder.is_dir() and sub.status == "missing":  # nbgrader's notion: no folder, no submission
            sub.status, sub.reason = "not_submitted", f"no {assignment} folder: nothing was submitted for it"
        if not valid_id(sid):
            sub.status, sub.reason = "unattributed", f"the folder name {sid!r} cannot be a student id"
        subs.append(sub)
    return subs


def sender(parts: tuple[str, ...], assignment: str, notebook: str) -> tuple[str | None, str, str]:
    """Who sent a zip member: (student id, the file name they gave it, the submitter's origin).
    The origin names one submitter exactly (an LMS's name and user id, or a folder)."""
    if assignment in parts[:-1]:  # nbgrader layout: .../<student>/<assignment>/<file>
        i = parts.index(assignment)
        student = parts[i - 1] if i >= 1 else None
        return student, parts[-1], "/".join(parts[:i])
    if len(parts) >= 2 and "_assignsubmission_" in parts[-2]:  # Moodle: <Full Name>_<participant id>_assignsubmission_...
        student = parts[-2].split("_assignsubmission_")[0]
        return student or None, parts[-1], "/".join(parts[:-1])
    # Canvas: <name>_[late_]<user id>_<submission id>[_<more ids>]_<file>[-N].ipynb
    match = re.fullmatch(r"(?P<name>[^_]+)_(?:late_)?(?P<user>\d+)_(?P<rest>.+?)(?:-\d+)?\.ipynb", parts[-1])
    if not match:
        return None, parts[-1], "/".join(parts)
    tokens = match["rest"].split("_")
    names = ["_".join(tokens[i:]) + ".ipynb" for i in range(len(tokens)) if all(t.isdigit() for t in tokens[:i])]
    # the file's own name follows the ids; a file named like the assignment's notebook wins over digits in it
    name = notebook if notebook in names else names[min(1, len(names) - 1)]
    student = f"{match['name']}_{match['user']}"
    return student, name, student


def from_zip(path: Path, assignment: str, notebook: str, max_total: int = 2 * 2**30) -> list[Submission]:
    per_student: dict[str, dict] = {}
    origins: dict[str, set[str]] = {}
    kept: dict[str, dict] = {}
    unattributed = []
    with zipfile.ZipFile(path) as z:
        total = 0
        for info in z.infolist():
            if info.is_dir() or "__MACOSX" in info.filename:
                continue
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            parts = tuple(p for p in parts if p not in ("", ".", "..", "/"))
            if not parts:
                continue
            if parts[-1] in NBGRADER_FILES and info.file_size <= 1024 and assignment in parts[:-1]:
                student, _, _ = sender(parts[:-1] + ("x.ipynb",), assignment, notebook)
                if student and (text := _small_text(z.read(info))):
                    kept.setdefault(student, {})[parts[-1]] = text
                continue
            if not parts[-1].endswith(".ipynb"):
                continue
            student, name, origin = sender(parts, assignment, notebook)
            if not student or not valid_id(student):
                unattributed.append(Submission(
                    info.filename[:200], status="unattributed", submitted_as=info.filename,
                    reason=f"the zip member {info.filename!r} does not say who submitted it"))
                continue
            total += info.file_size
            if total > max_total:
                raise ValueError(f"{path} unpacks to more than {max_total // 2**30} GiB: refused")
            reader = (lambda z=z, info=info: _read_member(z, info))
            per_student.setdefault(student, {})[name] = (info.file_size, reader)
            origins.setdefault(student, set()).add(origin)
        subs = []
        for sid, files in sorted(per_student.items()):
            if len(origins[sid]) > 1:  # two submitters under one id: never merged, never one's grade for the other
                subs.append(Submission(sid, status="duplicate_id", submitted_as="; ".join(sorted(origins[sid])),
                                       reason=f"{len(origins[sid])} different submitters map to this id: "
                                              f"{sorted(origins[sid])}; grade them by hand"))
                continue
            sub = _pick(sid, files, notebook, f"{path.name}:{next(iter(origins[sid]))}")
            sub.nbgrader_files = kept.get(sid, {})
            subs.append(sub)
        return subs + _unique(unattributed)


def _unique(subs: list[Submission]) -> list[Submission]:
    seen, out = set(), []
    for s in subs:
        if s.student_id not in seen:
            seen.add(s.student_id)
            out.append(s)
    return out


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    with z.open(info) as f:
        data = f.read(MAX_BYTES + 1)
    return data
