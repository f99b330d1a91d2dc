"""Who sent what: identities from nbgrader folders and LMS zips are kept exactly, never folded or merged,
and every submitter gets a row of their own (fast: no kernel, no sandbox)."""

from __future__ import annotations

import io
import zipfile

import pytest

from autograder import collect

NB = "01_tensors.ipynb"
A = "01_tensors"


def zipped(members: dict[str, bytes]):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf


def from_zip(tmp_path, members: dict[str, bytes]) -> dict[str, collect.Submission]:
    path = tmp_path / "class.zip"
    path.write_bytes(zipped(members).getvalue())
    subs = collect.from_zip(path, A, NB)
    assert len({s.student_id for s in subs}) == len(subs), "one row per id"
    return {s.student_id: s for s in subs}


def test_two_canvas_students_with_one_name_keep_their_own_user_ids(tmp_path):
    subs = from_zip(tmp_path, {"leeann_1001_5001_01_tensors.ipynb": b"ann one",
                               "leeann_1002_5002_01_tensors.ipynb": b"ann two",
                               "leeann_late_1002_5003_01_tensors-1.ipynb": b"ann two, resubmitted"})
    assert sorted(subs) == ["leeann_1001", "leeann_1002"]
    assert subs["leeann_1001"].data == b"ann one" and subs["leeann_1001"].filename == NB
    assert subs["leeann_1002"].status is None and subs["leeann_1002"].data in (b"ann two", b"ann two, resubmitted")


def test_moodle_keeps_the_participant_id_and_the_name_as_written(tmp_path):
    subs = from_zip(tmp_path, {"Zoë O'Brien_777_assignsubmission_file_/01_tensors.ipynb": b"z",
                               "Zoë O'Brien_778_assignsubmission_file_/01_tensors.ipynb": b"other"})
    assert subs["Zoë O'Brien_777"].data == b"z" and subs["Zoë O'Brien_778"].data == b"other"


def test_folders_that_differ_only_in_punctuation_are_three_students(tmp_path):
    for name in ("ann lee", "ann_lee", "ann?lee", "zoë.o'brien"):
        (tmp_path / name / A).mkdir(parents=True)
        (tmp_path / name / A / NB).write_bytes(name.encode())
    subs = {s.student_id: s for s in collect.from_directory(tmp_path, A, NB)}
    assert sorted(subs) == sorted(["ann lee", "ann_lee", "ann?lee", "zoë.o'brien"])
    assert all(s.data == sid.encode() for sid, s in subs.items())
    names = {collect.file_name(sid) for sid in subs}
    assert len(names) == 4 and not any("/" in n or n.startswith(".") for n in names)


@pytest.mark.parametrize("ids", [("a/b", "a%2Fb"), ("..", "%2E."), (".hidden", "%2Ehidden"), ("ann lee", "ann_lee"),
                                 ("ann%20lee", "ann lee"), ("%2E.", "..")])
def test_file_names_are_injective_and_safe(ids):
    a, b = ids
    assert collect.file_name(a) != collect.file_name(b)
    for name in map(collect.file_name, ids):
        assert "/" not in name and name not in (".", "..") and not name.startswith(".")


def test_nbgrader_layout_keeps_timestamp_and_secret_exactly(tmp_path):
    folder = tmp_path / "zoë" / A
    folder.mkdir(parents=True)
    (folder / NB).write_bytes(b"{}")
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00.000000 UTC")
    (folder / "submission_secret.txt").write_text("s3cret\n")
    (sub,) = collect.from_directory(tmp_path, A, NB)
    assert sub.student_id == "zoë" and sub.timestamp == "2026-12-01 10:00:00.000000 UTC"
    assert sub.nbgrader_files["submission_secret.txt"] == "s3cret\n"  # hashed as is by nbgrader


def test_a_member_nobody_sent_is_recorded_not_dropped(tmp_path):
    subs = from_zip(tmp_path, {"01_tensors.ipynb": b"whose?", "ben_12_34_01_tensors.ipynb": b"ben's"})
    assert subs["ben_12"].data == b"ben's"
    (orphan,) = [s for s in subs.values() if s.status == "unattributed"]
    assert "01_tensors.ipynb" in orphan.reason


def test_two_submitters_mapping_to_one_id_are_flagged_never_merged(tmp_path):
    subs = from_zip(tmp_path, {"export/ann_5/01_tensors/01_tensors.ipynb": b"from the nbgrader layout",
                               "ann_5_9_01_tensors.ipynb": b"from canvas"})
    assert subs["ann_5"].status == "duplicate_id" and subs["ann_5"].data is None
    assert "2 different submitters" in subs["ann_5"].reason


def test_path_tricks_in_zip_members_stay_names(tmp_path):
    subs = from_zip(tmp_path, {"../../evil_1_2_01_tensors.ipynb": b"x", "/abs/eve/01_tensors/01_tensors.ipynb": b"y"})
    assert sorted(subs) == ["eve", "evil_1"]


def test_no_folder_for_the_assignment_is_not_a_submission_an_empty_one_is_missing(tmp_path):
    (tmp_path / "ann" / "02_autodiff").mkdir(parents=True)  # ann submitted another assignment only
    (tmp_path / "ben" / A).mkdir(parents=True)              # ben's folder holds no notebook
    subs = {s.student_id: s for s in collect.from_directory(tmp_path, A, NB)}
    assert subs["ann"].status == "not_submitted" and subs["ben"].status == "missing"
