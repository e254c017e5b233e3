"""Atomic writes (the whole file or the previous one, with a plain write's permissions), a full
disk said in one line, and folders that cannot be written."""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pytest

from gan_style import disk
from gan_style.disk import check_writable, disk_full, free_space, write_atomic
from gan_style.errors import DiskFullError, GanStyleError


def test_writes_whole_file_with_the_umasks_permissions(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        write_atomic(tmp_path / "sub" / "a.json", lambda f: f.write(b"{}"))
    finally:
        os.umask(old)
    path = tmp_path / "sub" / "a.json"
    assert path.read_bytes() == b"{}"
    assert path.stat().st_mode & 0o777 == 0o640  # not mkstemp's 0600


def test_a_failed_write_keeps_the_previous_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_atomic(path, lambda f: f.write(b"old"))

    def half(f) -> None:
        f.write(b"ne")
        raise KeyboardInterrupt  # a kill mid-write

    with pytest.raises(KeyboardInterrupt):
        write_atomic(path, half)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def no_space(*_args: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_one_line_that_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_atomic(path, lambda f: f.write(b"old"))

    def half(f) -> None:
        f.write(b"ne")
        no_space()

    with pytest.raises(DiskFullError, match=r"no space left on the disk to write .*a\.json \("):
        write_atomic(path, half)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_pytorchs_own_error_for_a_full_disk_is_recognised() -> None:
    try:
        try:
            no_space()
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] unexpected pos") from None
    except RuntimeError as e:
        assert disk_full(e)
    assert not disk_full(RuntimeError("shapes do not match")) and not disk_full(None)


def test_free_space_reads_for_people(tmp_path: Path) -> None:
    assert re.fullmatch(r"\d+ (bytes|KiB)|\d+\.\d (MiB|GiB)", free_space(tmp_path / "not" / "yet"))


def test_a_folder_that_cannot_be_written_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    check_writable(tmp_path / "new" / "deeper")  # missing: created when written
    assert not (tmp_path / "new").exists() and list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(GanStyleError, match=r"cannot write the output folder .*file/out: .* is a"):
        check_writable(tmp_path / "file" / "out")
    real_open = os.open
    for code, said in [(errno.EROFS, "the disk is read-only"), (errno.EACCES, "permission denied")]:

        def refuse(path, *args, code=code):
            if Path(path).name.startswith(".gan_style_probe"):
                raise OSError(code, os.strerror(code), str(path))
            return real_open(path, *args)

        monkeypatch.setattr(disk.os, "open", refuse)
        with pytest.raises(GanStyleError, match=f"cannot write the run folder .*: {said} in "):
            check_writable(tmp_path / "runs", "run folder")
    assert [p.name for p in tmp_path.iterdir()] == ["file"]  # no probe left behind
